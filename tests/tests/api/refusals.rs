//! Refused requests are cheap: without a session behind them they go to the log and the
//! metrics only, tied to a session they are recorded a few times per window at most, and
//! they never push a person's sign-ins and sign-outs out of their activity view.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{raw_http, spawn_app_with, status_of, Options};

/// `POST /` the way a script without a cookie sends it: no X-CSRF.
fn forged_post() -> &'static [u8] {
    b"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Forwarded-For: 198.51.100.7\r\n\
      Content-Type: text/plain\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"
}

#[tokio::test]
async fn a_flood_of_refused_requests_writes_nothing_and_sign_ins_go_on() {
    let app = spawn_app_with(
        Options {
            behind_a_proxy: true,
            ..Options::default()
        }
        .with_default_limits(),
    )
    .await;
    let before = app.audit_rows().await;
    let port = app.port().to_owned();
    let flood = async {
        for _ in 0..40 {
            let batch = (0..50).map(|_| raw_http(&port, forged_post()));
            for answer in futures_util::future::join_all(batch).await {
                assert_eq!(status_of(&answer), 403, "{answer}");
            }
        }
        // The login limit's whole allowance, then 200 over it.
        let allowance = backend::config::Settings::defaults().limits.auth_per_min as usize;
        let flooder = app.new_browser().seen_from("198.51.100.7");
        let mut limited = 0;
        let started = std::time::Instant::now();
        for _ in 0..allowance + 200 {
            limited += usize::from(flooder.login(None).await.status() == 429);
        }
        // The allowance refills while the loop runs (a login every 60/allowance s): each
        // refill lets one more through, and nothing else may.
        let refilled =
            (started.elapsed().as_secs_f64() * allowance as f64 / 60.0).ceil() as usize + 1;
        assert!(
            limited >= 200 - refilled.min(200),
            "the flood was shed: {limited} over the limit, {refilled} refills"
        );
    };
    // Someone else signs in meanwhile.
    let person = app.new_browser().seen_from("203.0.113.9");
    let sign_in = async {
        let url = person.start_login().await;
        let redirect = person.authorize(&url, "octocat", "approve").await;
        person.callback(&redirect).await.status()
    };
    let ((), status) = tokio::join!(flood, sign_in);
    assert_eq!(
        status, 200,
        "the sign-in started during the flood completed"
    );
    let added = app.audit_rows().await - before;
    assert!(
        added <= 3,
        "2,000 refused writes and 200 over-limit logins added {added} audit rows"
    );
}

#[tokio::test]
async fn refusals_never_push_sign_ins_out_of_the_activity_view() {
    let app = spawn_app_with(Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    // A page (or an attacker holding the cookie) keeps sending refused writes, for hours.
    for _ in 0..12 {
        for _ in 0..10 {
            let forged = app
                .browser
                .send(app.browser.raw().post(app.url("/")).body("x"));
            assert_eq!(forged.await.status(), 403);
        }
        app.advance_clocks(Duration::from_secs(15 * 60));
        assert_eq!(app.browser.get("/api/me").await.status(), 200);
    }
    let activity: Value = app
        .browser
        .get("/api/me/activity")
        .await
        .json()
        .await
        .unwrap();
    let kinds: Vec<&str> = activity
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"sign_in_succeeded"),
        "the sign-in is still shown: {kinds:?}"
    );
    let refused = kinds.iter().filter(|k| **k == "csrf_refused").count();
    assert!(
        (1..=10).contains(&refused),
        "refusals are shown, a few of them: {kinds:?}"
    );
}
