//! Hostile ID tokens and logout tokens from an issuer that signs what the test asks:
//! each is refused with a typed error and leaves no session; honest ones pass. Start-up
//! refuses an issuer that cannot be reached or names itself differently.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use backend::app::Application;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::oidc::CLIENT_ID;
use crate::helpers::{
    assert_error, logs, spawn_app_with, test_settings, use_oidc, Browser, Idp, Options, Redirect,
    TestApp, OIDC_ID, PUBLIC_URL,
};
use crate::test_issuer::{hmac_signed, unsigned, Key, TestIssuer};

const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

async fn app_with(issuer: &TestIssuer) -> TestApp {
    spawn_app_with(Options {
        oidc: Idp::At(issuer.url.clone()),
        ..Options::default()
    })
    .await
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

/// The claims of an honest ID token for `nonce`.
fn honest(issuer: &TestIssuer, nonce: &str) -> Value {
    json!({
        "iss": issuer.url,
        "aud": CLIENT_ID,
        "sub": "alice",
        "iat": now(),
        "exp": now() + 300,
        "nonce": nonce,
        "sid": "sid-1",
        "name": "Alice",
        "preferred_username": "alice",
        "email": "alice@example.com",
    })
}

/// A sign-in under way: the browser, and the nonce and state its authorize URL carries.
struct Pending {
    browser: Browser,
    nonce: String,
    state: String,
}

async fn begin(app: &TestApp) -> Pending {
    let browser = app.new_browser();
    let url = url::Url::parse(&browser.start_login_with(OIDC_ID).await).unwrap();
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap()
    };
    Pending {
        nonce: param("nonce"),
        state: param("state"),
        browser,
    }
}

