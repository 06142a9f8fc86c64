//! `POST /api/auth/login`: PKCE checks, providers, `return_to`, pending-login limits.

use serde_json::{json, Value};

use crate::helpers::{assert_error, pkce_pair, spawn_app};

fn body(verifier: &str, challenge: &str, method: &str) -> Value {
    json!({"provider": "github", "code_verifier": verifier, "code_challenge": challenge, "code_challenge_method": method})
}

#[tokio::test]
async fn a_verifier_that_does_not_match_its_challenge_is_rejected() {
    let app = spawn_app().await;
    let (verifier, _) = pkce_pair();
    let (_, other_challenge) = pkce_pair();
    let response = app
        .browser
        .post_json(
            "/api/auth/login",
            &body(&verifier, &other_challenge, "S256"),
        )
        .await;
    let err = assert_error(response, 400, "invalid_request").await;
    assert!(err["message"].as_str().unwrap().contains("code_challenge"));
}

#[tokio::test]
async fn short_long_and_illegal_verifiers_are_rejected() {
    let app = spawn_app().await;
    let cases = [
        "a".repeat(42),
        "a".repeat(129),
        format!("{}+/", "a".repeat(50)),
        format!("{} ", "a".repeat(50)),
        format!("{}é", "a".repeat(50)),
        String::new(),
    ];
    for verifier in cases {
        let challenge = shared::pkce::challenge_s256(&verifier);
        let response = app
            .browser
            .post_json("/api/auth/login", &body(&verifier, &challenge, "S256"))
            .await;
        assert_error(response, 400, "invalid_request").await;
    }
    let edge = "a".repeat(43);
    let ok = app
        .browser
        .post_json(
            "/api/auth/login",
            &body(&edge, &shared::pkce::challenge_s256(&edge), "S256"),
        )
        .await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn the_plain_method_is_refused() {
    let app = spawn_app().await;
    let (verifier, _) = pkce_pair();
    let response = app
        .browser
        .post_json("/api/auth/login", &body(&verifier, &verifier, "plain"))
        .await;
    let err = assert_error(response, 400, "invalid_request").await;
    assert!(err["message"].as_str().unwrap().contains("S256"));
}

#[tokio::test]
async fn an_unknown_provider_is_refused() {
    let app = spawn_app().await;
    let (verifier, challenge) = pkce_pair();
    let mut request = body(&verifier, &challenge, "S256");
    request["provider"] = json!("gitlab");
    let response = app.browser.post_json("/api/auth/login", &request).await;
    assert_error(response, 400, "unknown_provider").await;
}

#[tokio::test]
async fn the_authorize_url_carries_state_and_the_s256_challenge() {
    let app = spawn_app().await;
    let (verifier, challenge) = pkce_pair();
    let response = app
        .browser
        .post_json("/api/auth/login", &body(&verifier, &challenge, "S256"))
        .await;
    let json: Value = response.json().await.unwrap();
    let url = url::Url::parse(json["authorize_url"].as_str().unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q["code_challenge"], challenge);
    assert_eq!(q["code_challenge_method"], "S256");
    assert_eq!(q["redirect_uri"], crate::helpers::CALLBACK_URL);
    assert_eq!(q["scope"], "read:user user:email");
    assert!(q["state"].len() >= 43);
    assert!(
        !json.to_string().contains(&verifier),
        "the verifier never comes back"
    );
}

#[tokio::test]
async fn open_redirect_return_to_values_become_root() {
    let app = spawn_app().await;
    for hostile in [
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "http:evil.example",
        "/\t/evil.example",
        " /dashboard",
    ] {
        let browser = app.new_browser();
        let response = browser.login(Some(hostile)).await;
        assert_eq!(response.status(), 200, "{hostile:?}");
        let url: Value = response.json().await.unwrap();
        let redirect = browser
            .authorize(url["authorize_url"].as_str().unwrap(), "octocat", "approve")
            .await;
        let done: Value = browser.callback(&redirect).await.json().await.unwrap();
        assert_eq!(done["return_to"], "/", "{hostile:?}");
    }
    let browser = app.new_browser();
    let response = browser.login(Some("/dashboard?tab=repos")).await;
    let url: Value = response.json().await.unwrap();
    let redirect = browser
        .authorize(url["authorize_url"].as_str().unwrap(), "octocat", "approve")
        .await;
    let done: Value = browser.callback(&redirect).await.json().await.unwrap();
    assert_eq!(done["return_to"], "/dashboard?tab=repos");
}

#[tokio::test]
async fn only_the_five_newest_pending_logins_are_kept() {
    let app = spawn_app().await;
    let mut urls = Vec::new();
    for _ in 0..6 {
        urls.push(app.browser.start_login().await);
    }
    // The oldest was pushed out; the newest five still work.
    let oldest = app.browser.authorize(&urls[0], "octocat", "approve").await;
    assert_error(app.browser.callback(&oldest).await, 400, "invalid_state").await;
    let newest = app.browser.authorize(&urls[5], "octocat", "approve").await;
    assert_eq!(app.browser.callback(&newest).await.status(), 200);
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let app = crate::helpers::spawn_app_with(crate::helpers::Options {
        rate_limit_per_min: 3,
        ..Default::default()
    })
    .await;
    for _ in 0..3 {
        assert_eq!(app.browser.login(None).await.status(), 200);
    }
    let limited = app.browser.login(None).await;
    let retry_after: u64 = limited.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert_error(limited, 429, "rate_limited").await;
    // Callback has its own allowance, and garbage still counts against it.
    for _ in 0..3 {
        let r = app
            .browser
            .post_json("/api/auth/callback", &json!({"state": "x", "code": "y"}))
            .await;
        assert_ne!(r.status(), 429);
    }
    let r = app
        .browser
        .post_json("/api/auth/callback", &json!({"state": "x", "code": "y"}))
        .await;
    assert_error(r, 429, "rate_limited").await;
}
