//! What people see when GitHub misbehaves: timeouts, 5xx, garbage, token errors, revoked
//! grants. Never a 500, never a hang.

use std::time::Duration;

use emulator::{Endpoint, Fault};

use crate::helpers::{assert_error, spawn_app, Redirect, TestApp};

async fn approved(app: &TestApp) -> Redirect {
    let url = app.browser.start_login().await;
    app.browser.authorize(&url, "octocat", "approve").await
}

/// Approves a sign-in, then makes `endpoint` misbehave before the callback reaches it.
async fn callback_despite(app: &TestApp, endpoint: Endpoint, fault: Fault) -> reqwest::Response {
    let redirect = approved(app).await;
    app.control().clear_faults();
    app.control().set_fault(endpoint, fault);
    app.browser.callback(&redirect).await
}

#[tokio::test]
async fn a_provider_timeout_is_provider_unavailable_504() {
    let app = spawn_app().await;
    let response =
        callback_despite(&app, Endpoint::Token, Fault::Delay(Duration::from_secs(3))).await;
    assert_error(response, 504, "provider_unavailable").await;
}

#[tokio::test]
async fn a_provider_500_is_provider_unavailable_503() {
    let app = spawn_app().await;
    let response = callback_despite(&app, Endpoint::Token, Fault::Status(500)).await;
    assert_error(response, 503, "provider_unavailable").await;
}

#[tokio::test]
async fn garbage_json_from_the_provider_is_provider_unavailable() {
    let app = spawn_app().await;
    let response = callback_despite(&app, Endpoint::Token, Fault::Garbage).await;
    assert_error(response, 503, "provider_unavailable").await;

    let response = callback_despite(&app, Endpoint::User, Fault::Garbage).await;
    assert_error(response, 503, "provider_unavailable").await;
}

#[tokio::test]
async fn bad_verification_code_is_a_provider_error() {
    let app = spawn_app().await;
    let response = callback_despite(
        &app,
        Endpoint::Token,
        Fault::TokenError("bad_verification_code".into()),
    )
    .await;
    assert_error(response, 502, "provider_error").await;
}

#[tokio::test]
async fn incorrect_client_credentials_is_a_provider_error() {
    let app = spawn_app().await;
    let response = callback_despite(
        &app,
        Endpoint::Token,
        Fault::TokenError("incorrect_client_credentials".into()),
    )
    .await;
    assert_error(response, 502, "provider_error").await;
}

#[tokio::test]
async fn a_profile_timeout_or_rate_limit_is_provider_unavailable() {
    let app = spawn_app().await;
    let response =
        callback_despite(&app, Endpoint::User, Fault::Delay(Duration::from_secs(3))).await;
    assert_error(response, 504, "provider_unavailable").await;
    let response = callback_despite(&app, Endpoint::User, Fault::RateLimited).await;
    assert_error(response, 503, "provider_unavailable").await;
}

#[tokio::test]
async fn a_revoked_token_ends_the_session() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    app.control().revoke_all_tokens();
    let response = app.browser.get("/api/me/repos").await;
    assert_error(response, 401, "unauthenticated").await;
    assert!(
        app.browser.session_cookie().is_none(),
        "the cookie is expired"
    );
    assert_error(app.browser.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn repos_failures_keep_the_session() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    app.control().set_fault(Endpoint::Repos, Fault::Status(502));
    assert_error(
        app.browser.get("/api/me/repos").await,
        503,
        "provider_unavailable",
    )
    .await;
    app.control().set_fault(Endpoint::Repos, Fault::Garbage);
    assert_error(
        app.browser.get("/api/me/repos").await,
        503,
        "provider_unavailable",
    )
    .await;
    app.control().clear_faults();
    assert_eq!(app.browser.get("/api/me/repos").await.status(), 200);
}

#[tokio::test]
async fn a_failed_revoke_still_signs_out() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    app.control()
        .set_fault(Endpoint::Revoke, Fault::Status(500));
    assert_eq!(app.browser.logout().await.status(), 204);
    assert_error(app.browser.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_hanging_revoke_is_bounded() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    app.control()
        .set_fault(Endpoint::Revoke, Fault::Delay(Duration::from_secs(30)));
    let started = std::time::Instant::now();
    assert_eq!(app.browser.logout().await.status(), 204);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert_error(app.browser.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn an_endless_provider_answer_is_cut_off_at_its_size_cap() {
    // A body that never ends: reading stops at 1 MiB and answers at once, instead of
    // buffering until the provider timeout (which would be a 504 after a second).
    let app = spawn_app().await;
    let response = callback_despite(&app, Endpoint::Token, Fault::EndlessBody).await;
    assert_error(response, 503, "provider_unavailable").await;

    let response = callback_despite(&app, Endpoint::User, Fault::EndlessBody).await;
    assert_error(response, 503, "provider_unavailable").await;
}
