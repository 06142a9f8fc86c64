//! Sessions people can see and end, sign out everywhere, the activity log, and the quiet
//! start-up check.

use std::time::Duration;

use serde_json::{json, Value};

use crate::helpers::{assert_error, logs, spawn_app, Browser, TestApp};

const CHROME_LINUX: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36";
const SAFARI_IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1";

/// octocat signed in twice: on a Linux laptop, and five minutes later on an iPhone.
async fn two_devices(app: &TestApp) -> (Browser, Browser) {
    let laptop = app.new_browser().with_user_agent(CHROME_LINUX);
    let phone = app.new_browser().with_user_agent(SAFARI_IPHONE);
    laptop.sign_in_as("octocat").await;
    app.clock.advance(Duration::from_secs(300));
    phone.sign_in_as("octocat").await;
    (laptop, phone)
}

async fn json_of(browser: &Browser, path: &str) -> Value {
    let response = browser.get(path).await;
    assert_eq!(response.status(), 200, "{path}");
    response.json().await.unwrap()
}

async fn delete(browser: &Browser, path: &str) -> reqwest::Response {
    let request = browser
        .raw()
        .delete(format!("{}{path}", browser.base))
        .header("x-csrf", "1")
        .header("content-type", "application/json");
    browser.send(request).await
}

