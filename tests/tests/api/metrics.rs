//! `/metrics`: Prometheus text on its own listener, counting what the product does.

use emulator::{Endpoint, Fault};

use crate::helpers::{spawn_app, spawn_app_with, Options};

#[tokio::test]
async fn the_metrics_listener_counts_requests_sign_ins_provider_calls_and_the_cache() {
    let app = spawn_app_with(Options {
        metrics: true,
        ..Options::default()
    })
    .await;
    app.browser.sign_in_as("octocat").await;
    for _ in 0..3 {
        assert_eq!(app.browser.get("/api/me").await.status(), 200);
    }
    // One failed sign-in too.
    let url = app.browser.start_login().await;
    let denied = app.browser.authorize(&url, "octocat", "deny").await;
    assert_eq!(app.browser.callback(&denied).await.status(), 403);
    app.control().set_fault(Endpoint::Repos, Fault::Status(500));
    assert_eq!(app.browser.get("/api/me/repos").await.status(), 503);

    let port = app.metrics_port.expect("metrics are on");
    let response = reqwest::get(format!("http://127.0.0.1:{port}/metrics"))
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    assert!(response.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/openmetrics-text"));
    let text = response.text().await.unwrap();
    for expected in [
        "bff_http_requests_total{route=\"/api/me\",status=\"2xx\"} 3",
        "bff_http_requests_total{route=\"/api/auth/callback\",status=\"4xx\"} 1",
        "bff_sign_ins_total{outcome=\"succeeded\",reason=\"none\"} 1",
        "bff_sign_ins_total{outcome=\"failed\",reason=\"access_denied\"} 1",
        "bff_provider_request_duration_seconds_count{endpoint=\"token\",outcome=\"ok\"} 1",
        "bff_provider_request_duration_seconds_count{endpoint=\"repos\",outcome=\"unavailable\"} 1",
        "bff_session_cache_lookups_total{result=\"hit\"}",
        "bff_http_request_duration_seconds_bucket{le=",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
    assert!(!text.contains("gho_"), "no token in the metrics");
}

#[tokio::test]
async fn metrics_are_never_on_the_public_listener() {
    let app = spawn_app().await;
    assert_eq!(app.metrics_port, None);
    let response = app.browser.get("/metrics").await;
    assert_eq!(response.status(), 404);
}
