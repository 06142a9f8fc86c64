//! WebSockets through an upstream API: relayed both ways with the identity attached,
//! refused without our exact `Origin`, and closed (1008, "session ended") when the session
//! ends, however and wherever it ends.

use std::time::Duration;

use futures_util::{SinkExt as _, StreamExt as _};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest as _;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{self, Message};

use crate::helpers::{Browser, Options, TestApp, PUBLIC_URL};
use crate::recording_upstream::app_with_example;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// How long a socket may outlive its session: the watch's period, and some slack.
const CLOSE_BOUND: Duration = Duration::from_secs(5);

/// Opens `/api/example/ws` on `base` as `browser` would, with `origin`.
async fn connect(
    base: &str,
    browser: &Browser,
    origin: Option<&str>,
) -> Result<Socket, tungstenite::Error> {
    let url = format!("{}/api/example/ws", base.replacen("http://", "ws://", 1));
    let mut request = url.into_client_request().unwrap();
    let headers = request.headers_mut();
    if let Some(origin) = origin {
        headers.insert("origin", origin.parse().unwrap());
    }
    let cookie = browser.cookie_header();
    if !cookie.is_empty() {
        headers.insert("cookie", cookie.parse().unwrap());
    }
    tokio_tungstenite::connect_async(request)
        .await
        .map(|(socket, _)| socket)
}

/// The next text message, as JSON.
async fn next_json(socket: &mut Socket) -> Value {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(5), socket.next())
            .await
            .expect("a message in time")
            .expect("the socket is open")
            .unwrap();
        if let Message::Text(text) = message {
            return serde_json::from_str(text.as_str()).unwrap();
        }
    }
}

/// Waits for the server to close `socket`; returns the close code and reason.
async fn closed_by_server(socket: &mut Socket) -> (CloseCode, String) {
    let closed = tokio::time::timeout(CLOSE_BOUND, async {
        loop {
            match socket.next().await {
                Some(Ok(Message::Close(Some(frame)))) => {
                    return (frame.code, frame.reason.as_str().to_owned())
                }
                Some(Ok(Message::Close(None))) | None => return (CloseCode::Status, String::new()),
                Some(Ok(_)) => continue,
                Some(Err(e)) => panic!("the socket failed instead of closing: {e}"),
            }
        }
    })
    .await;
    closed.expect("the socket was closed within the bound")
}

async fn app() -> TestApp {
    app_with_example(|_| {}, Options::default()).await
}

#[tokio::test]
async fn messages_go_both_ways_with_the_identity_attached() {
    let app = app().await;
    app.browser.sign_in_as("octocat").await;
    let mut socket = connect(&app.address, &app.browser, Some(PUBLIC_URL))
        .await
        .unwrap();
    assert_eq!(next_json(&mut socket).await["hello"], "octocat");
    socket.send(Message::text("ping 1")).await.unwrap();
    loop {
        let message = next_json(&mut socket).await;
        if message.get("echo").is_some() {
            assert_eq!(message["echo"], "ping 1");
            break;
        }
    }
    socket.close(None).await.unwrap();
}

#[tokio::test]
async fn a_foreign_or_missing_origin_is_refused() {
    let app = app().await;
    app.browser.sign_in_as("octocat").await;
    for origin in [
        Some("https://evil.example.com"),
        Some("http://localhost:3001"),
        None,
    ] {
        match connect(&app.address, &app.browser, origin).await {
            Err(tungstenite::Error::Http(response)) => {
                assert_eq!(response.status(), 403, "{origin:?}");
            }
            other => panic!("{origin:?} was not refused: {:?}", other.map(|_| ())),
        }
    }
    let signed_out = app.new_browser();
    match connect(&app.address, &signed_out, Some(PUBLIC_URL)).await {
        Err(tungstenite::Error::Http(response)) => assert_eq!(response.status(), 401),
        other => panic!(
            "a signed-out socket was not refused: {:?}",
            other.map(|_| ())
        ),
    }
}

#[tokio::test]
async fn signing_out_in_another_tab_closes_the_socket() {
    let app = app().await;
    app.browser.sign_in_as("octocat").await;
    let mut socket = connect(&app.address, &app.browser, Some(PUBLIC_URL))
        .await
        .unwrap();
    next_json(&mut socket).await;
    let tab = app.new_browser_with_cookies_of(&app.browser);
    assert_eq!(tab.logout().await.status(), 204);
    let (code, reason) = closed_by_server(&mut socket).await;
    assert_eq!(code, CloseCode::Policy);
    assert_eq!(reason, "session ended");
}

#[tokio::test]
async fn signing_out_on_another_instance_closes_the_socket() {
    let app = app_with_example(
        |_| {},
        Options {
            session_cache_entries: 0,
            ..Options::default()
        },
    )
    .await;
    app.browser.sign_in_as("octocat").await;
    let mut socket = connect(&app.address, &app.browser, Some(PUBLIC_URL))
        .await
        .unwrap();
    next_json(&mut socket).await;
    let elsewhere = app.second_instance().await;
    elsewhere.copy_cookies_from(&app.browser);
    assert_eq!(elsewhere.logout().await.status(), 204);
    let (code, reason) = closed_by_server(&mut socket).await;
    assert_eq!(code, CloseCode::Policy);
    assert_eq!(reason, "session ended");
}

#[tokio::test]
async fn an_expired_sessions_socket_closes() {
    let app = app_with_example(
        |_| {},
        Options {
            session_absolute_secs: 3600,
            session_idle_secs: 3600,
            ..Options::default()
        },
    )
    .await;
    app.browser.sign_in_as("octocat").await;
    let mut socket = connect(&app.address, &app.browser, Some(PUBLIC_URL))
        .await
        .unwrap();
    next_json(&mut socket).await;
    app.clock.advance(Duration::from_secs(3601));
    let (code, reason) = closed_by_server(&mut socket).await;
    assert_eq!(code, CloseCode::Policy);
    assert_eq!(reason, "session ended");
}

#[tokio::test]
async fn ending_the_session_from_the_devices_list_closes_its_socket() {
    let app = app().await;
    app.browser.sign_in_as("octocat").await;
    let mut socket = connect(&app.address, &app.browser, Some(PUBLIC_URL))
        .await
        .unwrap();
    next_json(&mut socket).await;
    let phone = app.new_browser();
    phone.sign_in_as("octocat").await;
    let sessions: Value = phone.get("/api/me/sessions").await.json().await.unwrap();
    let laptop = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["current"] == false)
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let ended = phone
        .send(
            phone
                .raw()
                .delete(app.url(&format!("/api/me/sessions/{laptop}")))
                .header("x-csrf", "1")
                .header("content-type", "application/json"),
        )
        .await;
    assert_eq!(ended.status(), 204);
    let (code, _) = closed_by_server(&mut socket).await;
    assert_eq!(code, CloseCode::Policy);
}
