//! `POST /api/auth/callback`: denial, replays, foreign and expired state.

use std::time::Duration;

use serde_json::json;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn pressing_cancel_is_access_denied() {
    let app = spawn_app().await;
    let url = app.browser.start_login().await;
    let redirect = app.browser.authorize(&url, "octocat", "deny").await;
    assert_eq!(redirect.get("error"), "access_denied");
    assert_error(app.browser.callback(&redirect).await, 403, "access_denied").await;
    // The attempt is spent: a second try with the same state is unknown.
    assert_error(app.browser.callback(&redirect).await, 400, "invalid_state").await;
    assert_error(app.browser.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_replayed_code_and_state_is_rejected() {
    let app = spawn_app().await;
    let url = app.browser.start_login().await;
    let redirect = app.browser.authorize(&url, "octocat", "approve").await;
    assert_eq!(app.browser.callback(&redirect).await.status(), 200);
    assert_error(app.browser.callback(&redirect).await, 400, "invalid_state").await;
}

#[tokio::test]
async fn a_used_code_with_a_fresh_state_is_refused_by_the_provider() {
    let app = spawn_app().await;
    let url = app.browser.start_login().await;
    let first = app.browser.authorize(&url, "octocat", "approve").await;
    assert_eq!(app.browser.callback(&first).await.status(), 200);
    // A new attempt, but the attacker swaps in the old code.
    let url = app.browser.start_login().await;
    let mut second = app.browser.authorize(&url, "octocat", "approve").await;
    second
        .params
        .insert("code".into(), first.get("code").to_owned());
    assert_error(app.browser.callback(&second).await, 502, "provider_error").await;
}

#[tokio::test]
async fn an_unknown_state_is_rejected() {
    let app = spawn_app().await;
    app.browser.start_login().await;
    let response = app
        .browser
        .post_json(
            "/api/auth/callback",
            &json!({"code": "0123456789abcdef0123", "state": "not-a-state-we-issued"}),
        )
        .await;
    assert_error(response, 400, "invalid_state").await;
    // Without any session at all, too.
    let stranger = app.new_browser();
    let response = stranger
        .post_json(
            "/api/auth/callback",
            &json!({"code": "0123456789abcdef0123", "state": "x"}),
        )
        .await;
    assert_error(response, 400, "invalid_state").await;
}

#[tokio::test]
async fn a_state_from_another_browsers_session_is_rejected() {
    let app = spawn_app().await;
    let victim = &app.browser;
    let attacker = app.new_browser();
    attacker.start_login().await; // the attacker has a session of their own
    let url = victim.start_login().await;
    let redirect = victim.authorize(&url, "octocat", "approve").await;
    // Login CSRF / code injection: the victim's redirect replayed in the attacker's browser.
    assert_error(attacker.callback(&redirect).await, 400, "invalid_state").await;
    assert_error(attacker.get("/api/me").await, 401, "unauthenticated").await;
    // The rightful browser can still finish: nothing was consumed.
    assert_eq!(victim.callback(&redirect).await.status(), 200);
}

#[tokio::test]
async fn an_expired_pending_login_is_rejected() {
    let app = spawn_app().await;
    let url = app.browser.start_login().await;
    let redirect = app.browser.authorize(&url, "octocat", "approve").await;
    app.clock.advance(Duration::from_secs(601));
    assert_error(app.browser.callback(&redirect).await, 400, "state_expired").await;
    assert_error(app.browser.callback(&redirect).await, 400, "invalid_state").await;
}

#[tokio::test]
async fn a_pending_login_just_inside_ten_minutes_still_works() {
    let app = spawn_app().await;
    let url = app.browser.start_login().await;
    let redirect = app.browser.authorize(&url, "octocat", "approve").await;
    app.clock.advance(Duration::from_secs(590));
    assert_eq!(app.browser.callback(&redirect).await.status(), 200);
}

#[tokio::test]
async fn malformed_callback_bodies_are_invalid_requests_and_spend_nothing() {
    let app = spawn_app().await;
    let url = app.browser.start_login().await;
    let redirect = app.browser.authorize(&url, "octocat", "approve").await;
    let state = redirect.get("state").to_owned();
    for body in [
        json!({"state": state}),
        json!({"code": redirect.get("code")}),
        json!({"code": "", "state": state}),
        json!({"code": "a b", "state": state}),
        json!({"code": "x".repeat(600), "state": state}),
        json!({"code": redirect.get("code"), "error": "access_denied", "state": state}),
        json!({"code": 12345, "state": state}),
        json!([1, 2, 3]),
        json!("string"),
    ] {
        let response = app.browser.post_json("/api/auth/callback", &body).await;
        assert_error(response, 400, "invalid_request").await;
    }
    // None of that spent the state.
    assert_eq!(app.browser.callback(&redirect).await.status(), 200);
}

#[tokio::test]
async fn other_provider_errors_in_the_redirect_are_provider_errors() {
    let app = spawn_app().await;
    let url = app.browser.start_login().await;
    let redirect = app.browser.authorize(&url, "octocat", "approve").await;
    let response = app
        .browser
        .post_json(
            "/api/auth/callback",
            &json!({"error": "redirect_uri_mismatch", "state": redirect.get("state")}),
        )
        .await;
    assert_error(response, 502, "provider_error").await;
}
