//! `backend check`: the configuration, explained, without starting anything. It reads
//! the variables, flags and configuration file exactly as start-up does, prints every
//! setting with its value and where it came from (secrets as `[set]`), the problems
//! start-up would refuse and the warnings an operator should read, and with `--probe`
//! reaches each provider, store and upstream API.
//!
//! Exit status: 2 when start-up would refuse (or a probe failed), 1 for warnings with
//! `--strict`, 0 otherwise.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::ArgMatches;

use crate::clock::Clock;
use crate::config::args::Args;
use crate::config::{AllowedUser, Identity, Settings};
use crate::providers::oidc::OidcProvider;

/// How long each probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub fn run(args: Args, matches: &ArgMatches, probe: bool, strict: bool) -> ExitCode {
    let shown = Args::explain(matches);
    let width = shown.iter().map(|s| s.name.len()).max().unwrap_or(0);
    println!("Settings (where each value came from: variable, flag, default or unset):");
    for setting in &shown {
        println!(
            "  {:width$}  {:<8}  {}",
            setting.name, setting.source, setting.value
        );
    }
    let mut problems: Vec<String> = Vec::new();
    let mut warnings: Vec<String> = Vec::new();
    match args.settings() {
        Ok(settings) => {
            describe(&settings);
            warnings = warnings_of(&settings);
            if probe {
                println!("\nProbes:");
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("a runtime for the probes");
                for (what, outcome) in runtime.block_on(probes(&settings)) {
                    match outcome {
                        Ok(took) => println!("  ok    {what} ({} ms)", took.as_millis()),
                        Err(why) => {
                            println!("  FAIL  {what}: {why}");
                            problems.push(format!("{what}: {why}"));
                        }
                    }
                }
            }
        }
        Err(message) => problems.extend(message.lines().map(str::to_owned)),
    }
    println!();
    for warning in &warnings {
        println!("warning: {warning}");
    }
    for problem in &problems {
        println!("error: {problem}");
    }
    if !problems.is_empty() {
        println!("\nStart-up would refuse this configuration, or a probe failed.");
        ExitCode::from(2)
    } else if !warnings.is_empty() && strict {
        println!("\nNo problems; {} warning(s) (--strict).", warnings.len());
        ExitCode::from(1)
    } else {
        println!("\nStart-up would accept this configuration.");
        ExitCode::SUCCESS
    }
}

/// What the configuration file and the `OIDC_*` variables added.
fn describe(settings: &Settings) {
    if settings.dev_mode() {
        println!("\nProviders: the development provider (dev mode)");
    } else {
        let github = settings.github.client.as_ref().map(|_| "github");
        let oidc = settings
            .oidc
            .iter()
            .map(|p| format!("{} ({})", p.id, p.issuer));
        let all: Vec<String> = github.map(str::to_owned).into_iter().chain(oidc).collect();
        println!("\nProviders: {}", all.join(", "));
    }
    println!("Traces: {}", crate::telemetry::traces::describe());
    for api in &settings.apis {
        let mut traits = vec![format!("identity {}", api.identity.as_str())];
        if api.websocket {
            traits.push("websocket".into());
        }
        if api.public {
            traits.push("public".into());
        }
        if !api.providers.is_empty() {
            traits.push(format!("providers {}", api.providers.join(" ")));
        }
        println!(
            "API /api/{} -> {} ({})",
            api.prefix,
            api.upstream,
            traits.join(", ")
        );
    }
}

/// What an operator should know although start-up accepts it.
pub fn warnings_of(settings: &Settings) -> Vec<String> {
    let mut warnings = Vec::new();
    if settings.dev_mode() {
        warnings.push(
            "dev mode: no GitHub credentials and no OpenID Connect provider, so the development provider signs anyone in as a fixture account".to_owned(),
        );
    } else if cfg!(feature = "dev-provider") {
        warnings.push(
            "this build includes the development provider; a production build leaves it out (cargo build --release -p backend --no-default-features)".to_owned(),
        );
    }
    let logins: Vec<&str> = settings
        .github
        .allow
        .users
        .iter()
        .filter_map(|u| match u {
            AllowedUser::Login(login) => Some(login.as_str()),
            AllowedUser::Id(_) => None,
        })
        .collect();
    if !logins.is_empty() {
        warnings.push(format!(
            "GITHUB_ALLOWED_USERS names logins ({}): a login can be given up and taken by someone else; ids (id:583231) cannot",
            logins.join(", ")
        ));
    }
    if !settings.dev_mode() && settings.stores.token_keys.is_none() {
        warnings.push(
            "TOKEN_KEYS is unset: tokens are sealed with a key generated into DATA_DIR; set it from a secret store so a restored or moved instance can still read them".to_owned(),
        );
    }
    let signs = settings.apis.iter().any(|a| a.identity == Identity::Jwt);
    if signs && settings.stores.identity_keys.is_none() {
        warnings.push(
            "IDENTITY_KEYS is unset: identity tokens are signed with a key generated into DATA_DIR"
                .to_owned(),
        );
    }
    let public = settings.public_url();
    let loopback = public
        .host_str()
        .is_some_and(|h| h == "localhost" || h.starts_with("127.") || h == "[::1]");
    if public.scheme() == "http" && !loopback {
        warnings.push(format!(
            "PUBLIC_URL {} is plain http: browsers keep the __Host- session cookie only over https",
            settings.public_origin()
        ));
    }
    if let Some(addr) = settings.server.metrics_addr {
        if !addr.ip().is_loopback() {
            warnings.push(format!(
                "METRICS_ADDR {addr} is not a loopback address: anyone who can reach it reads the metrics"
            ));
        }
    }
    warnings
}

/// One line per provider, store and upstream API.
async fn probes(settings: &Settings) -> Vec<(String, Result<Duration, String>)> {
    let mut lines = Vec::new();
    let http = reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("an HTTP client");
    if settings.github.client.is_some() {
        let url = settings.github.api_url.clone();
        lines.push((
            format!("GitHub API {url} answers"),
            reach(&http, url.as_str()).await,
        ));
    } else if settings.dev_mode() {
        lines.push((
            "the development provider runs inside the BFF".to_owned(),
            Ok(Duration::ZERO),
        ));
    }
    for oidc in &settings.oidc {
        let started = Instant::now();
        let outcome = OidcProvider::discover(
            oidc.clone(),
            settings.redirect_uri(),
            PROBE_TIMEOUT,
            Clock::default(),
        )
        .await
        .map(|_| started.elapsed())
        .map_err(|e| format!("{e:#}"));
        lines.push((
            format!(
                "OpenID Connect provider {} ({}): discovery and signing keys",
                oidc.id, oidc.issuer
            ),
            outcome,
        ));
    }
    lines.extend(crate::store::probe::probe(settings).await);
    for api in &settings.apis {
        lines.push((
            format!("API /api/{} upstream {} answers", api.prefix, api.upstream),
            reach(&http, api.upstream.as_str()).await,
        ));
    }
    lines
}

/// Any HTTP answer from `url` (a 404 is still a server that answers).
async fn reach(http: &reqwest::Client, url: &str) -> Result<Duration, String> {
    let started = Instant::now();
    http.get(url)
        .send()
        .await
        .map(|_| started.elapsed())
        .map_err(|e| {
            if e.is_timeout() {
                format!("no answer in {} s", PROBE_TIMEOUT.as_secs())
            } else {
                "unreachable (connection refused, or no such host)".to_owned()
            }
        })
}
