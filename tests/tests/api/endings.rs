//! However a session ends, its provider tokens are revoked at the provider (or the
//! provider said they are dead already): a token left live at GitHub after the session
//! that held it is gone is a credential nobody watches. One test per ending; the OpenID
//! Connect endings are in `id_tokens.rs`, next to the issuer that signs their tokens.

use std::time::Duration;

use emulator::{Endpoint, Fault};

use crate::helpers::{assert_error, spawn_app_with, Options};

#[tokio::test]
async fn a_session_found_expired_on_load_has_its_token_revoked() {
    let app = spawn_app_with(Options {
        session_idle_secs: 600,
        session_absolute_secs: 3600,
        ..Options::default()
    })
    .await;
    app.browser.sign_in_as("octocat").await;
    app.clock.advance(Duration::from_secs(601));
    assert_error(app.browser.get("/api/me").await, 401, "unauthenticated").await;
    assert!(app.control().has_no_live_token("octocat"));
}

#[tokio::test]
async fn a_person_dropped_from_the_allow_list_has_their_token_revoked() {
    let app = spawn_app_with(Options {
        allowed_orgs: &["github"],
        ..Options::default()
    })
    .await;
    app.browser.sign_in_as("octocat").await;
    app.control().remove_from_org("octocat", "github");
    app.clock.advance(Duration::from_secs(3601));
    assert_error(app.browser.get("/api/me").await, 403, "not_allowed").await;
    assert!(app.control().has_no_live_token("octocat"));
}

#[tokio::test]
async fn signing_in_as_someone_else_in_the_same_browser_revokes_the_first_token() {
    let app = spawn_app_with(Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    app.browser.sign_in_as("hubot").await;
    assert_eq!(
        app.browser
            .get("/api/me")
            .await
            .json::<serde_json::Value>()
            .await
            .unwrap()["login"],
        "hubot"
    );
    assert!(
        app.control().has_no_live_token("octocat"),
        "octocat's token went with octocat's session"
    );
    assert!(!app.control().has_no_live_token("hubot"));
}

#[tokio::test]
async fn a_token_refreshed_while_the_session_was_signed_out_is_revoked() {
    let app = spawn_app_with(Options {
        expiring_tokens: true,
        ..Options::default()
    })
    .await;
    app.browser.sign_in_as("octocat").await;
    app.advance_clocks(Duration::from_secs(8 * 3600 - 240));
    // The refresh is slow; the person signs out while it runs.
    app.control()
        .set_fault(Endpoint::Refresh, Fault::Delay(Duration::from_millis(500)));
    let repos = app.browser.get("/api/me/repos");
    let logout = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        app.new_browser_with_cookies_of(&app.browser).logout().await
    };
    let (repos, logout) = tokio::join!(repos, logout);
    assert_eq!(logout.status(), 204);
    assert_eq!(repos.status(), 401, "the session ended under the request");
    assert_eq!(app.control().refresh_grants(), 1);
    assert!(
        app.control().has_no_live_token("octocat"),
        "the successor died with the session"
    );
}

#[tokio::test]
async fn a_token_issued_to_a_sign_in_that_then_failed_is_revoked() {
    let app = spawn_app_with(Options::default()).await;
    let url = app.browser.start_login().await;
    let redirect = app.browser.authorize(&url, "octocat", "approve").await;
    app.control().set_fault(Endpoint::User, Fault::Status(500));
    assert_error(
        app.browser.callback(&redirect).await,
        503,
        "provider_unavailable",
    )
    .await;
    assert_eq!(app.control().issued_tokens().len(), 1, "a token was issued");
    assert!(app.control().has_no_live_token("octocat"));
}
