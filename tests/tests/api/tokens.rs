//! Expiring GitHub tokens: refreshed before use in a single flight (one refresh however
//! many requests and instances ask at once), rotation survived, outcomes when GitHub
//! says no or is down.

use std::time::Duration;

use emulator::{Endpoint, Fault};
use serde_json::Value;

use crate::helpers::{
    assert_error, raw_api_get, simultaneous, spawn_app_with, status_of, Options, TestApp,
};

/// GitHub App tokens live 8 hours; the BFF refreshes 5 minutes before. 7 h 56 min in,
/// the token is due while the 8-hour idle timeout is not yet reached.
const NEARLY_EXPIRED: Duration = Duration::from_secs(8 * 3600 - 240);

async fn expiring_app() -> TestApp {
    spawn_app_with(Options {
        expiring_tokens: true,
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn fifty_concurrent_requests_on_an_expiring_token_make_exactly_one_refresh() {
    let app = expiring_app().await;
    app.browser.sign_in_as("octocat").await;
    app.advance_clocks(NEARLY_EXPIRED);
    let cookie = app.browser.session_cookie().unwrap();
    let requests = vec![raw_api_get("/api/me/repos", &cookie); 50];
    let answers = simultaneous(app.port(), &requests).await;
    for answer in &answers {
        assert_eq!(status_of(answer), 200, "{answer}");
    }
    assert_eq!(app.control().refresh_grants(), 1);
    // The successor is used from now on: no second refresh.
    assert_eq!(app.browser.get("/api/me/repos").await.status(), 200);
    assert_eq!(app.control().refresh_grants(), 1);
}

#[tokio::test]
async fn two_instances_on_one_store_refresh_once_between_them() {
    let app = spawn_app_with(Options {
        expiring_tokens: true,
        session_cache_entries: 0,
        ..Options::default()
    })
    .await;
    app.browser.sign_in_as("octocat").await;
    let other = app.second_instance().await;
    other.copy_cookies_from(&app.browser);
    assert_eq!(
        other.get("/api/me").await.status(),
        200,
        "one session, two instances"
    );
    app.advance_clocks(NEARLY_EXPIRED);

    let cookie = app.browser.session_cookie().unwrap();
    let port_b = other.base.rsplit(':').next().unwrap().to_owned();
    let requests = vec![raw_api_get("/api/me/repos", &cookie); 20];
    let (a, b) = tokio::join!(
        simultaneous(app.port(), &requests),
        simultaneous(&port_b, &requests)
    );
    for answer in a.iter().chain(&b) {
        assert_eq!(status_of(answer), 200, "{answer}");
    }
    assert_eq!(app.control().refresh_grants(), 1);
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_refresh_does_not_lose_the_successor() {
    let app = expiring_app().await;
    app.browser.sign_in_as("octocat").await;
    app.advance_clocks(NEARLY_EXPIRED);
    app.control()
        .set_fault(Endpoint::Refresh, Fault::Delay(Duration::from_millis(400)));
    let impatient = reqwest::Client::builder()
        .timeout(Duration::from_millis(100))
        .build()
        .unwrap();
    let cookie = app.browser.session_cookie().unwrap();
    let gave_up = impatient
        .get(app.url("/api/me/repos"))
        .header(
            "cookie",
            format!("{}={cookie}", backend::web::cookie::COOKIE_NAME),
        )
        .send()
        .await;
    assert!(
        gave_up.is_err(),
        "the client hung up before the refresh ended"
    );
    app.control().clear_faults();
    // GitHub rotated; the detached refresh stored the successor all the same.
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while app.control().refresh_grants() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the refresh never ran"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(app.browser.get("/api/me/repos").await.status(), 200);
    assert_eq!(
        app.control().refresh_grants(),
        1,
        "no second use of a dead token"
    );
}

#[tokio::test]
async fn a_refused_refresh_ends_the_session_with_session_expired() {
    for fault in [
        Fault::TokenError("bad_refresh_token".into()),
        Fault::TokenErrorStatus("bad_refresh_token".into(), 400),
    ] {
        let app = expiring_app().await;
        app.browser.sign_in_as("octocat").await;
        app.advance_clocks(NEARLY_EXPIRED);
        app.control().set_fault(Endpoint::Refresh, fault);
        let response = app.browser.get("/api/me/repos").await;
        assert_error(response, 401, "session_expired").await;
        assert!(
            app.browser.session_cookie().is_none(),
            "the cookie is dropped"
        );
        app.control().clear_faults();
        assert_error(app.browser.get("/api/me").await, 401, "unauthenticated").await;
    }
}

#[tokio::test]
async fn a_session_ends_when_its_refresh_token_would_have_expired() {
    // Idle and absolute limits of a year and more: the refresh token's six months are
    // what ends an untouched session.
    let app = spawn_app_with(Options {
        expiring_tokens: true,
        session_idle_secs: 366 * 24 * 3600,
        session_absolute_secs: 2 * 366 * 24 * 3600,
        ..Options::default()
    })
    .await;
    app.browser.sign_in_as("octocat").await;
    app.advance_clocks(Duration::from_secs(15_811_200 - 3600));
    assert_eq!(
        app.browser.get("/api/me").await.status(),
        200,
        "an hour before"
    );
    app.advance_clocks(Duration::from_secs(3600));
    assert_error(app.browser.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_refresh_endpoint_outage_keeps_the_session_and_recovers() {
    let app = expiring_app().await;
    app.browser.sign_in_as("octocat").await;
    app.advance_clocks(NEARLY_EXPIRED);
    for fault in [
        Fault::Status(502),
        Fault::Garbage,
        Fault::Delay(Duration::from_secs(3)),
    ] {
        app.control().set_fault(Endpoint::Refresh, fault);
        let response = app.browser.get("/api/me/repos").await;
        let status = response.status().as_u16();
        assert!(matches!(status, 503 | 504), "{status}");
        assert_error(response, status, "provider_unavailable").await;
        assert_eq!(
            app.browser.get("/api/me").await.status(),
            200,
            "still signed in"
        );
    }
    app.control().clear_faults();
    assert_eq!(app.browser.get("/api/me/repos").await.status(), 200);
    assert_eq!(app.control().refresh_grants(), 1);
}

#[tokio::test]
async fn tokens_that_never_expire_are_never_refreshed() {
    let app = spawn_app_with(Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    for _ in 0..10 {
        app.advance_clocks(Duration::from_secs(7 * 3600));
        assert_eq!(app.browser.get("/api/me/repos").await.status(), 200);
    }
    assert_eq!(app.control().refresh_grants(), 0);
    assert!(app.control().issued_refresh_tokens().is_empty());
}

#[tokio::test]
async fn a_refreshed_token_is_rotated_at_github_and_never_leaks() {
    let app = expiring_app().await;
    app.browser.sign_in_as("octocat").await;
    let first = app.control().issued_tokens();
    app.advance_clocks(NEARLY_EXPIRED);
    let repos: Value = app.browser.get("/api/me/repos").await.json().await.unwrap();
    assert_eq!(repos[0]["name"], "Hello-World");
    assert!(
        app.control().is_revoked(&first[0]),
        "the old token died with the refresh"
    );
    let log = crate::helpers::logs().text();
    for secret in app
        .control()
        .issued_tokens()
        .into_iter()
        .chain(app.control().issued_refresh_tokens())
    {
        assert!(!log.contains(&secret), "a token reached the log");
    }
}