#[tokio::test]
async fn the_start_up_check_never_answers_401() {
    let app = spawn_app().await;
    let signed_out = json_of(&app.browser, "/api/auth/session").await;
    assert_eq!(signed_out, json!({"user": null}));
    app.browser.login(None).await; // a pre-auth session is not a person either
    assert_eq!(
        json_of(&app.browser, "/api/auth/session").await,
        json!({"user": null})
    );
    app.browser.sign_in_as("hubot").await;
    let signed_in = json_of(&app.browser, "/api/auth/session").await;
    assert_eq!(signed_in["user"]["login"], "hubot");
    // /api/me keeps its 401 for the signed out.
    assert_error(
        app.new_browser().get("/api/me").await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn the_list_shows_every_session_of_the_person_and_marks_the_current_one() {
    let app = spawn_app().await;
    let (laptop, phone) = two_devices(&app).await;
    let stranger = app.new_browser();
    stranger.sign_in_as("hubot").await;

    let list = json_of(&phone, "/api/me/sessions").await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2, "{list:?}");
    // Newest first: the phone signed in last.
    assert_eq!(list[0]["device"], "Safari on iPhone");
    assert_eq!(list[0]["current"], true);
    assert_eq!(list[1]["device"], "Chrome on Linux");
    assert_eq!(list[1]["current"], false);
    for session in list {
        assert_eq!(
            session["last_seen_at"].as_i64().unwrap() % 60,
            0,
            "to the minute"
        );
        assert!(session["signed_in_at"].as_i64().unwrap() > 1_700_000_000);
        let id = session["id"].as_str().unwrap();
        for cookie in [
            laptop.session_cookie().unwrap(),
            phone.session_cookie().unwrap(),
        ] {
            assert!(
                !cookie.contains(id) && !id.contains(&cookie[..8]),
                "the id is not the cookie"
            );
        }
    }
    let from_laptop = json_of(&laptop, "/api/me/sessions").await;
    assert_eq!(from_laptop[1]["current"], true);
    assert_eq!(
        json_of(&stranger, "/api/me/sessions")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn ending_another_session_signs_it_out_at_once_and_is_recorded() {
    let app = spawn_app().await;
    let (laptop, phone) = two_devices(&app).await;
    let list = json_of(&phone, "/api/me/sessions").await;
    let laptop_id = list[1]["id"].as_str().unwrap().to_owned();
    let laptop_token = app.control().issued_tokens();

    let ended = delete(&phone, &format!("/api/me/sessions/{laptop_id}")).await;
    assert_eq!(ended.status(), 204);
    assert_error(laptop.get("/api/me").await, 401, "unauthenticated").await;
    assert_eq!(
        phone.get("/api/me").await.status(),
        200,
        "the phone stays signed in"
    );
    assert_eq!(
        json_of(&phone, "/api/me/sessions")
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    assert!(
        laptop_token.iter().any(|t| app.control().is_revoked(t)),
        "the ended session's token was revoked at GitHub"
    );

    let activity = json_of(&phone, "/api/me/activity").await;
    let kinds: Vec<(&str, Option<&str>)> = activity
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["kind"].as_str().unwrap(), e["reason"].as_str()))
        .collect();
    assert_eq!(
        &kinds[..4],
        [
            ("session_ended", None),
            ("signed_out", Some("from_another_device")),
            ("sign_in_succeeded", None),
            ("sign_in_succeeded", None),
        ]
    );
    assert_eq!(activity[0]["session_id"], laptop_id.as_str());
    assert_eq!(activity[1]["device"], "Chrome on Linux");
}

#[tokio::test]
async fn someone_elses_or_an_unknown_session_is_the_same_404_and_nothing_changes() {
    let app = spawn_app().await;
    let (laptop, _phone) = two_devices(&app).await;
    let stranger = app.new_browser();
    stranger.sign_in_as("hubot").await;
    let octocats = json_of(&laptop, "/api/me/sessions").await;
    let theirs = octocats[0]["id"].as_str().unwrap();

    let foreign = delete(&stranger, &format!("/api/me/sessions/{theirs}")).await;
    let foreign = assert_error(foreign, 404, "not_found").await;
    let unknown = delete(&stranger, "/api/me/sessions/AAAAAAAAAAAAAAAAAAAAAA").await;
    let unknown = assert_error(unknown, 404, "not_found").await;
    assert_eq!(foreign, unknown, "no way to tell the two apart");
    for path in [
        "/api/me/sessions/..",
        "/api/me/sessions/%2e%2e",
        "/api/me/sessions/x%00",
    ] {
        let response = delete(&stranger, path).await;
        assert_eq!(response.status(), 404, "{path}");
    }
    assert_eq!(
        json_of(&laptop, "/api/me/sessions")
            .await
            .as_array()
            .unwrap()
            .len(),
        2
    );
    // Ending needs the CSRF header like every write.
    let forged = stranger.send(
        stranger
            .raw()
            .delete(format!("{}/api/me/sessions/{theirs}", stranger.base)),
    );
    assert_error(forged.await, 403, "csrf_failed").await;
    assert_error(
        app.new_browser().get("/api/me/sessions").await,
        401,
        "unauthenticated",
    )
    .await;
}

#[tokio::test]
async fn ending_ones_own_session_from_the_list_is_a_sign_out() {
    let app = spawn_app().await;
    let (laptop, phone) = two_devices(&app).await;
    let mine = json_of(&laptop, "/api/me/sessions").await[1]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let response = delete(&laptop, &format!("/api/me/sessions/{mine}")).await;
    assert_eq!(response.status(), 204);
    assert!(laptop.session_cookie().is_none(), "the cookie is dropped");
    assert_eq!(phone.get("/api/me").await.status(), 200);
}

#[tokio::test]
async fn signing_out_everywhere_ends_every_session_and_the_grant_at_github() {
    let app = spawn_app().await;
    let (laptop, phone) = two_devices(&app).await;
    let stranger = app.new_browser();
    stranger.sign_in_as("hubot").await;

    let response = laptop
        .post_json("/api/auth/logout", &json!({"everywhere": true}))
        .await;
    assert_eq!(response.status(), 204);
    assert_error(laptop.get("/api/me").await, 401, "unauthenticated").await;
    assert_error(phone.get("/api/me").await, 401, "unauthenticated").await;
    assert_eq!(stranger.get("/api/me").await.status(), 200);
    assert!(
        app.control().has_no_live_token("octocat"),
        "the whole grant was revoked: every token of octocat is dead"
    );
    assert!(!app.control().has_no_live_token("hubot"));

    // The events are there for the next sign-in to see.
    let back = app.new_browser();
    back.sign_in_as("octocat").await;
    let activity = json_of(&back, "/api/me/activity").await;
    let everywhere = activity
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "signed_out" && e["reason"] == "everywhere")
        .count();
    assert_eq!(everywhere, 2, "{activity}");
}

#[tokio::test]
async fn the_activity_log_records_refusals_and_failures_in_order_without_secrets() {
    let app = spawn_app().await;
    let browser = app.browser.with_user_agent(CHROME_LINUX);
    browser.sign_in_as("octocat").await;
    // A cancelled sign-in, started from the signed-in session.
    let url = browser.start_login().await;
    let denied = browser.authorize(&url, "octocat", "deny").await;
    assert_eq!(browser.callback(&denied).await.status(), 403);
    // A forged write carrying the cookie.
    let forged = browser.send(
        browser
            .raw()
            .post(format!("{}/api/auth/logout", browser.base))
            .header("content-type", "text/plain")
            .body("x"),
    );
    assert_eq!(forged.await.status(), 403);

    let response = browser.get("/api/me/activity").await;
    let text = response.text().await.unwrap();
    let activity: Value = serde_json::from_str(&text).unwrap();
    let kinds: Vec<&str> = activity
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["csrf_refused", "sign_in_failed", "sign_in_succeeded"]
    );
    assert_eq!(activity[1]["reason"], "access_denied");
    assert_eq!(activity[2]["client_ip"], "127.0.0.1");
    assert_eq!(activity[2]["device"], "Chrome on Linux");

    let mut secrets = app.control().issued_tokens();
    secrets.push(browser.session_cookie().unwrap());
    secrets.push(denied.get("state").to_owned());
    let audit_lines: String = logs()
        .text()
        .lines()
        .filter(|l| l.contains("audit event"))
        .collect();
    assert!(
        audit_lines.contains("sign_in_succeeded"),
        "audit events are logged"
    );
    for secret in &secrets {
        assert!(!text.contains(secret.as_str()), "a secret in the activity");
        assert!(
            !audit_lines.contains(secret.as_str()),
            "a secret in an audit log line"
        );
    }
}

