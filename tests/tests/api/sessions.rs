//! Session lifetime: restarts, idle and absolute timeouts.

use std::time::Duration;

use emulator::{Endpoint, Fault};
use serde_json::json;

use crate::helpers::{
    assert_error, raw_api_post, simultaneous, spawn_app, spawn_app_with, status_of, Options,
};
use backend::web::cookie::COOKIE_NAME;

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
    // A request every 7 hours keeps the 8-hour idle timer happy for 161 hours...
    for step in 1..=23 {
        app.clock.advance(Duration::from_secs(7 * 3600));
        let me = app.browser.get("/api/me").await;
        assert_eq!(me.status(), 200, "after {} hours", step * 7);
    }
    // ...but the next step reaches seven days, the absolute lifetime.
    app.clock.advance(Duration::from_secs(7 * 3600));
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
            .header("cookie", format!("{COOKIE_NAME}={value}"));
        assert_error(app.browser.send(request).await, 401, "unauthenticated").await;
    }
}

#[tokio::test]
async fn a_pre_auth_session_lives_ten_minutes_after_its_last_sign_in_start() {
    let app = spawn_app().await;
    let response = app.browser.login(None).await;
    let cookie = response.headers()["set-cookie"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(cookie.contains("Max-Age=600"), "{cookie}");
    app.clock.advance(Duration::from_secs(300));
    // A second start in the same browser pushes the deadline out.
    assert_eq!(app.browser.login(None).await.status(), 200);
    app.clock.advance(Duration::from_secs(400));
    app.sweeper.run_once().await;
    assert_eq!(
        app.session_count().await,
        1,
        "still inside ten minutes of the last start"
    );
    app.clock.advance(Duration::from_secs(201));
    app.sweeper.run_once().await;
    assert_eq!(
        app.session_count().await,
        0,
        "ten minutes after the last start it is gone"
    );
}

#[tokio::test]
async fn one_client_cannot_pile_up_pre_auth_sessions() {
    let app = spawn_app_with(Options {
        preauth_sessions_per_client: 5,
        ..Options::default()
    })
    .await;
    for _ in 0..4 {
        assert_eq!(app.new_browser().login(None).await.status(), 200);
    }
    assert_eq!(app.browser.login(None).await.status(), 200);
    let refused = app.new_browser().login(None).await;
    assert_error(refused, 429, "rate_limited").await;
    assert_eq!(app.session_count().await, 5);
    // A browser that already has a session can still start sign-ins in it.
    assert_eq!(app.browser.login(None).await.status(), 200);
    assert_eq!(app.session_count().await, 5);
}

#[tokio::test]
async fn concurrent_callbacks_with_one_state_let_exactly_one_through() {
    let app = spawn_app().await;
    let url = app.browser.start_login().await;
    let redirect = app.browser.authorize(&url, "octocat", "approve").await;
    let cookie = app.browser.session_cookie().unwrap();
    let body = json!({"code": redirect.get("code"), "state": redirect.get("state")});
    let requests = vec![raw_api_post("/api/auth/callback", &cookie, &body); 24];
    let answers = simultaneous(app.port(), &requests).await;
    let passed = answers.iter().filter(|a| status_of(a) == 200).count();
    let spent = answers
        .iter()
        .filter(|a| status_of(a) == 400 && a.contains("\"invalid_state\""))
        .count();
    assert_eq!(passed, 1, "{answers:#?}");
    assert_eq!(
        spent, 23,
        "every other request found the state spent: {answers:#?}"
    );
}

#[tokio::test]
async fn a_write_that_races_a_sign_out_does_not_bring_the_session_back() {
    let app = spawn_app().await;
    // The sign-out waits on the provider a while before it deletes, so the writes below
    // straddle the delete.
    app.control()
        .set_fault(Endpoint::Revoke, Fault::Delay(Duration::from_millis(150)));
    for round in 0..3 {
        let browser = app.new_browser();
        browser.sign_in_as("octocat").await;
        let cookie = format!("{COOKIE_NAME}={}", browser.session_cookie().unwrap());
        let until = std::time::Instant::now() + Duration::from_millis(400);
        // Eight tasks start sign-ins (each a write to this session) back to back...
        let writers: Vec<_> = (0..8)
            .map(|_| {
                let http = reqwest::Client::new();
                let url = format!("{}/api/auth/login", app.address);
                let cookie = cookie.clone();
                tokio::spawn(async move {
                    while std::time::Instant::now() < until {
                        let (verifier, challenge) = crate::helpers::pkce_pair();
                        let login = json!({"provider": "github", "code_verifier": verifier,
                                           "code_challenge": challenge, "code_challenge_method": "S256"});
                        let response = http
                            .post(&url)
                            .header("x-csrf", "1")
                            .header("cookie", &cookie)
                            .json(&login)
                            .send()
                            .await
                            .unwrap();
                        assert_eq!(response.status(), 200);
                    }
                })
            })
            .collect();
        // ...while the session signs out.
        tokio::time::sleep(Duration::from_millis(50)).await;
        let logout = browser
            .api_post("/api/auth/logout")
            .header("cookie", &cookie)
            .json(&json!({}));
        assert_eq!(logout.send().await.unwrap().status(), 204);
        for writer in writers {
            writer.await.unwrap();
        }
        let me = browser
            .raw()
            .get(format!("{}/api/me", app.address))
            .header("cookie", &cookie);
        assert_eq!(
            me.send().await.unwrap().status(),
            401,
            "round {round}: the signed-out session came back"
        );
    }
}

#[tokio::test]
async fn a_sealed_token_copied_into_another_session_does_not_open() {
    let app = spawn_app().await;
    let victim = app.new_browser();
    victim.sign_in_as("octocat").await;
    let attacker = app.new_browser();
    attacker.sign_in_as("hubot").await;
    // Someone with write access to the store copies octocat's session data (and so the
    // sealed token) into hubot's row.
    let octocats = app.stored_data("\"login\":\"octocat\"").await;
    app.overwrite_stored_data("\"login\":\"hubot\"", &octocats)
        .await;
    let repos = attacker.get("/api/me/repos").await;
    assert_error(repos, 401, "unauthenticated").await;
    assert_eq!(victim.get("/api/me/repos").await.status(), 200);
}

#[tokio::test]
async fn a_sealed_token_copied_with_its_public_id_into_another_session_does_not_open() {
    let app = spawn_app().await;
    let victim = app.new_browser();
    victim.sign_in_as("octocat").await;
    let attacker = app.new_browser();
    attacker.sign_in_as("hubot").await;
    // Someone with write access to the store copies octocat's public id and data (and so
    // the sealed token) into the row their own cookie names.
    app.copy_session_row(
        &victim.session_cookie().unwrap(),
        &attacker.session_cookie().unwrap(),
    )
    .await;
    let repos = attacker.get("/api/me/repos").await;
    assert_error(repos, 401, "unauthenticated").await;
    assert_eq!(victim.get("/api/me/repos").await.status(), 200);
}

#[tokio::test]
async fn the_sweep_revokes_the_provider_token_of_an_expired_session() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    let token = app.control().issued_tokens().pop().unwrap();
    app.clock.advance(Duration::from_secs(8 * 3600 + 1));
    app.sweeper.run_once().await;
    assert!(
        app.control().is_revoked(&token),
        "expired, so revoked at GitHub"
    );
    assert_eq!(app.session_count().await, 0);
}

