//! GitHub allow-lists: only listed people, organisation members or team members get a
//! session, and a person removed from the organisation is signed out at the next
//! re-check.

use std::time::Duration;

use emulator::{Endpoint, Fault};
use serde_json::Value;

use crate::helpers::{assert_error, spawn_app_with, Options, TestApp};

async fn refused(app: &TestApp, login: &str) {
    let browser = app.new_browser();
    let url = browser.start_login().await;
    let redirect = browser.authorize(&url, login, "approve").await;
    assert_error(browser.callback(&redirect).await, 403, "not_allowed").await;
    assert_error(browser.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn only_listed_users_get_a_session() {
    let app = spawn_app_with(Options {
        allowed_users: &["OctoCat"],
        ..Options::default()
    })
    .await;
    let body = app.browser.sign_in_as("octocat").await;
    assert_eq!(
        body["user"]["login"], "octocat",
        "logins compare without case"
    );
    refused(&app, "hubot").await;
    // The refused person's fresh token does not linger at GitHub.
    assert!(app.control().has_no_live_token("hubot"));
}

#[tokio::test]
async fn numeric_ids_are_accepted_in_the_user_list() {
    let app = spawn_app_with(Options {
        allowed_users: &["id:480938"],
        ..Options::default()
    })
    .await;
    app.browser.sign_in_as("hubot").await;
    refused(&app, "octocat").await;
}

#[tokio::test]
async fn a_login_whose_owner_renamed_cannot_be_claimed_by_someone_else() {
    let app = spawn_app_with(Options {
        allowed_users: &["octocat"],
        ..Options::default()
    })
    .await;
    // The login is tied to the account that first signed in with it.
    app.browser.sign_in_as("octocat").await;
    // octocat renames; hubot takes the free name.
    app.control().rename("octocat", "octocat-2027");
    app.control().rename("hubot", "octocat");
    refused(&app, "hubot").await;
}

#[tokio::test]
async fn a_login_made_of_digits_does_not_match_an_id() {
    let app = spawn_app_with(Options {
        allowed_users: &["id:583231"],
        ..Options::default()
    })
    .await;
    // hubot calls themselves octocat's id.
    app.control().rename("hubot", "583231");
    refused(&app, "hubot").await;
    app.browser.sign_in_as("octocat").await;
}

#[tokio::test]
async fn organisation_members_get_in_and_read_org_is_asked_for() {
    let app = spawn_app_with(Options {
        allowed_orgs: &["github"],
        ..Options::default()
    })
    .await;
    let url = app.browser.start_login().await;
    let scope: String = url::Url::parse(&url)
        .unwrap()
        .query_pairs()
        .find(|(k, _)| k == "scope")
        .unwrap()
        .1
        .into_owned();
    assert!(scope.split(' ').any(|s| s == "read:org"), "{scope}");
    let redirect = app.browser.authorize(&url, "octocat", "approve").await;
    assert_eq!(app.browser.callback(&redirect).await.status(), 200);
    refused(&app, "hubot").await;
}

#[tokio::test]
async fn team_members_get_in() {
    let app = spawn_app_with(Options {
        allowed_teams: &["hubot-org/robots"],
        ..Options::default()
    })
    .await;
    app.browser.sign_in_as("hubot").await;
    refused(&app, "octocat").await;
}

#[tokio::test]
async fn someone_removed_from_the_organisation_is_signed_out_at_the_next_recheck() {
    let app = spawn_app_with(Options {
        allowed_orgs: &["github"],
        ..Options::default()
    })
    .await;
    app.browser.sign_in_as("octocat").await;
    app.control().remove_from_org("octocat", "github");
    // Not due yet: the membership was confirmed at sign-in.
    app.clock.advance(Duration::from_secs(1800));
    assert_eq!(app.browser.get("/api/me").await.status(), 200);
    app.clock.advance(Duration::from_secs(1801));
    assert_error(app.browser.get("/api/me").await, 403, "not_allowed").await;
    assert_error(app.browser.get("/api/me").await, 401, "unauthenticated").await;

    // Signing in again does not get them back in.
    refused(&app, "octocat").await;
}

#[tokio::test]
async fn a_provider_outage_during_the_recheck_keeps_the_session() {
    let app = spawn_app_with(Options {
        allowed_orgs: &["github"],
        ..Options::default()
    })
    .await;
    app.browser.sign_in_as("octocat").await;
    app.clock.advance(Duration::from_secs(3601));
    app.control().set_fault(Endpoint::Orgs, Fault::Status(502));
    assert_eq!(app.browser.get("/api/me").await.status(), 200);
    app.control().clear_faults();
    assert_eq!(app.browser.get("/api/me").await.status(), 200);
    let activity: Value = app
        .browser
        .get("/api/me/activity")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(activity[0]["kind"], "sign_in_succeeded");
}

#[tokio::test]
async fn a_recheck_that_keeps_failing_ends_the_session_after_a_grace() {
    let app = spawn_app_with(Options {
        allowed_orgs: &["github"],
        ..Options::default()
    })
    .await;
    app.browser.sign_in_as("octocat").await;
    // Removed from the organisation, and their own rate limit exhausted (tokens share
    // the person's budget), so GitHub cannot say so.
    app.control().remove_from_org("octocat", "github");
    app.control().set_fault(Endpoint::Orgs, Fault::RateLimited);
    app.clock.advance(Duration::from_secs(3601));
    assert_eq!(
        app.browser.get("/api/me").await.status(),
        200,
        "an outage is forgiven for a while"
    );
    app.clock.advance(Duration::from_secs(3598));
    assert_eq!(app.browser.get("/api/me").await.status(), 200);
    // Two re-check intervals since the last good check: not one request more.
    app.clock.advance(Duration::from_secs(1));
    assert_error(app.browser.get("/api/me").await, 401, "session_expired").await;
    assert_error(app.browser.get("/api/me").await, 401, "unauthenticated").await;
    let tokens = app.control().issued_tokens();
    assert_eq!(tokens.len(), 1);
    assert!(
        app.control().is_revoked(&tokens[0]),
        "the ended session's token is revoked at GitHub"
    );
    app.control().clear_faults();
    let back = app.new_browser();
    let url = back.start_login().await;
    let redirect = back.authorize(&url, "octocat", "approve").await;
    assert_error(back.callback(&redirect).await, 403, "not_allowed").await;
}
