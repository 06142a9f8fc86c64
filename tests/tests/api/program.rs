//! The `backend` program itself: its log format and its refusals at start-up.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use backend::crypto::KeyRing;

fn program() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_bff-process"));
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("PORT", "0")
        .env("TOKEN_KEYS", KeyRing::generate_key());
    command
}

#[test]
fn log_format_json_writes_one_json_object_per_line() {
    let data = tempfile::tempdir().unwrap();
    let mut child = program()
        .env("DATA_DIR", data.path())
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let started = Instant::now();
    let mut seen = Vec::new();
    for line in lines {
        let line = line.unwrap();
        let object: serde_json::Value = serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("not a JSON object ({e}): {line}"));
        assert!(object["timestamp"].is_string(), "{line}");
        assert!(object["level"].is_string(), "{line}");
        let message = object["fields"]["message"]
            .as_str()
            .unwrap_or("")
            .to_owned();
        seen.push(message.clone());
        if message == "listening" || started.elapsed() > Duration::from_secs(20) {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.iter().any(|m| m.starts_with("DEV MODE")), "{seen:?}");
    assert!(seen.iter().any(|m| m == "listening"), "{seen:?}");
}

#[test]
fn unsafe_or_bad_settings_stop_start_up_with_one_line_naming_the_variable() {
    for (variable, value, expected) in [
        ("HOST", "0.0.0.0", "HOST=0.0.0.0"),
        ("LOG_FORMAT", "xml", "LOG_FORMAT"),
        ("GITHUB_PROXY_ALLOW", "repos/../admin", "GITHUB_PROXY_ALLOW"),
        ("METRICS_ADDR", "metrics.internal:9100", "METRICS_ADDR"),
    ] {
        let data = tempfile::tempdir().unwrap();
        let out = program()
            .env("DATA_DIR", data.path())
            .env(variable, value)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{variable}={value}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(expected), "{variable}: {stderr}");
    }
}

#[test]
fn each_bad_provider_entry_is_one_line() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("providers.toml");
    std::fs::write(
        &file,
        "[[oidc]]\nid = \"Okta!\"\nissuer = \"https://okta.example.com\"\n\
         client_id = \"c\"\nclient_secret = \"s\"\n",
    )
    .unwrap();
    let out = program()
        .env("DATA_DIR", data.path())
        .env("PROVIDERS_FILE", &file)
        .env("OIDC_CORP_ISSUER", "not a url")
        .env("OIDC_CORP_CLIENT_ID", "c")
        .env("OIDC_CORP_CLIENT_SECRET", "s")
        .env("OIDC_HALF_ISSUER", "https://idp.example.com")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<_> = stderr.trim().lines().collect();
    assert_eq!(lines.len(), 3, "{stderr}");
    assert!(lines.iter().all(|l| l.starts_with("error: ")), "{stderr}");
    for expected in ["\"okta!\"", "OIDC_CORP_*", "OIDC_HALF_*"] {
        assert!(
            stderr.to_lowercase().contains(&expected.to_lowercase()),
            "{expected}: {stderr}"
        );
    }
    // The secret never appears, even in an error.
    assert!(!stderr.contains("client_secret = "), "{stderr}");
}

#[test]
fn shared_sessions_with_users_numbered_per_instance_are_refused() {
    // Sessions in Redis are shared by every instance; users in each instance's own
    // SQLite file would be numbered apart, so one person's id would be another's.
    for database in [None, Some("sqlite:///tmp/bff-users.sqlite3")] {
        let data = tempfile::tempdir().unwrap();
        let mut command = program();
        command
            .env("DATA_DIR", data.path())
            .env("SESSION_STORE", "redis://127.0.0.1:1/0");
        if let Some(url) = database {
            command.env("DATABASE_URL", url);
        }
        let out = command.output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{database:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            stderr.contains("SESSION_STORE") && stderr.contains("DATABASE_URL"),
            "{stderr}"
        );
    }
}

#[test]
fn each_bad_api_table_is_one_line_and_overlaps_are_named() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("bff.toml");
    std::fs::write(
        &file,
        r#"
[[api]]
prefix = "auth"
upstream = "https://a.example.com"

[[api]]
prefix = "notes"
upstream = "http://notes.internal.example.com"

[[api]]
prefix = "team"
upstream = "https://team.example.com"

[[api]]
prefix = "team/v2"
upstream = "https://team2.example.com"

[[api]]
prefix = "tokens"
upstream = "https://t.example.com"
identity = "access-token"
providers = ["github"]
"#,
    )
    .unwrap();
    let out = program()
        .env("DATA_DIR", data.path())
        .env("CONFIG_FILE", &file)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<_> = stderr.trim().lines().collect();
    assert!(lines.iter().all(|l| l.starts_with("error: ")), "{stderr}");
    assert_eq!(lines.len(), 3, "one line per bad table: {stderr}");
    assert!(
        lines[0].contains("entry 1") && lines[0].contains("built-in"),
        "{stderr}"
    );
    assert!(
        lines[1].contains("entry 2") && lines[1].contains("https://"),
        "{stderr}"
    );
    assert!(
        lines[2].contains("entry 5") && lines[2].contains("GitHub"),
        "{stderr}"
    );

    // Good tables, but two of them overlap: caught once the whole file is read.
    std::fs::write(
        &file,
        "[[api]]\nprefix = \"team\"\nupstream = \"https://a.example.com\"\n\n\
         [[api]]\nprefix = \"team/v2\"\nupstream = \"https://b.example.com\"\n",
    )
    .unwrap();
    let out = program()
        .env("DATA_DIR", data.path())
        .env("PROVIDERS_FILE", &file)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(2),
        "the old variable name still reads the file"
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("\"team/v2\" overlaps \"team\""), "{stderr}");
}

