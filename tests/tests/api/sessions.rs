//! Session lifetime: restarts, idle and absolute timeouts.

use std::time::Duration;

use crate::helpers::{assert_error, spawn_app};

#[tokio::test]
async fn sessions_survive_a_backend_restart() {
    let mut app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    // A sign-in left half-way also survives.
    let url = app.browser.start_login().await;
    let redirect = app.browser.authorize(&url, "hubot", "approve").await;

    app.restart().await;

    let me = app.browser.get("/api/me").await;
    assert_eq!(me.status(), 200);
    assert_eq!(
        app.browser.get("/api/me/repos").await.status(),
        200,
        "the sealed token still opens"
    );
    let done: serde_json::Value = app.browser.callback(&redirect).await.json().await.unwrap();
    assert_eq!(done["user"]["login"], "hubot");
}

#[tokio::test]
async fn an_idle_session_expires() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    app.clock.advance(Duration::from_secs(8 * 3600 + 1));
    assert_error(app.browser.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn an_active_session_ends_at_its_absolute_lifetime() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    for _ in 0..7 {
        app.clock.advance(Duration::from_secs(24 * 3600 - 60));
        // Activity every day keeps the idle timer happy...
        let _ = app.browser.get("/api/me").await;
        app.clock.advance(Duration::from_secs(7 * 3600));
        let _ = app.browser.get("/api/me").await;
    }
    // ...but not past seven days.
    assert_error(app.browser.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_forged_or_unknown_cookie_is_simply_signed_out() {
    let app = spawn_app().await;
    for value in [
        "x",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
        "' OR 1=1 --",
        &"A".repeat(5000),
    ] {
        let request = app
            .browser
            .raw()
            .get(format!("{}/api/me", app.address))
            .header("cookie", format!("__Host-session={value}"));
        assert_error(app.browser.send(request).await, 401, "unauthenticated").await;
    }
}
