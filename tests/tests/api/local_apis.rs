//! Local APIs: a team's own handlers mounted through `Application::builder`, here the
//! example's `/api/greetings`. They get the BFF's session, CSRF rule, error shape and
//! security headers exactly as built-in routes do.

use backend::app::Application;
use backend::web::LocalApi;
use serde_json::{json, Value};

use crate::helpers::{assert_error, spawn_app_with, test_settings, Options, TestApp, PUBLIC_URL};

async fn app() -> TestApp {
    spawn_app_with(Options {
        local_apis: vec![team_api::local::api()],
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn a_local_handler_is_401_json_without_a_session() {
    let app = app().await;
    let response = app.browser.get("/api/greetings").await;
    assert_eq!(
        response.headers()["content-security-policy"],
        backend::web::headers::API_CSP
    );
    assert_error(response, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_local_write_without_the_csrf_header_never_reaches_the_handler() {
    let app = app().await;
    app.browser.sign_in_as("octocat").await;
    let forged = app
        .browser
        .send(
            app.browser
                .raw()
                .post(app.url("/api/greetings"))
                .header("content-type", "application/json")
                .body(r#"{"text":"forged"}"#),
        )
        .await;
    assert_error(forged, 403, "csrf_failed").await;
    let greeting: Value = app
        .browser
        .get("/api/greetings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(greeting["text"], "Hello, octocat!", "nothing was written");
}

#[tokio::test]
async fn a_local_handler_knows_the_signed_in_person() {
    let app = app().await;
    app.browser.sign_in_as("octocat").await;
    let written = app
        .browser
        .post_json("/api/greetings", &json!({"text": "Good morning"}))
        .await;
    assert_eq!(written.status(), 200);
    let read: Value = app
        .browser
        .get("/api/greetings")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(read["text"], "Good morning");
    let other = app.new_browser();
    other.sign_in_as("hubot").await;
    let theirs: Value = other.get("/api/greetings").await.json().await.unwrap();
    assert_eq!(theirs["text"], "Hello, hubot!", "each person their own");
    let too_long = "x".repeat(141);
    let refused = app
        .browser
        .post_json("/api/greetings", &json!({"text": too_long}))
        .await;
    assert_error(refused, 400, "invalid_request").await;
}

#[tokio::test]
async fn a_local_prefix_may_not_take_a_built_in_route_or_another_apis() {
    let dir = tempfile::tempdir().unwrap();
    let settings = test_settings(dir.path(), PUBLIC_URL, 0);
    let built = Application::builder(settings.clone())
        .local_api(LocalApi::new("me", |_| {}))
        .build()
        .await;
    let error = built.err().expect("refused").to_string();
    assert!(error.contains("built-in"), "{error}");
    let twice = Application::builder(settings)
        .local_api(LocalApi::new("notes", |_| {}))
        .local_api(LocalApi::new("notes/v2", |_| {}))
        .build()
        .await;
    let error = twice.err().expect("refused").to_string();
    assert!(error.contains("overlaps"), "{error}");
}

#[tokio::test]
async fn the_spa_learns_which_apis_this_deployment_has() {
    let app = spawn_app_with(Options {
        local_apis: vec![team_api::local::api()],
        apis: vec![backend::config::ApiSettings::new(
            "notes",
            "http://127.0.0.1:9".parse().unwrap(),
        )],
        ..Options::default()
    })
    .await;
    let providers: Value = app
        .browser
        .get("/api/auth/providers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(providers["apis"], json!(["notes", "greetings"]));
}

#[tokio::test]
async fn index_html_carries_the_sign_in_options_the_api_answers() {
    let dist = tempfile::tempdir().unwrap();
    std::fs::write(
        dist.path().join("index.html"),
        "<!doctype html><html><head><title>t</title>\
         <script type=\"module\">import init from '/app.js';</script></head><body></body></html>",
    )
    .unwrap();
    let app = spawn_app_with(Options {
        local_apis: vec![team_api::local::api()],
        static_dir: Some(dist.path().to_owned()),
        ..Options::default()
    })
    .await;
    let answer = app.browser.get("/api/auth/providers").await;
    assert_eq!(answer.headers()["content-type"], "application/json");
    let answer: Value = answer.json().await.unwrap();
    assert_eq!(answer["apis"], json!(["greetings"]));

    let page = app.browser.get("/dashboard").await;
    let csp = page.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    let page = page.text().await.unwrap();
    let block = page
        .split_once(r#"<script type="application/json" id="providers">"#)
        .expect("the page carries the sign-in options")
        .1
        .split_once("</script>")
        .unwrap()
        .0;
    assert!(page.find(block) < page.find("</head>"));
    let inline: Value = serde_json::from_str(block).unwrap();
    assert_eq!(inline, answer, "the same answer as the API");
    // The data block is not a script the policy needs to allow: only the loader is.
    assert_eq!(csp.matches("'sha256-").count(), 1, "{csp}");
}