#[test]
fn shared_sessions_need_configured_identity_keys() {
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("bff.toml");
    std::fs::write(
        &file,
        "[[api]]\nprefix = \"notes\"\nupstream = \"https://notes.example.com\"\n",
    )
    .unwrap();
    let out = program()
        .env("DATA_DIR", data.path())
        .env("CONFIG_FILE", &file)
        .env("SESSION_STORE", "redis://127.0.0.1:1/0")
        .env("DATABASE_URL", "postgres://bff@127.0.0.1:1/bff")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    assert!(stderr.contains("IDENTITY_KEYS"), "{stderr}");
}

/// `backend check` with `vars`, and its exit status and output.
fn check(args: &[&str], vars: &[(&str, &str)]) -> (Option<i32>, String) {
    let data = tempfile::tempdir().unwrap();
    let out = program()
        .arg("check")
        .args(args)
        .env("DATA_DIR", data.path())
        .envs(vars.iter().copied())
        .output()
        .unwrap();
    assert!(
        !data.path().join("bff.sqlite3").exists(),
        "check must not create the database"
    );
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// The line of `name` in the settings table, split into words.
fn setting<'a>(text: &'a str, name: &str) -> Vec<&'a str> {
    text.lines()
        .find(|l| l.split_whitespace().next() == Some(name))
        .unwrap_or_else(|| panic!("no {name} line in:\n{text}"))
        .split_whitespace()
        .collect()
}

#[test]
fn check_explains_every_setting_where_it_came_from_and_hides_secrets() {
    let (status, text) = check(
        &[],
        &[
            ("GITHUB_CLIENT_ID", "Iv1.abc"),
            ("GITHUB_CLIENT_SECRET", "a-very-secret-value"),
            ("GITHUB_ALLOWED_USERS", "octocat,id:583231"),
            ("DATABASE_URL", "sqlite:///tmp/bff-check.sqlite3"),
            (
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                "https://otel:hunter2@collector.example.com:4318",
            ),
        ],
    );
    assert_eq!(status, Some(0), "{text}");
    assert!(!text.contains("a-very-secret-value"), "{text}");
    assert!(
        text.contains("Traces: OTLP/HTTP to https://otel@collector.example.com:4318/v1/traces as service repo-desk-bff"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
    assert_eq!(
        setting(&text, "GITHUB_CLIENT_SECRET")[1..],
        ["variable", "[set]"]
    );
    assert_eq!(
        setting(&text, "GITHUB_CLIENT_ID")[1..],
        ["variable", "Iv1.abc"]
    );
    assert_eq!(setting(&text, "HOST")[1..], ["default", "127.0.0.1"]);
    assert_eq!(setting(&text, "PUBLIC_URL")[1..], ["unset"]);
    assert_eq!(setting(&text, "TOKEN_KEYS")[1..], ["variable", "[set]"]);
    assert!(
        text.contains("warning: GITHUB_ALLOWED_USERS names logins (octocat)"),
        "{text}"
    );
    assert!(
        text.contains("warning: this build includes the development provider"),
        "{text}"
    );
    assert!(text.contains("Start-up would accept"), "{text}");

    let (strict, _) = check(&["--strict"], &[("GITHUB_ALLOWED_USERS", "login:octocat")]);
    assert_eq!(strict, Some(1), "warnings fail a --strict check");
}

#[test]
fn check_lists_every_problem_start_up_would_refuse() {
    let (status, text) = check(
        &[],
        &[
            ("HOST", "0.0.0.0"),
            ("OIDC_HALF_ISSUER", "https://idp.example.com"),
        ],
    );
    assert_eq!(status, Some(2), "{text}");
    assert!(text.contains("error: OIDC_HALF_*"), "{text}");
    assert!(text.contains("Start-up would refuse"), "{text}");
    let (status, text) = check(&[], &[("HOST", "0.0.0.0")]);
    assert_eq!(status, Some(2), "{text}");
    assert!(text.contains("error: HOST=0.0.0.0"), "{text}");
}

#[tokio::test]
async fn check_probe_reaches_each_part_and_names_what_does_not_answer() {
    let emulator = emulator::Emulator::start(
        emulator::AppRegistration::random("Check", "http://localhost:3000/callback"),
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        1,
    )
    .unwrap();
    let closed = testkit::process::free_port();
    let data = tempfile::tempdir().unwrap();
    let file = data.path().join("bff.toml");
    std::fs::write(
        &file,
        format!(
            "[[api]]\nprefix = \"notes\"\nupstream = \"http://127.0.0.1:{closed}\"\nidentity = \"none\"\n"
        ),
    )
    .unwrap();
    let api_url = emulator.api_url().to_owned();
    let file = file.display().to_string();
    let (status, text) = tokio::task::spawn_blocking(move || {
        check(
            &["--probe"],
            &[
                ("GITHUB_CLIENT_ID", "Iv1.abc"),
                ("GITHUB_CLIENT_SECRET", "s"),
                ("GITHUB_API_URL", api_url.as_str()),
                ("CONFIG_FILE", file.as_str()),
            ],
        )
    })
    .await
    .unwrap();
    assert_eq!(status, Some(2), "{text}");
    let line = |start: &str, what: &str| {
        text.lines()
            .any(|l| l.trim_start().starts_with(start) && l.contains(what))
    };
    assert!(line("ok", "GitHub API"), "{text}");
    assert!(line("ok", "SQLite file"), "{text}");
    assert!(line("FAIL", "API /api/notes upstream"), "{text}");
    assert!(text.contains("unreachable"), "{text}");
}
