//! CSRF rules, content types, malformed and oversized bodies, unknown routes.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{assert_error, raw_http, spawn_app, spawn_app_with, Options};

fn login_body() -> serde_json::Value {
    let (verifier, challenge) = crate::helpers::pkce_pair();
    json!({"provider": "github", "code_verifier": verifier, "code_challenge": challenge, "code_challenge_method": "S256"})
}

#[tokio::test]
async fn a_write_without_the_csrf_header_is_refused() {
    let app = spawn_app().await;
    for path in ["/api/auth/login", "/api/auth/callback", "/api/auth/logout"] {
        let request = app
            .browser
            .raw()
            .post(format!("{}{path}", app.address))
            .json(&login_body());
        assert_error(app.browser.send(request).await, 403, "csrf_failed").await;
        let wrong_value = app
            .browser
            .raw()
            .post(format!("{}{path}", app.address))
            .header("x-csrf", "0")
            .json(&login_body());
        assert_error(app.browser.send(wrong_value).await, 403, "csrf_failed").await;
    }
}

#[tokio::test]
async fn a_foreign_origin_is_refused() {
    let app = spawn_app().await;
    for origin in [
        "https://evil.example",
        "http://localhost:3001",
        "null",
        "http://localhost:3000.evil.example",
    ] {
        let request = app
            .browser
            .raw()
            .post(format!("{}/api/auth/login", app.address))
            .header("x-csrf", "1")
            .header("origin", origin)
            .json(&login_body());
        assert_error(app.browser.send(request).await, 403, "csrf_failed").await;
    }
    let cross_site = app
        .browser
        .api_post("/api/auth/login")
        .header("sec-fetch-site", "cross-site")
        .json(&login_body());
    assert_error(app.browser.send(cross_site).await, 403, "csrf_failed").await;
    // No Origin at all (some same-origin requests omit it) is fine.
    let no_origin = app
        .browser
        .raw()
        .post(format!("{}/api/auth/login", app.address))
        .header("x-csrf", "1")
        .json(&login_body());
    assert_eq!(app.browser.send(no_origin).await.status(), StatusCode::OK);
}

#[tokio::test]
async fn a_wrong_content_type_is_refused() {
    let app = spawn_app().await;
    let body = login_body().to_string();
    for content_type in [
        "text/plain",
        "application/x-www-form-urlencoded",
        "multipart/form-data; boundary=x",
        "application/jsonx",
    ] {
        let request = app
            .browser
            .api_post("/api/auth/login")
            .header("content-type", content_type)
            .body(body.clone());
        assert_error(app.browser.send(request).await, 403, "csrf_failed").await;
    }
    let with_charset = app
        .browser
        .api_post("/api/auth/login")
        .header("content-type", "application/json; charset=utf-8")
        .body(body);
    assert_eq!(
        app.browser.send(with_charset).await.status(),
        StatusCode::OK
    );
}

#[tokio::test]
async fn malformed_json_is_an_invalid_request() {
    let app = spawn_app().await;
    for raw in [
        "",
        "{",
        "{\"provider\": }",
        "null",
        "[]",
        "{\"provider\": \"github\"}",
        "\u{0}\u{1}",
        "{\"provider\": 5}",
    ] {
        let request = app
            .browser
            .api_post("/api/auth/login")
            .header("content-type", "application/json")
            .body(raw.to_owned());
        assert_error(app.browser.send(request).await, 400, "invalid_request").await;
    }
    let invalid_utf8 = app
        .browser
        .api_post("/api/auth/login")
        .header("content-type", "application/json")
        .body(vec![0xff, 0xfe, b'{']);
    assert_error(app.browser.send(invalid_utf8).await, 400, "invalid_request").await;
}

#[tokio::test]
async fn an_oversized_body_is_payload_too_large() {
    let app = spawn_app().await;
    let mut body = login_body();
    body["padding"] = json!("x".repeat(70 * 1024));
    let response = app.browser.post_json("/api/auth/login", &body).await;
    assert_error(response, 413, "payload_too_large").await;

    // Chunked, with no Content-Length to refuse up front.
    let port = app.port();
    let mut request = String::from(
        "POST /api/auth/callback HTTP/1.1\r\nHost: 127.0.0.1\r\nX-CSRF: 1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    );
    for _ in 0..20 {
        request.push_str(&format!("2000\r\n{}\r\n", " ".repeat(0x2000)));
    }
    request.push_str("0\r\n\r\n");
    let answer = raw_http(port, request.as_bytes()).await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(
        answer.contains("\"error\":\"payload_too_large\""),
        "{answer}"
    );
}

#[tokio::test]
async fn unknown_api_paths_answer_json_404() {
    let app = spawn_app().await;
    assert_error(app.browser.get("/api/nope").await, 404, "not_found").await;
    assert_error(app.browser.get("/api/auth/login").await, 404, "not_found").await;
}

#[tokio::test]
async fn api_responses_carry_protective_headers() {
    let app = spawn_app().await;
    let response = app.browser.get("/api/auth/providers").await;
    let h = response.headers();
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(h["cache-control"], "no-store");
    assert_eq!(h["x-frame-options"], "DENY");
    assert!(h["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("frame-ancestors 'none'"));
    assert!(h.contains_key("x-request-id"));
    assert!(
        !h.contains_key("access-control-allow-origin"),
        "no CORS, ever"
    );
}

#[tokio::test]
async fn an_https_origin_gets_strict_transport_security() {
    let plain = spawn_app().await;
    let response = plain.browser.get("/api/auth/providers").await;
    assert!(!response.headers().contains_key("strict-transport-security"));

    let app = spawn_app_with(Options {
        public_url: "https://app.example.com",
        ..Options::default()
    })
    .await;
    for path in ["/api/auth/providers", "/api/me", "/healthz"] {
        let response = app.browser.get(path).await;
        let hsts = response.headers()["strict-transport-security"]
            .to_str()
            .unwrap();
        assert!(hsts.starts_with("max-age=63072000"), "{path}: {hsts}");
    }
}

#[tokio::test]
async fn a_handlers_log_lines_carry_the_request_id() {
    let app = spawn_app().await;
    let url = app.browser.start_login().await;
    let redirect = app.browser.authorize(&url, "octocat", "approve").await;
    let response = app.browser.callback(&redirect).await;
    assert_eq!(response.status(), 200);
    let id = response.headers()["x-request-id"]
        .to_str()
        .unwrap()
        .to_owned();
    assert_eq!(id.len(), 16, "{id}");
    let logged = crate::helpers::logs().text();
    let lines: Vec<_> = logged
        .lines()
        .filter(|l| l.contains(&format!("request{{id={id}}}")))
        .collect();
    // The sign-in's audit event is written by the handler, inside the request.
    assert!(
        lines.iter().any(|l| l.contains("audit")),
        "no audit line with the request id {id}: {lines:#?}"
    );
}