impl Pending {
    /// Comes back from the issuer; its token endpoint answers with `id_token`.
    async fn finish(&self, issuer: &TestIssuer, id_token: String) -> reqwest::Response {
        issuer.answer_with(id_token);
        let location: url::Url = format!("{PUBLIC_URL}/callback").parse().unwrap();
        let params = [
            ("code", "a-code"),
            ("state", self.state.as_str()),
            ("iss", issuer.url.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        self.browser.callback(&Redirect { location, params }).await
    }
}

async fn signed_in_user(browser: &Browser) -> Value {
    let body: Value = browser.get("/api/auth/session").await.json().await.unwrap();
    body["user"].clone()
}

#[tokio::test]
async fn honest_tokens_signed_with_either_key_are_accepted() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    for key in [&issuer.ed25519, &issuer.p256] {
        let pending = begin(&app).await;
        let response = pending
            .finish(&issuer, key.sign(&honest(&issuer, &pending.nonce)))
            .await;
        assert_eq!(response.status(), StatusCode::OK, "{:?}", key.alg);
        assert_eq!(signed_in_user(&pending.browser).await["login"], "alice");
    }
}

#[tokio::test]
async fn hostile_id_tokens_are_refused_and_leave_no_session() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    let stranger = Key::ed25519("ed-1");
    type Forge = Box<dyn Fn(&TestIssuer, Value) -> String>;
    let with = |change: fn(&mut Value)| -> Forge {
        Box::new(move |issuer: &TestIssuer, mut claims: Value| {
            change(&mut claims);
            issuer.ed25519.sign(&claims)
        })
    };
    let cases: Vec<(&str, &str, Forge)> = vec![
        (
            "signed by another key under our key's id",
            "bad signature",
            Box::new(move |_, claims| stranger.sign(&claims)),
        ),
        (
            "signed by a key the issuer never published",
            "signed by an unknown key",
            Box::new(|_, claims| Key::ed25519("ed-unknown").sign(&claims)),
        ),
        (
            "alg none",
            "malformed or unsupported header",
            Box::new(|issuer, claims| unsigned(&issuer.ed25519.kid, &claims)),
        ),
        (
            "HMAC keyed with the public key",
            "signing algorithm not allowed",
            Box::new(|issuer, claims| {
                hmac_signed(&issuer.ed25519.kid, &issuer.ed25519.public, &claims)
            }),
        ),
        (
            "HMAC keyed with the public JWK",
            "signing algorithm not allowed",
            Box::new(|issuer, claims| {
                let jwk = issuer.ed25519.jwk.to_string();
                hmac_signed(&issuer.ed25519.kid, jwk.as_bytes(), &claims)
            }),
        ),
        (
            "for another client",
            "wrong audience",
            with(|c| c["aud"] = json!("someone-else")),
        ),
        (
            "from another issuer",
            "wrong issuer",
            with(|c| c["iss"] = json!("http://127.0.0.1:1")),
        ),
        (
            "expired an hour ago",
            "expired",
            with(|c| {
                c["exp"] = json!(now() - 3600);
                c["iat"] = json!(now() - 7200);
            }),
        ),
        (
            "issued in an hour",
            "issued in the future",
            with(|c| {
                c["iat"] = json!(now() + 3600);
                c["exp"] = json!(now() + 7200);
            }),
        ),
        (
            "another sign-in's nonce",
            "wrong nonce",
            with(|c| c["nonce"] = json!("not-this-sign-ins-nonce")),
        ),
        (
            "no nonce",
            "wrong nonce",
            with(|c| {
                c.as_object_mut().unwrap().remove("nonce");
            }),
        ),
        (
            "several audiences and no azp",
            "several audiences and no azp",
            with(|c| c["aud"] = json!([CLIENT_ID, "someone-else"])),
        ),
        (
            "authorized party is another client",
            "authorized party is another client",
            with(|c| {
                c["aud"] = json!([CLIENT_ID, "someone-else"]);
                c["azp"] = json!("someone-else");
            }),
        ),
        (
            "no subject",
            "a required claim is missing",
            with(|c| {
                c.as_object_mut().unwrap().remove("sub");
            }),
        ),
        (
            "not a JWT",
            "malformed or unsupported header",
            Box::new(|_, _| "not.a.jwt".into()),
        ),
    ];
    for (case, reason, forge) in cases {
        let needle = format!("refused: {reason}");
        let seen_before = logs().text().matches(&needle).count();
        let pending = begin(&app).await;
        let token = forge(&issuer, honest(&issuer, &pending.nonce));
        let response = pending.finish(&issuer, token).await;
        let body = assert_error(response, 502, "provider_error").await;
        assert!(!body.to_string().contains("eyJ"), "{case}: {body}");
        assert_eq!(
            signed_in_user(&pending.browser).await,
            Value::Null,
            "{case}"
        );
        assert_error(pending.browser.get("/api/me").await, 401, "unauthenticated").await;
        assert!(
            logs().text().matches(&needle).count() > seen_before,
            "{case}: expected the reason {reason:?} in the log"
        );
    }
}

#[tokio::test]
async fn unknown_keys_are_looked_up_at_most_every_30_seconds() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    assert_eq!(issuer.jwks_fetches(), 1, "fetched at start-up");

    // The issuer rotates to a new key. Too soon after the last fetch to look again.
    let rotated = Key::ed25519("ed-2");
    issuer.publish(&rotated);
    let pending = begin(&app).await;
    let response = pending
        .finish(&issuer, rotated.sign(&honest(&issuer, &pending.nonce)))
        .await;
    assert_error(response, 502, "provider_error").await;
    assert_eq!(issuer.jwks_fetches(), 1);

    // Later, the unknown key id triggers one fetch, which finds it.
    app.clock.advance(Duration::from_secs(31));
    let pending = begin(&app).await;
    let response = pending
        .finish(&issuer, rotated.sign(&honest(&issuer, &pending.nonce)))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(issuer.jwks_fetches(), 2);

    // A flood of made-up key ids right after costs the issuer nothing.
    for n in 0..5 {
        let pending = begin(&app).await;
        let token = Key::ed25519(&format!("bogus-{n}")).sign(&honest(&issuer, &pending.nonce));
        assert_error(pending.finish(&issuer, token).await, 502, "provider_error").await;
    }
    assert_eq!(issuer.jwks_fetches(), 2);
}

