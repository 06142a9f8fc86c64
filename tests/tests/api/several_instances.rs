//! Two BFF processes behind one origin, one Redis, one PostgreSQL, the emulator in its
//! own process: whatever one instance does, the other honours on its very next request.
//! Requests alternate between the instances with one cookie jar, as a round-robin
//! proxy in front of them would send them.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use backend::crypto::KeyRing;
use reqwest::StatusCode;
use serde_json::Value;
use testkit::process::{free_port, ChildGuard as Process};

use crate::helpers::{
    assert_error, wait_until_answers, Browser, PostgresServer, RedisServer, PUBLIC_URL,
};

const CLIENT_ID: &str = "several-instances-client";
const CLIENT_SECRET: &str = "several-instances-secret";

/// The emulator as its own process; returns it and its base URL.
fn start_emulator() -> (Process, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_emulator-process"))
        .args(["--client-id", CLIENT_ID, "--client-secret", CLIENT_SECRET])
        .args(["--callback-url", &format!("{PUBLIC_URL}/callback")])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("emulator listening on ")
        .unwrap_or_else(|| panic!("unexpected emulator output {line:?}"))
        .to_owned();
    (Process::new(child), url)
}

/// Everything both instances share.
struct Shared {
    redis: RedisServer,
    postgres: PostgresServer,
    database_url: String,
    emulator_url: String,
    token_keys: String,
    _emulator: Process,
}

impl Shared {
    async fn start() -> Self {
        let postgres = PostgresServer::start();
        let database_url = postgres.new_database().await;
        let (emulator, emulator_url) = start_emulator();
        Self {
            redis: RedisServer::start_persistent(),
            postgres,
            database_url,
            emulator_url,
            token_keys: KeyRing::generate_key(),
            _emulator: emulator,
        }
    }

