//! `/api/{prefix}/...` for configured upstream APIs: the signed-in identity attached as a
//! token the upstream verifies offline, the browser's credentials never forwarded, no way
//! out of the prefix, the CSRF rule on writes, streaming both ways, and the BFF's own
//! answers only when the upstream gives none.

use std::time::Duration;

use backend::config::Identity;
use futures_util::StreamExt as _;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::helpers::{assert_error, raw_http, status_of, Options, PUBLIC_URL};
use crate::recording_upstream::{app_with_example, app_with_recorder, Recorder, DOWNLOAD_BYTES};

#[tokio::test]
async fn the_upstream_verifies_who_is_calling_against_the_bffs_keys() {
    let app = app_with_example(|_| {}, Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    let response = app.browser.get("/api/example/whoami").await;
    assert_eq!(response.status(), 200);
    let who: Value = response.json().await.unwrap();
    assert_eq!(who["login"], "octocat");
    assert_eq!(who["provider"], "github");
    assert_eq!(
        who["sub"], "github:583231",
        "provider and subject, not a row number"
    );
    let sessions: Value = app
        .browser
        .get("/api/me/sessions")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(who["sid"], sessions[0]["id"], "the session's public id");
    let expires_in = who["expires_in"].as_i64().unwrap();
    assert!((200..=300).contains(&expires_in), "{expires_in}");

    let jwks: Value = app
        .browser
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "OKP");
    assert_eq!(key["alg"], "EdDSA");
    assert!(key.get("d").is_none(), "no private part is published");
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused_by_the_upstream() {
    let app = app_with_example(
        |api| api.audience = Some("https://billing.example.com".into()),
        Options::default(),
    )
    .await;
    app.browser.sign_in_as("octocat").await;
    let refused = app.browser.get("/api/example/whoami").await;
    assert_eq!(
        refused.status(),
        401,
        "the upstream's own answer passes through"
    );
    let body: Value = refused.json().await.unwrap();
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("InvalidAudience"),
        "{body}"
    );
}

#[tokio::test]
async fn the_browsers_credentials_and_forged_hops_never_reach_the_upstream() {
    let (app, recorder) = app_with_recorder(|_| {}, Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    let response = app
        .browser
        .send(
            app.browser
                .raw()
                .get(app.url("/api/rec/items?page=2&q=a%20b"))
                .header("authorization", "Bearer from-the-browser")
                .header("x-forwarded-for", "6.6.6.6")
                .header("forwarded", "for=6.6.6.6")
                .header(
                    "traceparent",
                    "00-11111111111111111111111111111111-2222222222222222-01",
                )
                .header("x-csrf", "1")
                .header("accept", "application/json"),
        )
        .await;
    assert_eq!(response.status(), 200);
    let request_id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    let seen = recorder.seen().pop().unwrap();
    assert_eq!(
        seen.target, "/items?page=2&q=a%20b",
        "path and query as sent"
    );
    assert_eq!(seen.header("cookie"), None);
    assert_eq!(seen.header("x-csrf"), None);
    let authorization = seen.header("authorization").unwrap();
    assert_ne!(authorization, "Bearer from-the-browser");
    let token = authorization.strip_prefix("Bearer ").unwrap();
    assert_eq!(
        jsonwebtoken::decode_header(token).unwrap().alg,
        Algorithm::EdDSA,
        "the BFF's identity token"
    );
    assert_eq!(seen.header("x-forwarded-for"), Some("127.0.0.1"));
    assert_eq!(
        seen.header("forwarded"),
        Some("for=127.0.0.1;proto=http;host=\"localhost:3000\"")
    );
    assert_eq!(seen.header("x-forwarded-proto"), Some("http"));
    assert_eq!(seen.header("x-forwarded-host"), Some("localhost:3000"));
    assert_eq!(seen.header("x-request-id"), Some(request_id.as_str()));
    let trace = seen.header("traceparent").unwrap();
    assert!(!trace.contains("1111111111"), "a fresh trace: {trace}");
    assert_eq!(trace.len(), 55, "{trace}");
    assert_eq!(seen.header("accept"), Some("application/json"));
}

#[tokio::test]
async fn the_upstreams_cookies_and_security_headers_never_reach_the_browser() {
    let (app, _recorder) = app_with_recorder(|_| {}, Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    let before = app.browser.session_cookie();
    let response = app.browser.get("/api/rec/anything").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert!(headers.get("set-cookie").is_none());
    assert_eq!(headers["x-upstream"], "yes", "other headers pass");
    assert_eq!(
        headers["content-security-policy"],
        backend::web::headers::API_CSP,
        "the BFF's own policy, not the upstream's"
    );
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(app.browser.session_cookie(), before);
    assert!(app.browser.cookie("upstream").is_none());
}

#[tokio::test]
async fn no_spelling_of_a_path_leaves_the_prefix() {
    let (app, recorder) = app_with_recorder(|_| {}, Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    let cookie = app.browser.cookie_header();
    for path in [
        "/api/rec/../me",
        "/api/rec/%2e%2e/me",
        "/api/rec/%2E%2e",
        "/api/rec/a%2Fb",
        "/api/rec/a%2fb",
        "/api/rec//x",
        "/api/rec/a%5Cb",
        "/api/rec/a\\b",
        "/api/rec/./x",
        "/api/rec/a%00",
        "/api/recx",
    ] {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: localhost:3000\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
        );
        let answer = raw_http(app.port(), request.as_bytes()).await;
        assert_eq!(status_of(&answer), 404, "{path}: {answer}");
    }
    assert!(recorder.seen().is_empty(), "{:?}", recorder.seen());
}

#[tokio::test]
async fn writes_need_the_csrf_header_and_our_origin_but_any_content_type() {
    let (app, recorder) = app_with_recorder(|_| {}, Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    let forged = app
        .browser
        .send(app.browser.raw().post(app.url("/api/rec/items")).body("x"))
        .await;
    assert_error(forged, 403, "csrf_failed").await;
    let foreign = app
        .browser
        .send(
            app.browser
                .raw()
                .delete(app.url("/api/rec/items/1"))
                .header("x-csrf", "1")
                .header("origin", "https://evil.example.com"),
        )
        .await;
    assert_error(foreign, 403, "csrf_failed").await;
    assert!(recorder.seen().is_empty());
    let upload = app
        .browser
        .send(
            app.browser
                .raw()
                .put(app.url("/api/rec/items/1"))
                .header("x-csrf", "1")
                .header("content-type", "text/csv")
                .body("a,b\n1,2\n"),
        )
        .await;
    assert_eq!(upload.status(), 200);
    let seen = recorder.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "PUT");
    assert_eq!(seen[0].header("content-type"), Some("text/csv"));
}

#[tokio::test]
async fn without_a_session_nothing_is_forwarded_and_a_public_api_needs_none() {
    let (app, recorder) = app_with_recorder(|_| {}, Options::default()).await;
    assert_error(
        app.browser.get("/api/rec/items").await,
        401,
        "unauthenticated",
    )
    .await;
    assert!(recorder.seen().is_empty());

    let (public, recorder) = app_with_recorder(
        |api| {
            api.public = true;
            api.identity = Identity::None;
        },
        Options::default(),
    )
    .await;
    assert_eq!(public.browser.get("/api/rec/status").await.status(), 200);
    let seen = recorder.seen();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].header("authorization"), None);
}

