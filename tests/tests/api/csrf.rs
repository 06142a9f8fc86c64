//! The CSRF rule holds for every unsafe request, however its path is spelled: the guard
//! and the router must never disagree about which handler a request reaches.

use crate::helpers::{raw_http, spawn_app, status_of};
use backend::web::cookie::COOKIE_NAME;

/// Ways to spell a path that a router may decode, merge or resolve into the real one.
fn spellings(path: &str) -> Vec<String> {
    let rest = path.trim_start_matches("/api/");
    let last_letter = path.rfind(|c: char| c.is_ascii_lowercase()).unwrap();
    let (head, tail) = path.split_at(last_letter);
    vec![
        path.to_owned(),
        format!("/%61pi/{rest}"),
        format!("/%61%70%69/{rest}"),
        format!("{head}%{:02x}{}", tail.as_bytes()[0], &tail[1..]),
        format!("{head}%{:02X}{}", tail.as_bytes()[0], &tail[1..]),
        format!("/{path}"),
        format!("/api//{rest}"),
        format!("/./api/{rest}"),
        format!("/api/./{rest}"),
        format!("/x/../api/{rest}"),
        format!("/api/x/../{rest}"),
        format!("/API/{rest}"),
        path.to_ascii_uppercase(),
        format!("{path}/"),
        format!("/api%2F{}", rest.replace('/', "%2F")),
        format!("{path}?x=1"),
    ]
}

/// A POST the way a cross-site form sends it: no X-CSRF, a form content type, a foreign
/// Origin, and the victim's cookie (the browser attaches it).
fn forged_post(path: &str, cookie: &str) -> String {
    let body = "provider=github&code=x&state=y";
    format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nOrigin: https://evil.example\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nCookie: {COOKIE_NAME}={cookie}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn a_forged_write_is_refused_whatever_the_spelling_of_its_path() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    let cookie = app.browser.session_cookie().unwrap();
    let port = app.port().to_owned();

    for route in ["/api/auth/logout", "/api/auth/login", "/api/auth/callback"] {
        for spelled in spellings(route) {
            let answer = raw_http(&port, forged_post(&spelled, &cookie).as_bytes()).await;
            let status = status_of(&answer);
            assert!(
                status == 403 || status == 404,
                "{spelled} answered {status}: {answer}"
            );
            // Whatever it answered, the victim is still signed in.
            assert_eq!(
                app.browser.get("/api/me").await.status(),
                200,
                "{spelled} reached a handler and signed the victim out"
            );
        }
    }
}

#[tokio::test]
async fn unsafe_methods_outside_the_api_need_the_csrf_header_too() {
    let app = spawn_app().await;
    let port = app.port().to_owned();
    for path in ["/", "/dashboard", "/healthz", "/%61pi"] {
        let answer = raw_http(&port, forged_post(path, "x").as_bytes()).await;
        assert_eq!(status_of(&answer), 403, "{path}: {answer}");
        assert!(answer.contains("\"error\":\"csrf_failed\""), "{answer}");
    }
}

#[tokio::test]
async fn an_encoded_path_cannot_borrow_a_server_to_server_exemption() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    let cookie = app.browser.session_cookie().unwrap();
    // Decoded and resolved, this names back-channel logout (no CSRF rule); the router
    // keeps %2F encoded and routes it to "end one of my sessions".
    let path = "/api/me/sessions/..%2F..%2Fauth%2Fbackchannel-logout%2Fx";
    let request = format!(
        "DELETE {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Cookie: {COOKIE_NAME}={cookie}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    );
    let answer = raw_http(app.port(), request.as_bytes()).await;
    assert_eq!(status_of(&answer), 403, "{answer}");
    assert!(answer.contains("\"error\":\"csrf_failed\""), "{answer}");
}
