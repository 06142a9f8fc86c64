//! `POST /api/webhooks/github`: signature first, deliveries acted on once, a revoked
//! grant ends every session of that person and nobody else's.

use emulator::{Delivery, Endpoint, Fault, FIXTURE_USERS};

use crate::helpers::{spawn_app, spawn_app_with, Options, TestApp};

const SECRET: &str = "It's a Secret to Everybody";

async fn app_with_webhooks() -> TestApp {
    spawn_app_with(Options {
        webhook_secret: Some(SECRET),
        ..Options::default()
    })
    .await
}

fn revoked(login: &str) -> Delivery {
    let user = FIXTURE_USERS.iter().find(|u| u.login == login).unwrap();
    Delivery::app_authorization_revoked(user)
}

#[tokio::test]
async fn a_revoked_grant_ends_every_session_of_that_person_only() {
    let app = app_with_webhooks().await;
    let laptop = app.new_browser();
    let phone = app.new_browser();
    let someone_else = app.new_browser();
    laptop.sign_in_as("octocat").await;
    phone.sign_in_as("octocat").await;
    someone_else.sign_in_as("hubot").await;

    app.control().revoke_grant_of("octocat");
    let status = revoked("octocat")
        .signed(SECRET)
        .send(&app.url("/api/webhooks/github"))
        .await
        .unwrap();
    assert_eq!(status, 204);
    assert_eq!(laptop.get("/api/me").await.status(), 401);
    assert_eq!(phone.get("/api/me").await.status(), 401);
    assert_eq!(someone_else.get("/api/me").await.status(), 200);
}

#[tokio::test]
async fn a_missing_or_wrong_signature_changes_nothing() {
    let app = app_with_webhooks().await;
    app.browser.sign_in_as("octocat").await;
    let url = app.url("/api/webhooks/github");
    let unsigned = revoked("octocat");
    assert_eq!(unsigned.send(&url).await.unwrap(), 401);
    let forged = revoked("octocat").signed("not the secret");
    assert_eq!(forged.send(&url).await.unwrap(), 401);
    // A valid signature of another body does not carry over.
    let mut swapped = revoked("hubot").signed(SECRET);
    swapped.body = revoked("octocat").body;
    assert_eq!(swapped.send(&url).await.unwrap(), 401);
    assert_eq!(app.browser.get("/api/me").await.status(), 200);
}

#[tokio::test]
async fn a_replayed_delivery_is_acknowledged_and_not_acted_on() {
    let app = app_with_webhooks().await;
    let url = app.url("/api/webhooks/github");
    app.browser.sign_in_as("octocat").await;
    app.control().revoke_grant_of("octocat");
    let delivery = revoked("octocat").signed(SECRET);
    assert_eq!(delivery.send(&url).await.unwrap(), 204);
    assert_eq!(app.browser.get("/api/me").await.status(), 401);
    // The person authorises the app again and signs in; the old delivery, replayed by
    // someone who recorded it, must not sign them out.
    let again = app.new_browser();
    again.sign_in_as("octocat").await;
    assert_eq!(delivery.send(&url).await.unwrap(), 200);
    assert_eq!(again.get("/api/me").await.status(), 200);
}

#[tokio::test]
async fn unknown_events_and_other_actions_are_acknowledged_and_ignored() {
    let app = app_with_webhooks().await;
    let url = app.url("/api/webhooks/github");
    app.browser.sign_in_as("octocat").await;
    let ping = Delivery::new("ping", r#"{"zen":"Keep it logically awesome."}"#.into());
    assert_eq!(ping.signed(SECRET).send(&url).await.unwrap(), 204);
    let mut other_action = revoked("octocat");
    other_action.body = other_action.body.replace("revoked", "created");
    assert_eq!(other_action.signed(SECRET).send(&url).await.unwrap(), 204);
    assert_eq!(app.browser.get("/api/me").await.status(), 200);
}

#[tokio::test]
async fn the_webhook_is_off_without_a_secret_and_bounded_in_size() {
    let off = spawn_app().await;
    let status = revoked("octocat")
        .signed(SECRET)
        .send(&off.url("/api/webhooks/github"))
        .await
        .unwrap();
    assert_eq!(status, 404);

    let app = app_with_webhooks().await;
    let huge = Delivery::new("ping", format!("{{\"pad\":\"{}\"}}", "x".repeat(2 << 20)));
    let status = huge
        .signed(SECRET)
        .send(&app.url("/api/webhooks/github"))
        .await
        .unwrap();
    assert_eq!(status, 413);
}

#[tokio::test]
async fn a_recorded_revocation_replayed_under_a_new_delivery_id_ends_no_live_session() {
    let app = app_with_webhooks().await;
    let url = app.url("/api/webhooks/github");
    app.browser.sign_in_as("octocat").await;
    app.control().revoke_grant_of("octocat");
    let recorded = revoked("octocat").signed(SECRET);
    assert_eq!(recorded.send(&url).await.unwrap(), 204);
    assert_eq!(app.browser.get("/api/me").await.status(), 401);
    // The person authorises the app again; someone who recorded the delivery sends its
    // signed body again under a fresh X-GitHub-Delivery (GitHub signs only the body).
    let again = app.new_browser();
    again.sign_in_as("octocat").await;
    let mut replayed = revoked("octocat");
    replayed.body = recorded.body.clone();
    let replayed = replayed.signed(SECRET);
    assert_ne!(replayed.id, recorded.id);
    assert_eq!(replayed.send(&url).await.unwrap(), 204);
    assert_eq!(
        again.get("/api/me").await.status(),
        200,
        "GitHub still honours the new token: the session lives"
    );
}

#[tokio::test]
async fn a_delivery_github_could_not_confirm_is_acted_on_when_redelivered() {
    let app = app_with_webhooks().await;
    let url = app.url("/api/webhooks/github");
    app.browser.sign_in_as("octocat").await;
    app.control().revoke_grant_of("octocat");
    let delivery = revoked("octocat").signed(SECRET);
    // GitHub cannot be asked which tokens are dead: nothing is decided, and the
    // delivery is not remembered, so GitHub's redelivery is acted on.
    app.control()
        .set_fault(Endpoint::CheckToken, Fault::Status(502));
    assert_eq!(delivery.send(&url).await.unwrap(), 503);
    app.control().clear_faults();
    assert_eq!(delivery.send(&url).await.unwrap(), 204);
    assert_eq!(app.browser.get("/api/me").await.status(), 401);
    assert_eq!(delivery.send(&url).await.unwrap(), 200, "acted on once");
}