#[tokio::test]
async fn methods_not_listed_are_405_and_never_forwarded() {
    let (app, recorder) =
        app_with_recorder(|api| api.methods = vec!["GET".into()], Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    let response = app
        .browser
        .send(app.browser.api_post("/api/rec/items").body("{}"))
        .await;
    assert_error(response, 405, "method_not_allowed").await;
    assert!(recorder.seen().is_empty());
}

#[tokio::test]
async fn an_unreachable_upstream_is_502_and_a_slow_one_504() {
    let closed = testkit::process::free_port();
    let (app, _recorder) = app_with_recorder(
        |api| api.upstream = format!("http://127.0.0.1:{closed}").parse().unwrap(),
        Options::default(),
    )
    .await;
    app.browser.sign_in_as("octocat").await;
    assert_error(
        app.browser.get("/api/rec/x").await,
        502,
        "upstream_unavailable",
    )
    .await;

    let (app, recorder) = app_with_recorder(
        |api| api.timeout = Duration::from_millis(300),
        Options::default(),
    )
    .await;
    app.browser.sign_in_as("octocat").await;
    assert_error(
        app.browser.get("/api/rec/slow").await,
        504,
        "upstream_timeout",
    )
    .await;
    assert_eq!(recorder.seen().len(), 1);
}

#[tokio::test]
async fn the_upstreams_own_errors_pass_through_unchanged() {
    let (app, _recorder) = app_with_recorder(|_| {}, Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    for code in [404u16, 418, 500, 503] {
        let response = app.browser.get(&format!("/api/rec/status/{code}")).await;
        assert_eq!(response.status().as_u16(), code);
        assert_eq!(response.headers()["x-upstream"], "yes");
        let body: Value = response.json().await.unwrap();
        assert_eq!(body["upstream_error"], code);
    }
}

/// Peak resident memory of this process (the BFF runs in it), in KiB.
fn peak_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[tokio::test]
async fn a_twenty_megabyte_upload_streams_through_in_bounded_memory() {
    const SIZE: usize = 20 * 1024 * 1024;
    let (app, recorder) = app_with_recorder(
        |api| api.max_body_bytes = 32 * 1024 * 1024,
        Options::default(),
    )
    .await;
    app.browser.sign_in_as("octocat").await;
    // Warm up both connections, so the peak below is the upload's own.
    app.browser.get("/api/rec/warm").await;
    let before = peak_rss_kib();
    let chunk = vec![b'x'; 64 * 1024];
    let chunks = futures_util::stream::iter(
        (0..SIZE / chunk.len()).map(move |_| Ok::<_, std::io::Error>(chunk.clone())),
    );
    let response = app
        .browser
        .send(
            app.browser
                .raw()
                .post(app.url("/api/rec/upload"))
                .header("x-csrf", "1")
                .header("content-type", "application/octet-stream")
                .header("content-length", SIZE)
                .body(reqwest::Body::wrap_stream(chunks)),
        )
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.unwrap();
    assert_eq!(body["bytes"], SIZE);
    let grown = peak_rss_kib().saturating_sub(before);
    assert!(
        grown < 8 * 1024,
        "the peak grew by {grown} KiB for a 20 MiB upload: it was gathered, not streamed"
    );
    assert_eq!(recorder.seen().len(), 2);
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_whether_declared_or_not() {
    let (app, recorder) =
        app_with_recorder(|api| api.max_body_bytes = 1024, Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    let declared = app
        .browser
        .send(
            app.browser
                .raw()
                .post(app.url("/api/rec/upload"))
                .header("x-csrf", "1")
                .body(vec![b'x'; 2048]),
        )
        .await;
    assert_error(declared, 413, "payload_too_large").await;
    assert!(
        recorder.seen().is_empty(),
        "refused before anything went up"
    );
    let chunks =
        futures_util::stream::iter((0..4).map(|_| Ok::<_, std::io::Error>(vec![b'x'; 1024])));
    let undeclared = app
        .browser
        .send(
            app.browser
                .raw()
                .post(app.url("/api/rec/upload"))
                .header("x-csrf", "1")
                .body(reqwest::Body::wrap_stream(chunks)),
        )
        .await;
    assert_error(undeclared, 413, "payload_too_large").await;
}

#[tokio::test]
async fn server_sent_events_reach_the_browser_one_by_one() {
    let (app, recorder) = app_with_recorder(|_| {}, Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    let mut response = app.browser.get("/api/rec/sse").await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    let first = tokio::time::timeout(Duration::from_secs(5), response.chunk())
        .await
        .expect("event 1 arrives while the upstream holds event 2")
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&first).contains("data: 1"));
    recorder.open_gate();
    let second = tokio::time::timeout(Duration::from_secs(5), response.chunk())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&second).contains("data: 2"));
}

/// Opens `path` through the proxy (checking the answer with `check`), reads its first
/// chunk, signs out in another tab, and asserts the answer ends within five seconds.
async fn ends_with_its_session(path: &str, check: impl FnOnce(&reqwest::Response)) {
    let (app, _recorder) = app_with_recorder(|_| {}, Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    let tab = app.new_browser_with_cookies_of(&app.browser);
    let response = app.browser.get(path).await;
    check(&response);
    let mut body = response.bytes_stream();
    body.next().await.unwrap().unwrap();
    tab.logout().await;
    let ended = tokio::time::timeout(Duration::from_secs(5), async {
        while let Some(Ok(_)) = body.next().await {}
    })
    .await;
    assert!(ended.is_ok(), "{path} outlived its session");
}

#[tokio::test]
async fn an_event_stream_ends_when_its_session_ends() {
    ends_with_its_session("/api/rec/ticks", |_| {}).await;
}

#[tokio::test]
async fn a_large_download_ends_when_its_session_ends() {
    ends_with_its_session("/api/rec/download", |response| {
        assert_eq!(response.content_length(), Some(DOWNLOAD_BYTES));
    })
    .await;
}

#[tokio::test]
async fn identity_keys_rotate_without_a_failed_request() {
    let (mut app, recorder) = app_with_recorder(|_| {}, Options::default()).await;
    let old = app.settings.stores.identity_keys.clone().unwrap();
    app.browser.sign_in_as("octocat").await;
    app.browser.get("/api/rec/one").await;
    let token = |recorder: &Recorder| {
        recorder
            .seen()
            .last()
            .unwrap()
            .header("authorization")
            .unwrap()["Bearer ".len()..]
            .to_owned()
    };
    let issued_before = token(&recorder);
    let old_kid = jsonwebtoken::decode_header(&issued_before)
        .unwrap()
        .kid
        .unwrap();

    let new = backend::crypto::SigningKeys::generate_key();
    {
        use secrecy::ExposeSecret as _;
        app.settings.stores.identity_keys = Some(format!("{new},{}", old.expose_secret()).into());
    }
    app.restart().await;
    let jwks: JwkSet = app
        .browser
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        jwks.keys.len(),
        2,
        "the new key and the old one are both published"
    );
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.set_audience(&[format!("{PUBLIC_URL}/api/rec")]);
    validation.set_issuer(&[PUBLIC_URL]);
    let old_key = DecodingKey::from_jwk(jwks.find(&old_kid).unwrap()).unwrap();
    jsonwebtoken::decode::<Value>(&issued_before, &old_key, &validation)
        .expect("a token signed before the rotation still verifies until it expires");

    app.browser.get("/api/rec/two").await;
    let issued_after = token(&recorder);
    let new_kid = jsonwebtoken::decode_header(&issued_after)
        .unwrap()
        .kid
        .unwrap();
    assert_ne!(new_kid, old_kid, "the first key signs");
    let new_key = DecodingKey::from_jwk(jwks.find(&new_kid).unwrap()).unwrap();
    jsonwebtoken::decode::<Value>(&issued_after, &new_key, &validation).unwrap();
}

#[tokio::test]
async fn a_github_organisation_rule_lets_members_in_only() {
    let (app, recorder) = app_with_recorder(
        |api| {
            api.providers = vec!["github".into()];
            api.github_orgs = vec!["github".into()];
        },
        Options::default(),
    )
    .await;
    app.browser.sign_in_as("octocat").await;
    assert_eq!(app.browser.get("/api/rec/x").await.status(), 200);
    let outsider = app.new_browser();
    outsider.sign_in_as("hubot").await;
    assert_error(outsider.get("/api/rec/x").await, 403, "not_allowed").await;
    assert_eq!(recorder.seen().len(), 1);
}

#[tokio::test]
async fn writes_count_against_the_sessions_budget() {
    let (app, recorder) = app_with_recorder(
        |api| api.methods = vec!["GET".into(), "POST".into()],
        Options {
            api_writes_per_min: Some(3),
            ..Options::default()
        },
    )
    .await;
    app.browser.sign_in_as("octocat").await;
    for _ in 0..3 {
        let ok = app
            .browser
            .send(app.browser.api_post("/api/rec/items").body("{}"))
            .await;
        assert_eq!(ok.status(), 200);
    }
    let refused = app
        .browser
        .send(app.browser.api_post("/api/rec/items").body("{}"))
        .await;
    assert!(refused.headers().contains_key("retry-after"));
    assert_error(refused, 429, "rate_limited").await;
    assert_eq!(
        app.browser.get("/api/rec/reads-are-free").await.status(),
        200
    );
    assert_eq!(recorder.seen().len(), 4);
}

#[tokio::test]
async fn each_api_is_counted_in_the_metrics() {
    let (app, _recorder) = app_with_recorder(
        |_| {},
        Options {
            metrics: true,
            ..Options::default()
        },
    )
    .await;
    app.browser.sign_in_as("octocat").await;
    app.browser.get("/api/rec/x").await;
    app.browser.get("/api/rec/status/503").await;
    let text = reqwest::get(format!(
        "http://127.0.0.1:{}/metrics",
        app.metrics_port.unwrap()
    ))
    .await
    .unwrap()
    .text()
    .await
    .unwrap();
    assert!(
        text.contains(r#"bff_api_requests_total{api="rec",status="2xx"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"bff_api_requests_total{api="rec",status="5xx"} 1"#),
        "{text}"
    );
    assert!(text.contains("bff_api_request_duration_seconds"), "{text}");
}

/// The README's Python example (`examples/python/identity.py`, PyJWT) verifies a token
/// the BFF sent upstream, and refuses it for another audience.
#[tokio::test]
async fn a_python_upstream_verifies_the_identity_token_with_pyjwt() {
    let (app, recorder) = app_with_recorder(|_| {}, Options::default()).await;
    app.browser.sign_in_as("octocat").await;
    app.browser.get("/api/rec/x").await;
    let authorization = recorder
        .seen()
        .pop()
        .unwrap()
        .header("authorization")
        .unwrap()
        .to_owned();
    let token = authorization.strip_prefix("Bearer ").unwrap().to_owned();
    let script = crate::common::workspace().join("examples/python/identity.py");
    let verify = |audience: String| {
        let (script, address, token) = (script.clone(), app.address.clone(), token.clone());
        tokio::task::spawn_blocking(move || {
            std::process::Command::new("/usr/bin/python3")
                .arg(script)
                .args([address, PUBLIC_URL.to_owned(), audience, token])
                .output()
                .unwrap()
        })
    };
    let out = verify(format!("{PUBLIC_URL}/api/rec")).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let claims: Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(claims["login"], "octocat");
    assert_eq!(claims["sub"], "github:583231");
    let refused = verify("https://billing.example.com".into()).await.unwrap();
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stdout).contains("InvalidAudience"));
}
