//! Security properties as assertions: cookie flags, and no token, code, verifier or secret
//! in any response body or log line.

use serde_json::json;

use crate::helpers::{logs, pkce_pair, spawn_app};
use backend::web::cookie::COOKIE_NAME;

#[tokio::test]
async fn the_session_cookie_has_every_protective_attribute() {
    let app = spawn_app().await;
    let response = app.browser.login(None).await;
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    let url: serde_json::Value = response.json().await.unwrap();
    for cookie in [set_cookie, {
        let redirect = app
            .browser
            .authorize(url["authorize_url"].as_str().unwrap(), "octocat", "approve")
            .await;
        let done = app.browser.callback(&redirect).await;
        done.headers()["set-cookie"].to_str().unwrap().to_owned()
    }] {
        assert!(cookie.starts_with(&format!("{COOKIE_NAME}=")), "{cookie}");
        let attrs: Vec<String> = cookie
            .split(';')
            .skip(1)
            .map(|a| a.trim().to_ascii_lowercase())
            .collect();
        assert!(attrs.contains(&"httponly".to_owned()), "{cookie}");
        assert!(attrs.contains(&"secure".to_owned()), "{cookie}");
        assert!(attrs.contains(&"samesite=strict".to_owned()), "{cookie}");
        assert!(attrs.contains(&"path=/".to_owned()), "{cookie}");
        assert!(!attrs.iter().any(|a| a.starts_with("domain")), "{cookie}");
        let value = cookie.split(';').next().unwrap().split_once('=').unwrap().1;
        assert_eq!(value.len(), 43, "256 random bits, base64url");
    }
    let logout = app.browser.logout().await;
    let removal = logout.headers()["set-cookie"].to_str().unwrap();
    assert!(removal.contains("Max-Age=0"), "{removal}");
    assert!(
        removal.contains("HttpOnly") && removal.contains("Secure"),
        "{removal}"
    );
}

#[tokio::test]
async fn no_token_code_verifier_or_secret_appears_in_bodies_or_logs() {
    let app = spawn_app().await;
    let mut bodies = String::new();

    // A full sign-in with a verifier we know.
    let (verifier, challenge) = pkce_pair();
    let response = app
        .browser
        .post_json(
            "/api/auth/login",
            &json!({"provider": "github", "code_verifier": verifier, "code_challenge": challenge, "code_challenge_method": "S256"}),
        )
        .await;
    let login: serde_json::Value = response.json().await.unwrap();
    bodies.push_str(&login.to_string());
    let redirect = app
        .browser
        .authorize(
            login["authorize_url"].as_str().unwrap(),
            "octocat",
            "approve",
        )
        .await;
    let code = redirect.get("code").to_owned();
    for response in [
        app.browser.callback(&redirect).await,
        app.browser.callback(&redirect).await, // replay: error path
        app.browser.get("/api/me").await,
        app.browser.get("/api/me/repos").await,
        app.browser
            .post_json(
                "/api/auth/callback",
                &json!({"code": ["gho_in_a_list"], "state": 1}),
            )
            .await,
        app.browser.logout().await,
    ] {
        bodies.push_str(&response.text().await.unwrap());
    }
    let tokens = app.control().issued_tokens();
    assert_eq!(tokens.len(), 1);
    let secret = app.control().app().client_secret.clone();
    let session_cookie_values: Vec<String> = app
        .browser
        .cookies
        .lock()
        .unwrap()
        .values()
        .cloned()
        .collect();

    let log = logs().text();
    assert!(log.contains("signed in"), "logs were captured");
    let mut secrets = vec![
        tokens[0].clone(),
        code.clone(),
        verifier.clone(),
        secret,
        "gho_in_a_list".to_owned(),
    ];
    secrets.extend(session_cookie_values);
    for needle in &secrets {
        assert!(
            !bodies.contains(needle.as_str()),
            "a secret leaked into a response body"
        );
        assert!(
            !log.contains(needle.as_str()),
            "a secret leaked into the log"
        );
    }
    // The state is not a secret in the same way, but it is single use: not logged either.
    assert!(!log.contains(redirect.get("state")));
}

#[tokio::test]
async fn tokens_are_not_stored_in_plaintext() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    let token = app.control().issued_tokens().pop().unwrap();
    let cookie = app.browser.session_cookie().unwrap();
    // Every file in DATA_DIR, and every stored session (which may live in Redis).
    let mut everything = Vec::new();
    for entry in std::fs::read_dir(&app.settings.server.data_dir).unwrap() {
        everything.extend(std::fs::read(entry.unwrap().path()).unwrap());
    }
    let mut haystack = String::from_utf8_lossy(&everything).into_owned();
    haystack.push_str(&app.stored_data("octocat").await);
    assert!(haystack.contains("octocat"), "the stores were read");
    assert!(
        !haystack.contains(&token),
        "the access token is sealed at rest"
    );
    assert!(
        !haystack.contains(&cookie),
        "only a hash of the session id is stored"
    );
}

#[tokio::test]
async fn an_unreadable_stored_session_is_logged_without_quoting_it() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    // Damage the stored session so that parsing it fails on a value that is personal data.
    app.overwrite_stored_data("", r#"{"user":{"id":"mona.private@example.com"}}"#)
        .await;

    assert_eq!(app.browser.get("/api/me").await.status(), 401);
    let log = logs().text();
    assert!(log.contains("discarding an unreadable session"), "{log}");
    assert!(
        !log.contains("mona.private@example.com"),
        "a stored value was quoted in the log"
    );
}

#[tokio::test]
async fn a_data_dir_open_to_others_is_reported_at_start_up() {
    use std::os::unix::fs::PermissionsExt;
    let mut app = spawn_app().await;
    std::fs::set_permissions(
        &app.settings.server.data_dir,
        std::fs::Permissions::from_mode(0o755),
    )
    .unwrap();
    app.restart().await;
    assert!(logs().text().contains("DATA_DIR is open to other users"));
}