#[tokio::test]
async fn one_sweep_removes_every_expired_session_not_only_a_batch() {
    let app = spawn_app().await;
    for _ in 0..12 {
        let starts = (0..100).map(|_| async { app.new_browser().login(None).await.status() });
        for status in futures_util::future::join_all(starts).await {
            assert_eq!(status, 200);
        }
    }
    assert_eq!(app.session_count().await, 1_200);
    app.clock.advance(Duration::from_secs(11 * 60));
    app.sweeper.run_once().await;
    assert_eq!(app.session_count().await, 0);
}

#[tokio::test]
async fn redis_forgets_a_pre_auth_session_minutes_after_its_deadline() {
    let app = spawn_app().await;
    if app.stores != crate::helpers::StoreSetup::RedisPostgres {
        return; // SQLite rows go only when the sweep removes them.
    }
    assert_eq!(app.browser.login(None).await.status(), 200);
    let ttl = app.session_ttl_secs().await;
    // Ten minutes of pending sign-in, then at most five more.
    assert!(
        (540..=900).contains(&ttl),
        "the pre-auth hash lives {ttl} s"
    );
    app.browser.sign_in_as("octocat").await;
    let ttl = app.session_ttl_secs().await;
    assert!(
        ttl > 8 * 3600,
        "a signed-in session is kept for the sweep: {ttl} s"
    );
}
