//! OpenID Connect beside GitHub, against a real OpenID Provider (the certified
//! `oidc-provider` package): sign-in through its own login and consent pages, the
//! RFC 9207 mix-up defence, refresh, RP-initiated logout and the back-channel logout it
//! sends.

use std::time::Duration;

use emulator::{Endpoint, Fault};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{
    assert_error, logs, spawn_app_with, Browser, Idp, Options, Redirect, TestApp, OIDC_ID,
    PUBLIC_URL,
};

async fn app() -> TestApp {
    spawn_app_with(Options {
        oidc: Idp::Real,
        ..Options::default()
    })
    .await
}

/// A whole sign-in at the provider as `login`, this browser at the BFF and `idp` (its
/// jar at the provider); returns the callback's JSON.
async fn sign_in(browser: &Browser, idp: &Browser, login: &str) -> Value {
    let url = browser.start_login_with(OIDC_ID).await;
    let redirect = idp.sign_in_at_idp(&url, login).await;
    let response = browser.callback(&redirect).await;
    assert_eq!(response.status(), StatusCode::OK, "callback");
    response.json().await.unwrap()
}

async fn signed_in_user(browser: &Browser) -> Value {
    let body: Value = browser.get("/api/auth/session").await.json().await.unwrap();
    body["user"].clone()
}

