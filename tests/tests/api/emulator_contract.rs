//! The emulator itself answers the way github-oauth.md says GitHub does.

use std::net::TcpListener;

use emulator::{AppRegistration, Emulator};
use reqwest::StatusCode;
use serde_json::Value;

use crate::helpers::{pkce_pair, Browser, Redirect};

fn start() -> Emulator {
    Emulator::start(
        AppRegistration::random("Contract", "http://localhost:3000/callback"),
        TcpListener::bind("127.0.0.1:0").unwrap(),
        1,
    )
    .unwrap()
}

fn authorize_url(e: &Emulator, challenge: &str) -> String {
    format!(
        "{}/login/oauth/authorize?client_id={}&redirect_uri=http%3A%2F%2Flocalhost%3A3000%2Fcallback&scope=read%3Auser&state=s1&code_challenge={challenge}&code_challenge_method=S256",
        e.base_url(),
        e.control().app().client_id
    )
}

/// A fresh PKCE pair and the redirect after approving as octocat: a code to exchange.
async fn approved(e: &Emulator) -> (Redirect, String) {
    let (verifier, challenge) = pkce_pair();
    let redirect = Browser::new(e.base_url())
        .authorize(&authorize_url(e, &challenge), "octocat", "approve")
        .await;
    (redirect, verifier)
}

/// The token request as the BFF makes it, with the secret given.
async fn exchange(e: &Emulator, secret: &str, code: &str, verifier: &str) -> Value {
    let client_id = e.control().app().client_id.clone();
    token_request(
        e,
        &[
            ("client_id", &client_id),
            ("client_secret", secret),
            ("code", code),
            ("code_verifier", verifier),
        ],
    )
    .await
}

async fn token_request(e: &Emulator, form: &[(&str, &str)]) -> Value {
    let response = reqwest::Client::new()
        .post(format!("{}/login/oauth/access_token", e.base_url()))
        .header("accept", "application/json")
        .form(form)
        .send()
        .await
        .unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "GitHub answers token errors with 200"
    );
    response.json().await.unwrap()
}

#[tokio::test]
async fn a_pkce_mismatch_is_rejected_by_the_token_endpoint() {
    let e = start();
    let app = e.control().app().clone();
    let (redirect, verifier) = approved(&e).await;
    let (wrong, _) = pkce_pair();
    let answer = exchange(&e, &app.client_secret, redirect.get("code"), &wrong).await;
    assert_eq!(answer["error"], "bad_verification_code");
    // The code was spent by the failed attempt, like GitHub.
    let answer = exchange(&e, &app.client_secret, redirect.get("code"), &verifier).await;
    assert_eq!(answer["error"], "bad_verification_code");
}

#[tokio::test]
async fn codes_are_single_use_bound_to_the_client_and_expire() {
    let e = start();
    let app = e.control().app().clone();
    let (redirect, verifier) = approved(&e).await;
    let wrong_secret = exchange(&e, "nope", redirect.get("code"), &verifier).await;
    assert_eq!(wrong_secret["error"], "incorrect_client_credentials");
    let ok = exchange(&e, &app.client_secret, redirect.get("code"), &verifier).await;
    assert!(ok["access_token"].as_str().unwrap().starts_with("gho_"));
    assert_eq!(ok["token_type"], "bearer");
    let again = exchange(&e, &app.client_secret, redirect.get("code"), &verifier).await;
    assert_eq!(again["error"], "bad_verification_code");

    let (redirect, verifier) = approved(&e).await;
    e.control()
        .advance_clock(std::time::Duration::from_secs(601));
    let expired = exchange(&e, &app.client_secret, redirect.get("code"), &verifier).await;
    assert_eq!(expired["error"], "bad_verification_code");
}

#[tokio::test]
async fn bad_authorize_requests_show_an_error_page_and_never_redirect() {
    let e = start();
    let (_, challenge) = pkce_pair();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cases = [
        authorize_url(&e, &challenge).replace(
            "redirect_uri=http%3A%2F%2Flocalhost%3A3000",
            "redirect_uri=https%3A%2F%2Fevil.example",
        ),
        authorize_url(&e, &challenge).replace("client_id=", "client_id=unknown"),
        authorize_url(&e, &challenge)
            .replace("code_challenge_method=S256", "code_challenge_method=plain"),
    ];
    for url in cases {
        let response = client.get(&url).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{url}");
        assert!(response.headers().get("location").is_none());
        assert!(response
            .text()
            .await
            .unwrap()
            .contains("Authorization error"));
    }
}

#[tokio::test]
async fn the_consent_page_has_the_documented_form() {
    let e = start();
    let (_, challenge) = pkce_pair();
    let html =
        reqwest::get(authorize_url(&e, &challenge).replace("state=s1", "state=%3Cscript%3E"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
    for field in [
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
    ] {
        assert!(html.contains(&format!("name=\"{field}\"")), "{field}");
    }
    assert!(html.contains("name=\"login\"") && html.contains("name=\"decision\""));
    assert!(html.contains(">Authorize</button>") && html.contains(">Cancel</button>"));
    assert!(!html.contains("<script>"), "reflected values are escaped");
}

#[tokio::test]
async fn the_rest_api_needs_a_user_agent_and_a_live_token() {
    let e = start();
    let plain = reqwest::Client::builder().build().unwrap();
    let no_agent = plain
        .get(format!("{}/user", e.api_url()))
        .bearer_auth("gho_x")
        .send()
        .await
        .unwrap();
    assert_eq!(no_agent.status(), StatusCode::FORBIDDEN);
    let with_agent = plain
        .get(format!("{}/user", e.api_url()))
        .header("user-agent", "contract-test")
        .bearer_auth("gho_unknown")
        .send()
        .await
        .unwrap();
    assert_eq!(with_agent.status(), StatusCode::UNAUTHORIZED);
    let body: Value = with_agent.json().await.unwrap();
    assert_eq!(body["message"], "Bad credentials");
}