#[tokio::test]
async fn start_up_refuses_an_issuer_it_cannot_trust() {
    crate::helpers::logs();
    let data_dir = tempfile::tempdir().unwrap();
    let start = |issuer: String| {
        let mut settings = test_settings(data_dir.path(), PUBLIC_URL, 0);
        use_oidc(&mut settings, &issuer, OIDC_ID);
        async move {
            match Application::build(settings).await {
                Ok(_) => panic!("started with {issuer}"),
                Err(e) => format!("{e:#}"),
            }
        }
    };

    // Nothing listens on port 1 of the loopback address.
    let error = start("http://127.0.0.1:1".into()).await;
    assert!(error.contains("\"test-idp\""), "{error}");
    assert!(error.contains("unreachable"), "{error}");
    assert_eq!(error.lines().count(), 1, "{error}");

    let issuer = TestIssuer::start();
    issuer.claim_issuer("https://idp.example.com");
    let error = start(issuer.url.clone()).await;
    assert!(error.contains("\"test-idp\""), "{error}");
    assert!(error.contains("https://idp.example.com"), "{error}");
    assert_eq!(error.lines().count(), 1, "{error}");
}

/// The claims of a logout token for session `sid` of `alice`.
fn logout_claims(issuer: &TestIssuer, jti: &str) -> Value {
    json!({
        "iss": issuer.url,
        "aud": CLIENT_ID,
        "iat": now(),
        "exp": now() + 120,
        "jti": jti,
        "sid": "sid-1",
        "events": { LOGOUT_EVENT: {} },
    })
}

/// Posts a logout token the way a provider does: a form, no cookie, no CSRF header.
async fn send_logout(app: &TestApp, provider: &str, token: &str) -> reqwest::Response {
    reqwest::Client::new()
        .post(app.url(&format!("/api/auth/backchannel-logout/{provider}")))
        .form(&[("logout_token", token)])
        .send()
        .await
        .unwrap()
}

async fn signed_in(app: &TestApp, issuer: &TestIssuer) -> Browser {
    let pending = begin(app).await;
    let response = pending
        .finish(issuer, issuer.ed25519.sign(&honest(issuer, &pending.nonce)))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    pending.browser
}

#[tokio::test]
async fn hostile_logout_tokens_end_nothing() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    let browser = signed_in(&app, &issuer).await;
    let with = |change: fn(&mut Value)| {
        let mut claims = logout_claims(&issuer, "jti-hostile");
        change(&mut claims);
        issuer.ed25519.sign(&claims)
    };
    let cases = [
        ("with a nonce", with(|c| c["nonce"] = json!("n"))),
        (
            "without the logout event",
            with(|c| c["events"] = json!({})),
        ),
        (
            "without a jti",
            with(|c| {
                c.as_object_mut().unwrap().remove("jti");
            }),
        ),
        (
            "neither sub nor sid",
            with(|c| {
                c.as_object_mut().unwrap().remove("sid");
            }),
        ),
        (
            "for another client",
            with(|c| c["aud"] = json!("someone-else")),
        ),
        (
            "from another issuer",
            with(|c| c["iss"] = json!("http://127.0.0.1:1")),
        ),
        (
            "expired",
            with(|c| {
                c["iat"] = json!(now() - 7200);
                c["exp"] = json!(now() - 3600);
            }),
        ),
        (
            "signed by a stranger",
            Key::ed25519("ed-1").sign(&logout_claims(&issuer, "j")),
        ),
        ("alg none", unsigned("ed-1", &logout_claims(&issuer, "j"))),
        (
            "an ID token",
            issuer.ed25519.sign(&honest(&issuer, "some-nonce")),
        ),
    ];
    for (case, token) in cases {
        let response = send_logout(&app, OIDC_ID, &token).await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST, "{case}");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["error"], "invalid_request", "{case}");
        assert_eq!(signed_in_user(&browser).await["login"], "alice", "{case}");
    }

    // Malformed requests.
    let no_token = reqwest::Client::new()
        .post(app.url(&format!("/api/auth/backchannel-logout/{OIDC_ID}")))
        .form(&[("something_else", "x")])
        .send()
        .await
        .unwrap();
    assert_error(no_token, 400, "invalid_request").await;
    let as_json = reqwest::Client::new()
        .post(app.url(&format!("/api/auth/backchannel-logout/{OIDC_ID}")))
        .json(&json!({"logout_token": issuer.ed25519.sign(&logout_claims(&issuer, "j1"))}))
        .send()
        .await
        .unwrap();
    assert_error(as_json, 400, "invalid_request").await;
    let huge = "a".repeat(200 * 1024);
    assert_error(
        send_logout(&app, OIDC_ID, &huge).await,
        413,
        "payload_too_large",
    )
    .await;
    let token = issuer.ed25519.sign(&logout_claims(&issuer, "j2"));
    assert_error(
        send_logout(&app, "no-such-provider", &token).await,
        404,
        "not_found",
    )
    .await;
    // GitHub has no back-channel logout.
    assert_error(
        send_logout(&app, "github", &token).await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(signed_in_user(&browser).await["login"], "alice");
}

