//! The sign-in driver: complete sign-ins per second through the BFF, and the same provider
//! round trips made directly (the baseline), with the time spent in each step.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use reqwest::Client;
use serde_json::{json, Value};
use shared::pkce::CodeVerifier;

/// The steps of one sign-in, in order.
pub const STEPS: [&str; 4] = ["login", "consent page", "authorize", "callback"];
pub const BASELINE_STEPS: [&str; 4] = ["pkce", "consent page", "authorize", "token + /user"];

#[derive(Debug, Clone, Default)]
pub struct SignIns {
    pub completed: u64,
    pub failed: u64,
    pub elapsed: Duration,
    /// Total time spent in each step over all completed sign-ins.
    pub step_totals: [Duration; 4],
}

impl SignIns {
    pub fn per_second(&self) -> f64 {
        self.completed as f64 / self.elapsed.as_secs_f64()
    }

    pub fn step_mean_ms(&self, i: usize) -> f64 {
        self.step_totals[i].as_secs_f64() * 1000.0 / self.completed.max(1) as f64
    }
}

/// Who the driver signs in against.
#[derive(Clone)]
pub enum Target {
    /// The BFF at this base URL.
    Product { base: String },
    /// The emulator directly, doing what the BFF does itself.
    Provider {
        emulator: String,
        client_id: String,
        secret: String,
        callback: String,
    },
}

pub fn client() -> Client {
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .user_agent("bench")
        .pool_max_idle_per_host(64)
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client")
}

/// The next synthetic person of the emulator (`load-<n>`) to sign in.
static NEXT_PERSON: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Runs `concurrency` sign-in loops for `duration`.
pub async fn run(
    target: Target,
    concurrency: usize,
    duration: Duration,
) -> anyhow::Result<SignIns> {
    let http = client();
    let stop = Arc::new(AtomicBool::new(false));
    let totals = Arc::new(Mutex::new(SignIns::default()));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (http, stop, totals, target) =
            (http.clone(), stop.clone(), totals.clone(), target.clone());
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                // A person of their own each time: one person's sessions are capped, and
                // a crowd signing in is many people.
                let person = NEXT_PERSON.fetch_add(1, Ordering::Relaxed) % 1_000_000;
                let outcome = one(&http, &target, &format!("load-{person}")).await;
                let mut t = totals.lock().unwrap();
                match outcome {
                    Ok((steps, _)) => {
                        t.completed += 1;
                        for (total, step) in t.step_totals.iter_mut().zip(steps) {
                            *total += step;
                        }
                    }
                    Err(_) => t.failed += 1,
                }
            }
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        task.await?;
    }
    let mut result = totals.lock().unwrap().clone();
    result.elapsed = started.elapsed();
    if result.completed == 0 {
        bail!("no sign-in completed ({} failed)", result.failed);
    }
    Ok(result)
}

/// One sign-in; the time of each step, and the signed-in session cookie (product only).
pub async fn one(
    http: &Client,
    target: &Target,
    login: &str,
) -> anyhow::Result<([Duration; 4], Option<String>)> {
    let mut steps = [Duration::ZERO; 4];
    let mut t = Instant::now();
    let verifier = CodeVerifier::generate().map_err(|e| anyhow::anyhow!("{e}"))?;
    let challenge = verifier.challenge();
    let (authorize_url, cookie) = match target {
        Target::Product { base } => {
            let r = http
                .post(format!("{base}/api/auth/login"))
                .header("x-csrf", "1")
                .json(&json!({"provider": "github", "code_verifier": verifier.secret(), "code_challenge": challenge, "code_challenge_method": "S256"}))
                .send()
                .await?;
            let cookie = session_cookie(&r).context("no session cookie")?;
            let body: Value = r.error_for_status()?.json().await?;
            (
                body["authorize_url"]
                    .as_str()
                    .context("no authorize_url")?
                    .to_owned(),
                Some(cookie),
            )
        }
        Target::Provider {
            emulator,
            client_id,
            callback,
            ..
        } => {
            let mut url = url::Url::parse(&format!("{emulator}/login/oauth/authorize"))?;
            url.query_pairs_mut()
                .append_pair("client_id", client_id)
                .append_pair("redirect_uri", callback)
                .append_pair("scope", "read:user user:email")
                .append_pair("state", "bench")
                .append_pair("code_challenge", &challenge)
                .append_pair("code_challenge_method", "S256");
            (url.to_string(), None)
        }
    };
    steps[0] = lap(&mut t);

    let html = http
        .get(&authorize_url)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    let mut form = emulator::hidden_fields(&html);
    form.push(("login".into(), login.into()));
    form.push(("decision".into(), "approve".into()));
    steps[1] = lap(&mut t);

    let action = url::Url::parse(&authorize_url)?.join("/login/oauth/authorize")?;
    let r = http.post(action).form(&form).send().await?;
    let location = r
        .headers()
        .get("location")
        .context("no redirect")?
        .to_str()?
        .to_owned();
    let params: HashMap<String, String> = url::Url::parse(&location)?
        .query_pairs()
        .into_owned()
        .collect();
    let code = params.get("code").context("no code")?.clone();
    let state = params.get("state").context("no state")?.clone();
    steps[2] = lap(&mut t);

    let signed_in = match target {
        Target::Product { base } => {
            let r = http
                .post(format!("{base}/api/auth/callback"))
                .header("x-csrf", "1")
                .header("cookie", cookie.unwrap_or_default())
                .json(&json!({"code": code, "state": state}))
                .send()
                .await?
                .error_for_status()?;
            session_cookie(&r)
        }
        Target::Provider {
            emulator,
            client_id,
            secret,
            callback,
        } => {
            let token: Value = http
                .post(format!("{emulator}/login/oauth/access_token"))
                .header("accept", "application/json")
                .form(&[
                    ("client_id", client_id.as_str()),
                    ("client_secret", secret),
                    ("code", &code),
                    ("redirect_uri", callback),
                    ("code_verifier", verifier.secret()),
                ])
                .send()
                .await?
                .json()
                .await?;
            let access = token["access_token"].as_str().context("no token")?;
            http.get(format!("{emulator}/api/v3/user"))
                .bearer_auth(access)
                .send()
                .await?
                .error_for_status()?;
            None
        }
    };
    steps[3] = lap(&mut t);
    Ok((steps, signed_in))
}

fn lap(t: &mut Instant) -> Duration {
    let d = t.elapsed();
    *t = Instant::now();
    d
}

pub fn session_cookie(r: &reqwest::Response) -> Option<String> {
    r.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| {
            v.strip_prefix(shared::api::SESSION_COOKIE)
                .is_some_and(|rest| rest.starts_with('='))
        })
        .map(|v| v.split(';').next().unwrap_or("").to_owned())
}