    /// A BFF process on these stores, answering on its own port.
    async fn instance(&self) -> (Process, String) {
        let port = free_port();
        let data = tempfile::tempdir().unwrap().keep();
        let child = Command::new(env!("CARGO_BIN_EXE_bff-process"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("RUST_LOG", "warn")
            .env("HOST", "127.0.0.1")
            .env("PORT", port.to_string())
            .env("PUBLIC_URL", PUBLIC_URL)
            .env("DATA_DIR", &data)
            .env("SESSION_STORE", self.redis.url())
            .env("DATABASE_URL", &self.database_url)
            .env("GITHUB_CLIENT_ID", CLIENT_ID)
            .env("GITHUB_CLIENT_SECRET", CLIENT_SECRET)
            .env("GITHUB_OAUTH_URL", &self.emulator_url)
            .env("GITHUB_API_URL", format!("{}/api/v3", self.emulator_url))
            .env("TOKEN_KEYS", &self.token_keys)
            .env("TRUSTED_PROXIES", "127.0.0.1")
            .env("AUTH_RATE_LIMIT_PER_MIN", "6")
            .env("PROVIDER_TIMEOUT_MS", "2000")
            .env("WORKERS", "1")
            .spawn()
            .unwrap();
        let process = Process::new(child);
        let base = format!("http://127.0.0.1:{port}");
        wait_until_answers(&base, "/healthz", "the BFF did not start").await;
        (process, base)
    }
}

/// Polls `path` until it answers something other than 503 (a store reconnecting), and
/// fails on a 500 at any point.
async fn settled_status(browser: &Browser, path: &str) -> StatusCode {
    let started = Instant::now();
    loop {
        let status = browser.get(path).await.status();
        assert_ne!(
            status,
            StatusCode::INTERNAL_SERVER_ERROR,
            "{path} answered 500"
        );
        if status != StatusCode::SERVICE_UNAVAILABLE {
            return status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{path} kept answering 503"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn two_instances_behind_one_origin_behave_as_one() {
    crate::helpers::logs();
    let mut shared = Shared::start().await;
    let (mut a_process, a) = shared.instance().await;
    let (_b_process, b) = shared.instance().await;

    // Sign in through A, read through B.
    let on_a = Browser::new(&a).seen_from("198.51.100.1");
    let on_b = on_a.on(&b);
    let done = on_a.sign_in_as("octocat").await;
    assert_eq!(done["user"]["login"], "octocat");
    let me: Value = on_b.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["login"], "octocat");
    // Warm A's read cache, then sign out on B: A's very next request is refused.
    assert_eq!(on_a.get("/api/me").await.status(), 200);
    assert_eq!(on_a.get("/api/me").await.status(), 200);
    let cookie = on_a.session_cookie().unwrap();
    assert_eq!(on_b.logout().await.status(), 204);
    let replay = on_a.send(on_a.raw().get(format!("{a}/api/me")).header(
        "cookie",
        format!("{}={cookie}", backend::web::cookie::COOKIE_NAME),
    ));
    assert_error(replay.await, 401, "unauthenticated").await;

    // "Sign out everywhere" on A ends the sessions held through B.
    let laptop_a = Browser::new(&a).seen_from("198.51.100.5");
    let phone_b = Browser::new(&b).seen_from("198.51.100.6");
    laptop_a.sign_in_as("octocat").await;
    phone_b.sign_in_as("octocat").await;
    assert_eq!(phone_b.get("/api/me").await.status(), 200);
    let everywhere = laptop_a
        .post_json("/api/auth/logout", &serde_json::json!({"everywhere": true}))
        .await;
    assert_eq!(everywhere.status(), 204);
    assert_error(phone_b.get("/api/me").await, 401, "unauthenticated").await;

    // The rate limit counts requests to A and B together: six per minute in all.
    let limited_a = Browser::new(&a).seen_from("203.0.113.7");
    let limited_b = Browser::new(&b).seen_from("203.0.113.7");
    for n in 0..6 {
        let browser = if n % 2 == 0 { &limited_a } else { &limited_b };
        assert_eq!(browser.login(None).await.status(), 200, "login {n}");
    }
    assert_error(limited_a.login(None).await, 429, "rate_limited").await;
    assert_error(limited_b.login(None).await, 429, "rate_limited").await;

    // A sign-in started on A finishes on B after A is gone: the pending login lives in
    // Redis.
    let halfway_a = Browser::new(&a).seen_from("198.51.100.2");
    let halfway_b = halfway_a.on(&b);
    let url = halfway_a.start_login().await;
    a_process.kill();
    let redirect = halfway_a.authorize(&url, "hubot", "approve").await;
    let finished = halfway_b.callback(&redirect).await;
    assert_eq!(finished.status(), 200);
    let finished: Value = finished.json().await.unwrap();
    assert_eq!(finished["user"]["login"], "hubot");

    // Redis restarts with its data (append-only file): the instance reconnects by itself
    // and the session is still there; never a 500 on the way.
    shared.redis.restart();
    assert_eq!(settled_status(&halfway_b, "/api/me").await, 200);
    let again: Value = halfway_b.get("/api/me").await.json().await.unwrap();
    assert_eq!(again["login"], "hubot");
}

#[tokio::test]
async fn after_a_postgresql_restart_the_first_requests_succeed() {
    crate::helpers::logs();
    let shared = Shared::start().await;
    let (_a_process, a) = shared.instance().await;
    let first = Browser::new(&a).seen_from("198.51.100.4");
    let second = Browser::new(&a).seen_from("198.51.100.5");
    // Both hold connections in the worker's pool: a user upsert and an audit event each.
    first.sign_in_as("octocat").await;
    second.sign_in_as("hubot").await;

    // Every connection the instance holds is closed by the server. The first requests
    // after it must not be the ones that find out: no 500, no 503.
    shared.postgres.restart();
    let activity = first.get("/api/me/activity").await;
    assert_eq!(activity.status(), 200);
    let events: Vec<Value> = activity.json().await.unwrap();
    assert_eq!(events[0]["kind"], "sign_in_succeeded", "{events:?}");
    second.sign_in_as("hubot").await;
    let events: Vec<Value> = second.get("/api/me/activity").await.json().await.unwrap();
    let sign_ins = events
        .iter()
        .filter(|e| e["kind"] == "sign_in_succeeded")
        .count();
    assert_eq!(sign_ins, 2, "{events:?}");
}

#[tokio::test]
async fn a_redis_that_lost_its_data_signs_people_out_cleanly() {
    crate::helpers::logs();
    let shared = Shared::start().await;
    let (_a_process, a) = shared.instance().await;
    let on_a = Browser::new(&a).seen_from("198.51.100.3");
    on_a.sign_in_as("octocat").await;
    assert_eq!(on_a.get("/api/me").await.status(), 200);

    // The server comes back empty (as a Redis without persistence does).
    let mut shared = shared;
    shared.redis.restart_empty();
    assert_eq!(settled_status(&on_a, "/api/me").await, 401);
    // And a new sign-in works on the new, empty server.
    on_a.sign_in_as("octocat").await;
    assert_eq!(on_a.get("/api/me").await.status(), 200);
    let ready: Value = on_a.get("/readyz").await.json().await.unwrap();
    assert_eq!(ready["stores"]["sessions"]["kind"], "redis");
    assert_eq!(ready["stores"]["users"]["kind"], "postgres");
}

#[tokio::test]
async fn start_up_with_an_unreachable_store_fails_with_one_line_naming_it() {
    for (variable, value) in [
        (
            "SESSION_STORE",
            format!("redis://127.0.0.1:{}/", free_port()),
        ),
        (
            "DATABASE_URL",
            format!("postgres://postgres@127.0.0.1:{}/bff", free_port()),
        ),
    ] {
        let data = tempfile::tempdir().unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_bff-process"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("PORT", "0")
            .env("DATA_DIR", data.path())
            .env("TOKEN_KEYS", KeyRing::generate_key())
            // Shared sessions need a shared users database; Redis is reached first.
            .env(
                "DATABASE_URL",
                format!("postgres://postgres@127.0.0.1:{}/bff", free_port()),
            )
            .env(variable, &value)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let stderr = String::from_utf8_lossy(&out.stderr);
        let line = stderr
            .lines()
            .find(|l| l.starts_with("error:"))
            .unwrap_or_else(|| panic!("no error line in {stderr}"));
        assert!(line.contains(variable), "{line}");
        assert!(line.contains("unreachable"), "{line}");
    }
}