fn query(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn every_configured_provider_is_offered() {
    let app = app().await;
    let body: Value = app
        .browser
        .get("/api/auth/providers")
        .await
        .json()
        .await
        .unwrap();
    let providers = body["providers"].as_array().unwrap();
    let ids: Vec<_> = providers
        .iter()
        .map(|p| p["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["github", OIDC_ID]);
    assert_eq!(providers[1]["name"], "Test IdP");
}

#[tokio::test]
async fn sign_in_through_the_providers_own_pages() {
    let app = app().await;
    let url = app.browser.start_login_with(OIDC_ID).await;
    assert!(
        url.starts_with(&format!("{}/auth?", app.idp().issuer)),
        "{url}"
    );
    assert_eq!(
        query(&url, "redirect_uri").unwrap(),
        format!("{PUBLIC_URL}/callback")
    );
    assert_eq!(query(&url, "code_challenge_method").unwrap(), "S256");
    assert_eq!(query(&url, "scope").unwrap(), "openid profile email");
    let nonce = query(&url, "nonce").expect("a nonce");
    assert!(nonce.len() >= 32, "{nonce}");

    let redirect = app.idp_browser().sign_in_at_idp(&url, "alice").await;
    assert_eq!(redirect.get("iss"), app.idp().issuer, "RFC 9207 iss");
    let response = app.browser.callback(&redirect).await;
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.unwrap();
    assert!(!text.contains("eyJ"), "no token in the answer: {text}");

    let user = signed_in_user(&app.browser).await;
    assert_eq!(user["provider"], OIDC_ID);
    assert_eq!(user["provider_user_id"], "alice", "keyed on the subject");
    assert_eq!(user["login"], "alice", "preferred_username");
    assert_eq!(user["name"], "Alice Liddell");
    assert_eq!(user["email"], "alice@example.com");
    let me: Value = app.browser.get("/api/me").await.json().await.unwrap();
    assert_eq!(me["login"], "alice");

    // Neither the code nor any token reached a log line.
    let logged = logs().text();
    assert!(
        !logged.contains(redirect.get("code")),
        "the code was logged"
    );
    assert!(!logged.contains("eyJ"), "a JWT was logged");
}

#[tokio::test]
async fn an_unverified_email_is_not_taken() {
    let app = app().await;
    let body = sign_in(&app.browser, &app.idp_browser(), "bob").await;
    assert_eq!(body["user"]["login"], "bob");
    assert_eq!(
        body["user"]["email"],
        Value::Null,
        "email_verified is false"
    );
}

#[tokio::test]
async fn the_same_name_at_two_providers_is_two_people() {
    let app = app().await;
    let at_idp = sign_in(&app.browser, &app.idp_browser(), "octocat").await;
    let github = app.new_browser();
    let at_github = github.sign_in_as("octocat").await;
    assert_eq!(at_idp["user"]["login"], at_github["user"]["login"]);
    assert_ne!(at_idp["user"]["id"], at_github["user"]["id"], "no linking");
    assert_eq!(at_github["user"]["provider"], "github");
}

/// Signs in at the provider and hands back what it sent, for a callback to tamper with.
async fn provider_answer(app: &TestApp, browser: &Browser) -> Redirect {
    let url = browser.start_login_with(OIDC_ID).await;
    app.idp_browser().sign_in_at_idp(&url, "alice").await
}

async fn assert_no_session(browser: &Browser) {
    assert_eq!(signed_in_user(browser).await, Value::Null);
    assert_error(browser.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn an_answer_from_another_issuer_is_refused() {
    let app = app().await;
    let browser = app.new_browser();
    let mut redirect = provider_answer(&app, &browser).await;
    redirect
        .params
        .insert("iss".into(), "http://127.0.0.1:1".into());
    assert_error(browser.callback(&redirect).await, 502, "provider_error").await;
    assert_no_session(&browser).await;
    // The pending sign-in is spent: the right `iss` does not revive it.
    redirect
        .params
        .insert("iss".into(), app.idp().issuer.clone());
    assert_error(browser.callback(&redirect).await, 400, "invalid_state").await;
    assert_no_session(&browser).await;
}

#[tokio::test]
async fn an_answer_without_the_promised_iss_is_refused() {
    let app = app().await;
    let browser = app.new_browser();
    let mut redirect = provider_answer(&app, &browser).await;
    redirect.params.remove("iss");
    assert_error(browser.callback(&redirect).await, 502, "provider_error").await;
    assert_no_session(&browser).await;
}

#[tokio::test]
async fn a_github_sign_in_finished_with_the_providers_answer_is_refused() {
    // The mix-up attack: the browser started at GitHub, but the code and `iss` that come
    // back are the OpenID Provider's. The pending sign-in says GitHub, so GitHub's rules
    // apply, and an `iss` naming another configured provider ends it there.
    let app = app().await;
    let browser = app.new_browser();
    let github_url = browser.start_login().await;
    let state = query(&github_url, "state").unwrap();
    let mut redirect = provider_answer(&app, &app.new_browser()).await;
    redirect.params.insert("state".into(), state);
    // Had the code gone to GitHub's token endpoint, this would answer 503.
    app.control().set_fault(Endpoint::Token, Fault::Status(500));
    assert_error(browser.callback(&redirect).await, 502, "provider_error").await;
    assert_no_session(&browser).await;
}

#[tokio::test]
async fn logout_hands_back_the_providers_logout_page() {
    let app = app().await;
    let idp = app.idp_browser();
    sign_in(&app.browser, &idp, "alice").await;
    let response = app.browser.logout().await;
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    let logout_url = body["logout_url"].as_str().unwrap();
    assert!(
        logout_url.starts_with(&format!("{}/session/end?", app.idp().issuer)),
        "{logout_url}"
    );
    assert_eq!(
        query(logout_url, "post_logout_redirect_uri").unwrap(),
        format!("{PUBLIC_URL}/")
    );
    // No ID token reaches the browser: the client id says who asks.
    assert_eq!(query(logout_url, "id_token_hint"), None, "{logout_url}");
    assert!(!logout_url.contains("eyJ"), "{logout_url}");
    assert_eq!(
        query(logout_url, "client_id").as_deref(),
        Some(crate::common::oidc::CLIENT_ID)
    );
    // Signed out here already, whatever the person does at the provider.
    assert_no_session(&app.browser).await;

    let back = idp.sign_out_at_idp(logout_url).await;
    assert_eq!(back.as_str(), format!("{PUBLIC_URL}/"));
    // The provider's session is gone too: the next sign-in asks for a password again.
    let url = app.browser.start_login_with(OIDC_ID).await;
    let page = idp.send(idp.raw().get(&url)).await;
    assert_eq!(page.status(), StatusCode::SEE_OTHER);
    let interaction = page.headers()["location"].to_str().unwrap().to_owned();
    let html = idp
        .send(idp.raw().get(format!("{}{interaction}", app.idp().issuer)))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("name=\"password\""), "a login page");
}

#[tokio::test]
async fn signing_out_at_the_provider_ends_the_sessions_it_started() {
    let app = app().await;
    // One person, one provider session, two sessions here (a second sign-in reuses the
    // provider's session without a password).
    let idp = app.idp_browser();
    let first = app.new_browser();
    let second = app.new_browser();
    sign_in(&first, &idp, "alice").await;
    sign_in(&second, &idp, "alice").await;
    // The same person signed in elsewhere, with a provider session of their own.
    let elsewhere = app.new_browser();
    sign_in(&elsewhere, &app.idp_browser(), "alice").await;

    let body: Value = first.logout().await.json().await.unwrap();
    idp.sign_out_at_idp(body["logout_url"].as_str().unwrap())
        .await;

    // The provider sends its back-channel logout token before it redirects.
    assert_error(second.get("/api/me").await, 401, "unauthenticated").await;
    let user = signed_in_user(&elsewhere).await;
    assert_eq!(
        user["login"], "alice",
        "another provider session is untouched"
    );
    let activity: Value = elsewhere
        .get("/api/me/activity")
        .await
        .json()
        .await
        .unwrap();
    let ended_by_provider = activity
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "signed_out" && e["reason"] == "provider_logout")
        .count();
    assert_eq!(ended_by_provider, 1, "{activity}");
}

#[tokio::test]
async fn an_expired_access_token_is_refreshed_at_the_provider() {
    let app = app().await;
    sign_in(&app.browser, &app.idp_browser(), "alice").await;
    // Past the access token's hour and the re-check interval: the next request asks
    // userinfo, with a token refreshed first.
    app.clock.advance(Duration::from_secs(2 * 3600));
    let me = app.browser.get("/api/me").await;
    assert_eq!(me.status(), StatusCode::OK);
    let user = signed_in_user(&app.browser).await;
    assert_eq!(user["login"], "alice");
    let stored = app.stored_data("\"tokens\"").await;
    assert!(
        stored.contains("\"generation\":1"),
        "refreshed once: {stored}"
    );
}

#[tokio::test]
async fn the_providers_token_is_never_sent_to_github() {
    let app = app().await;
    sign_in(&app.browser, &app.idp_browser(), "alice").await;
    let before = app.control().api_requests();
    assert_error(app.browser.get("/api/me/repos").await, 404, "not_found").await;
    assert_error(app.browser.get("/api/github/user").await, 404, "not_found").await;
    assert_eq!(app.control().api_requests(), before, "GitHub heard nothing");
}

#[tokio::test]
async fn an_access_token_api_gets_the_providers_token_and_never_a_github_one() {
    let recorder = crate::recording_upstream::Recorder::start();
    let mut api = backend::config::ApiSettings::new("rec", recorder.url.parse().unwrap());
    api.identity = backend::config::Identity::AccessToken;
    api.providers = vec![OIDC_ID.into()];
    let app = spawn_app_with(Options {
        oidc: Idp::Real,
        apis: vec![api],
        ..Options::default()
    })
    .await;
    sign_in(&app.browser, &app.idp_browser(), "alice").await;
    assert_eq!(app.browser.get("/api/rec/profile").await.status(), 200);
    let seen = recorder.seen().pop().unwrap();
    let token = seen
        .header("authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap()
        .to_owned();
    // It is the session's own access token at the provider: the provider says whose.
    let discovery: Value = reqwest::get(format!(
        "{}/.well-known/openid-configuration",
        app.idp().issuer
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let userinfo = reqwest::Client::new()
        .get(discovery["userinfo_endpoint"].as_str().unwrap())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(userinfo.status(), 200);
    let claims: Value = userinfo.json().await.unwrap();
    assert_eq!(claims["sub"], "alice");

    let github = app.new_browser();
    github.sign_in_as("octocat").await;
    assert_error(github.get("/api/rec/profile").await, 403, "not_allowed").await;
    assert_eq!(
        recorder.seen().len(),
        1,
        "a GitHub session's call went nowhere"
    );
}