#[tokio::test]
async fn old_events_are_swept_after_the_retention_period() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    app.clock.advance(Duration::from_secs(91 * 24 * 3600));
    app.sweeper.run_once().await;
    let back = app.new_browser();
    back.sign_in_as("octocat").await;
    let activity = json_of(&back, "/api/me/activity").await;
    let kinds: Vec<&str> = activity
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    // The first sign-in (91 days old) is gone; its expiry, recorded by the sweep that
    // removed it, and the new sign-in remain.
    assert_eq!(kinds, ["sign_in_succeeded", "signed_out"]);
    assert_eq!(activity[1]["reason"], "expired");
}

#[tokio::test]
async fn a_person_keeps_at_most_fifty_sessions_and_the_oldest_end() {
    let app = spawn_app().await;
    let mut browsers = Vec::new();
    for _ in 0..55 {
        let browser = app.new_browser();
        browser.sign_in_as("octocat").await;
        browsers.push(browser);
        app.clock.advance(Duration::from_secs(1));
    }
    let newest = browsers.last().unwrap();
    let listed = json_of(newest, "/api/me/sessions").await;
    assert_eq!(listed.as_array().unwrap().len(), 50);
    for (n, browser) in browsers.iter().enumerate() {
        let expected = if n < 5 { 401 } else { 200 };
        assert_eq!(
            browser.get("/api/me").await.status(),
            expected,
            "browser {n}"
        );
    }
    let activity = json_of(newest, "/api/me/activity").await;
    let too_many = activity
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["reason"] == "too_many_sessions")
        .count();
    assert_eq!(too_many, 5, "{activity}");
    assert!(app.control().issued_tokens().len() >= 55);
    let live = app
        .control()
        .issued_tokens()
        .iter()
        .filter(|t| !app.control().is_revoked(t))
        .count();
    assert_eq!(live, 50, "the ended sessions' tokens were revoked");
}