#[tokio::test]
async fn a_logout_token_ends_its_sessions_once() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    let first = signed_in(&app, &issuer).await;
    let second = signed_in(&app, &issuer).await;
    let token = issuer.ed25519.sign(&logout_claims(&issuer, "jti-1"));
    let response = send_logout(&app, OIDC_ID, &token).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["cache-control"], "no-store");
    for browser in [&first, &second] {
        assert_error(browser.get("/api/me").await, 401, "unauthenticated").await;
    }

    // The same token again (a replay) is refused, even though there is a new session.
    let third = signed_in(&app, &issuer).await;
    assert_error(
        send_logout(&app, OIDC_ID, &token).await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(signed_in_user(&third).await["login"], "alice");

    // A token naming the person (`sub`) rather than a provider session ends them all.
    let mut by_subject = logout_claims(&issuer, "jti-2");
    by_subject.as_object_mut().unwrap().remove("sid");
    by_subject["sub"] = json!("alice");
    let response = send_logout(&app, OIDC_ID, &issuer.p256.sign(&by_subject)).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_error(third.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn logout_tokens_must_be_fresh_typed_and_well_formed() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    let browser = signed_in(&app, &issuer).await;
    let with = |change: fn(&mut Value)| {
        let mut claims = logout_claims(&issuer, "jti-stale");
        change(&mut claims);
        claims
    };
    let cases = [
        (
            "without an expiry",
            issuer.ed25519.sign(&with(|c| {
                c.as_object_mut().unwrap().remove("exp");
            })),
        ),
        (
            "issued two days ago (and not expired)",
            issuer
                .ed25519
                .sign(&with(|c| c["iat"] = json!(now() - 2 * 24 * 3600))),
        ),
        (
            "whose event is not an object",
            issuer
                .ed25519
                .sign(&with(|c| c["events"] = json!({ LOGOUT_EVENT: "yes" }))),
        ),
        (
            "typed as an access token",
            issuer
                .ed25519
                .sign_typed("at+jwt", &logout_claims(&issuer, "jti-typ")),
        ),
    ];
    for (case, token) in cases {
        assert_error(
            send_logout(&app, OIDC_ID, &token).await,
            400,
            "invalid_request",
        )
        .await;
        assert_eq!(signed_in_user(&browser).await["login"], "alice", "{case}");
    }
    // The type logout tokens should carry is taken.
    let typed = issuer
        .ed25519
        .sign_typed("logout+jwt", &logout_claims(&issuer, "jti-typed"));
    assert_eq!(send_logout(&app, OIDC_ID, &typed).await.status(), 200);
    assert_error(browser.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn a_logout_token_replayed_a_day_later_is_still_refused() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    let first = signed_in(&app, &issuer).await;
    // A token that stays valid for two days: its jti must be remembered that long.
    let mut claims = logout_claims(&issuer, "jti-long");
    claims["exp"] = json!(now() + 2 * 24 * 3600);
    let token = issuer.ed25519.sign(&claims);
    assert_eq!(send_logout(&app, OIDC_ID, &token).await.status(), 200);
    assert_error(first.get("/api/me").await, 401, "unauthenticated").await;
    app.clock.advance(std::time::Duration::from_secs(25 * 3600));
    app.sweeper.run_once().await;
    let later = signed_in(&app, &issuer).await;
    assert_error(
        send_logout(&app, OIDC_ID, &token).await,
        400,
        "invalid_request",
    )
    .await;
    assert_eq!(signed_in_user(&later).await["login"], "alice");
}

#[tokio::test]
async fn no_id_token_or_access_token_reaches_a_body_or_a_log_line() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    let pending = begin(&app).await;
    let id_token = issuer.ed25519.sign(&honest(&issuer, &pending.nonce));
    let callback = pending.finish(&issuer, id_token.clone()).await;
    assert_eq!(callback.status(), StatusCode::OK);
    let browser = pending.browser;
    let mut bodies = vec![callback.text().await.unwrap()];
    for path in ["/api/me", "/api/auth/session", "/api/me/sessions"] {
        bodies.push(browser.get(path).await.text().await.unwrap());
    }
    let logout = browser.logout().await;
    assert_eq!(logout.status(), StatusCode::OK, "a provider logout page");
    bodies.push(logout.text().await.unwrap());
    let mut secrets = issuer.access_tokens();
    secrets.push(id_token);
    assert_eq!(secrets.len(), 2);
    let log = logs().text();
    for secret in &secrets {
        for body in &bodies {
            assert!(!body.contains(secret.as_str()), "a token in {body}");
        }
        assert!(!log.contains(secret.as_str()), "a token in a log line");
    }
}

#[tokio::test]
async fn a_back_channel_logout_revokes_the_ended_sessions_tokens() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    let browser = signed_in(&app, &issuer).await;
    assert!(!issuer.every_access_token_revoked());
    let token = issuer.ed25519.sign(&logout_claims(&issuer, "jti-revoke"));
    assert_eq!(send_logout(&app, OIDC_ID, &token).await.status(), 200);
    assert_error(browser.get("/api/me").await, 401, "unauthenticated").await;
    assert!(issuer.every_access_token_revoked());
}

