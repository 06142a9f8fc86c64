//! The default limits let a realistic crowd in through one address (an office behind
//! NAT arriving at nine) while still shedding a flood from it.

use std::time::Duration;

use crate::helpers::{spawn_app_with, Browser, Options, TestApp};

async fn behind_a_proxy_with_default_limits() -> TestApp {
    spawn_app_with(
        Options {
            behind_a_proxy: true,
            ..Options::default()
        }
        .with_default_limits(),
    )
    .await
}

/// The whole sign-in, from a browser seen as coming from `ip`; the callback's status.
async fn sign_in(app: &TestApp, ip: &str) -> u16 {
    let browser: Browser = app.new_browser().seen_from(ip);
    let response = browser.login(Some("/dashboard")).await;
    if response.status() != 200 {
        return response.status().as_u16();
    }
    let body: serde_json::Value = response.json().await.unwrap();
    let redirect = browser
        .authorize(
            body["authorize_url"].as_str().unwrap(),
            "octocat",
            "approve",
        )
        .await;
    browser.callback(&redirect).await.status().as_u16()
}

#[tokio::test]
async fn five_hundred_people_behind_one_address_all_get_in_within_five_minutes() {
    let app = behind_a_proxy_with_default_limits().await;
    let office = "198.51.100.20";
    for minute in 0..5 {
        let arrivals = (0..100).map(|_| sign_in(&app, office));
        let statuses = futures_util::future::join_all(arrivals).await;
        let refused = statuses.iter().filter(|s| **s != 200).count();
        assert_eq!(refused, 0, "minute {minute}: {statuses:?}");
        app.advance_clocks(Duration::from_secs(60));
    }
}

#[tokio::test]
async fn a_flood_of_sign_in_starts_from_one_address_is_shed_and_bounded() {
    let app = behind_a_proxy_with_default_limits().await;
    let flooder = app.new_browser().seen_from("203.0.113.66");
    let mut shed = 0;
    for _ in 0..100 {
        let starts = (0..100).map(|_| async {
            // Each start without a cookie asks for a new pre-auth session.
            let fresh = Browser::new(&flooder.base).seen_from("203.0.113.66");
            fresh.login(None).await.status().as_u16()
        });
        shed += futures_util::future::join_all(starts)
            .await
            .iter()
            .filter(|s| **s == 429)
            .count();
    }
    assert!(shed >= 9_000, "{shed} of 10,000 starts were shed");
    let stored = app.session_count().await;
    assert!(stored <= 1_000, "{stored} pre-auth sessions stored");
    // Meanwhile the server answers everyone else.
    assert_eq!(app.new_browser().get("/healthz").await.status(), 200);
    assert_eq!(sign_in(&app, "192.0.2.44").await, 200);
}
