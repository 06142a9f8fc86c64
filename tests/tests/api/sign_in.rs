//! The happy path, end to end, and what each step leaves behind.

use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{assert_error, spawn_app};
use backend::web::cookie::COOKIE_NAME;

#[tokio::test]
async fn a_person_signs_in_reads_their_data_and_signs_out() {
    let app = spawn_app().await;
    let browser = &app.browser;

    // Arrange: the sign-in page asks which providers exist.
    let providers: Value = browser
        .get("/api/auth/providers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(providers["providers"][0]["id"], "github");
    assert_eq!(providers["dev_mode"], false);

    // Act: login -> consent form -> callback.
    let authorize_url = browser.start_login().await;
    let pre_auth_cookie = browser.session_cookie().expect("a pre-auth session cookie");
    assert!(authorize_url.starts_with(app.emulator.base_url()));
    let redirect = browser
        .authorize(&authorize_url, "octocat", "approve")
        .await;
    assert_eq!(redirect.location.path(), "/callback");
    assert_eq!(redirect.get("code").len(), 20);
    let response = browser.callback(&redirect).await;

    // Assert: signed in, with a new session id.
    assert_eq!(response.status(), StatusCode::OK);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["user"]["login"], "octocat");
    assert_eq!(body["user"]["provider_user_id"], "583231");
    assert_eq!(body["user"]["email"], "octocat@github.com");
    assert_eq!(body["return_to"], "/dashboard");
    let session_cookie = browser.session_cookie().unwrap();
    assert_ne!(
        session_cookie, pre_auth_cookie,
        "the session id is renewed at sign-in"
    );

    let me = browser.get("/api/me").await;
    assert_eq!(me.status(), StatusCode::OK);
    let me: Value = me.json().await.unwrap();
    assert_eq!(me["login"], "octocat");
    assert_eq!(me["id"], body["user"]["id"]);

    let repos = browser.get("/api/me/repos").await;
    assert_eq!(repos.status(), StatusCode::OK);
    let repos: Value = repos.json().await.unwrap();
    let names: Vec<&str> = repos
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Hello-World", "Spoon-Knife", "git-consortium"]);
    assert_eq!(repos[0]["full_name"], "octocat/Hello-World");

    let tokens = app.control().issued_tokens();
    assert_eq!(tokens.len(), 1);
    let logout = browser.logout().await;
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    assert!(browser.session_cookie().is_none(), "the cookie is expired");
    assert!(
        app.control().is_revoked(&tokens[0]),
        "the token is revoked at the provider"
    );

    // The old cookie, replayed by hand, is dead too.
    let replay = browser
        .send(
            browser
                .raw()
                .get(format!("{}/api/me", app.address))
                .header("cookie", format!("{COOKIE_NAME}={session_cookie}")),
        )
        .await;
    assert_error(replay, 401, "unauthenticated").await;
    assert_error(browser.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_user_without_public_email_gets_none() {
    let app = spawn_app().await;
    let body = app.browser.sign_in_as("hubot").await;
    assert_eq!(body["user"]["login"], "hubot");
    assert!(
        body["user"]["email"].is_null(),
        "an unverified address is not used: {body}"
    );
    assert!(body["user"]["name"].is_null());
}

#[tokio::test]
async fn signing_in_twice_keeps_the_same_user_id() {
    let app = spawn_app().await;
    let first = app.browser.sign_in_as("octocat").await;
    let other = app.new_browser();
    let second = other.sign_in_as("octocat").await;
    assert_eq!(first["user"]["id"], second["user"]["id"]);
    let third = app.new_browser().sign_in_as("hubot").await;
    assert_ne!(first["user"]["id"], third["user"]["id"]);
}

#[tokio::test]
async fn logout_is_idempotent_and_works_signed_out() {
    let app = spawn_app().await;
    assert_eq!(app.browser.logout().await.status(), StatusCode::NO_CONTENT);
    app.browser.sign_in_as("octocat").await;
    assert_eq!(app.browser.logout().await.status(), StatusCode::NO_CONTENT);
    assert_eq!(app.browser.logout().await.status(), StatusCode::NO_CONTENT);
}

#[tokio::test]
async fn health_checks_answer() {
    let app = spawn_app().await;
    assert_eq!(app.browser.get("/healthz").await.status(), StatusCode::OK);
    assert_eq!(app.browser.get("/readyz").await.status(), StatusCode::OK);
}