#[tokio::test]
async fn signing_out_everywhere_revokes_every_sessions_tokens_at_a_provider_without_grants() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    let laptop = signed_in(&app, &issuer).await;
    let _phone = signed_in(&app, &issuer).await;
    assert_eq!(issuer.access_tokens().len(), 2);
    let everywhere = laptop
        .post_json("/api/auth/logout", &json!({"everywhere": true}))
        .await;
    assert_eq!(
        everywhere.status(),
        StatusCode::OK,
        "a provider logout page"
    );
    assert!(
        issuer.every_access_token_revoked(),
        "the phone's token too: this provider has no whole-grant revocation"
    );
}

#[tokio::test]
async fn tokens_issued_with_a_refused_id_token_are_revoked() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    let pending = begin(&app).await;
    let mut claims = honest(&issuer, &pending.nonce);
    claims["aud"] = json!("someone-else");
    let response = pending.finish(&issuer, issuer.ed25519.sign(&claims)).await;
    assert_error(response, 502, "provider_error").await;
    assert_eq!(issuer.access_tokens().len(), 1);
    assert!(issuer.every_access_token_revoked());
}

#[tokio::test]
async fn an_id_token_for_other_audiences_too_is_refused_unless_they_are_configured() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    let pending = begin(&app).await;
    let mut claims = honest(&issuer, &pending.nonce);
    claims["aud"] = json!([CLIENT_ID, "payments-api"]);
    claims["azp"] = json!(CLIENT_ID);
    let response = pending.finish(&issuer, issuer.ed25519.sign(&claims)).await;
    assert_error(response, 502, "provider_error").await;

    // A deployment that knows the provider adds an audience of its own says so.
    let app = spawn_app_with(Options {
        oidc: Idp::At(issuer.url.clone()),
        oidc_extra_audiences: &["payments-api"],
        ..Options::default()
    })
    .await;
    let pending = begin(&app).await;
    let mut claims = honest(&issuer, &pending.nonce);
    claims["aud"] = json!([CLIENT_ID, "payments-api"]);
    claims["azp"] = json!(CLIENT_ID);
    let response = pending.finish(&issuer, issuer.ed25519.sign(&claims)).await;
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_refreshed_id_token_naming_another_person_ends_the_session() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    let browser = signed_in(&app, &issuer).await;
    // An hour on, the token is refreshed (at the userinfo re-check); the provider's new
    // ID token names someone else (OpenID Connect Core §12.2 forbids it).
    let mut claims = honest(&issuer, "unused");
    claims.as_object_mut().unwrap().remove("nonce");
    claims["sub"] = json!("mallory");
    issuer.answer_with(issuer.ed25519.sign(&claims));
    app.clock.advance(Duration::from_secs(3600));
    assert_error(browser.get("/api/me").await, 401, "session_expired").await;
    assert_error(browser.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn profile_and_picture_links_are_kept_only_when_https() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    for (picture, profile, kept) in [
        ("javascript:alert(1)", "data:text/html,x", false),
        (
            "http://cdn.example.com/a.png",
            "ftp://example.com/alice",
            false,
        ),
        (
            "https://cdn.example.com/a.png",
            "https://example.com/alice",
            true,
        ),
    ] {
        let pending = begin(&app).await;
        let mut claims = honest(&issuer, &pending.nonce);
        claims["picture"] = json!(picture);
        claims["profile"] = json!(profile);
        let response = pending.finish(&issuer, issuer.ed25519.sign(&claims)).await;
        assert_eq!(response.status(), StatusCode::OK);
        let user = signed_in_user(&pending.browser).await;
        if kept {
            assert_eq!(user["avatar_url"], picture);
            assert_eq!(user["profile_url"], profile);
        } else {
            assert!(user["avatar_url"].is_null(), "{picture} was kept");
            assert!(user["profile_url"].is_null(), "{profile} was kept");
        }
    }
}

#[tokio::test]
async fn an_error_answer_from_another_issuer_is_a_mix_up_not_a_cancel() {
    let issuer = TestIssuer::start();
    let app = app_with(&issuer).await;
    // RFC 9207 §2.4: the iss check applies to error responses too. The provider promises
    // iss; an "access denied" that lacks it, or names someone else, is not its answer.
    for iss in [None, Some("https://evil.example")] {
        let pending = begin(&app).await;
        let location: url::Url = format!("{PUBLIC_URL}/callback").parse().unwrap();
        let mut params: std::collections::HashMap<String, String> = [
            ("error".to_owned(), "access_denied".to_owned()),
            ("state".to_owned(), pending.state.clone()),
        ]
        .into_iter()
        .collect();
        if let Some(iss) = iss {
            params.insert("iss".into(), iss.into());
        }
        let response = pending
            .browser
            .callback(&Redirect { location, params })
            .await;
        assert_error(response, 502, "provider_error").await;
    }
    // From the right issuer, a cancel is a cancel.
    let pending = begin(&app).await;
    let location: url::Url = format!("{PUBLIC_URL}/callback").parse().unwrap();
    let params = [
        ("error", "access_denied"),
        ("state", pending.state.as_str()),
        ("iss", issuer.url.as_str()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect();
    let response = pending
        .browser
        .callback(&Redirect { location, params })
        .await;
    assert_error(response, 403, "access_denied").await;
}
