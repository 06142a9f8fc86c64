//! The SPA in real headless Chromium: sign-in, errors, reloads, sign-out, storage, CSP.
//! Each test leaves a screenshot of its last page in `target/e2e-screenshots/`.

#[path = "../common/mod.rs"]
mod common;
mod firefox;
mod harness;

use emulator::{Endpoint, Fault};
use serde_json::Value;

use harness::{start, start_with, Setup};

/// `name` for Chromium, `ff_name` for Firefox (screenshots of both are kept).
fn named(firefox: bool, chromium: &'static str, firefox_name: &'static str) -> &'static str {
    if firefox {
        firefox_name
    } else {
        chromium
    }
}

#[tokio::test]
async fn signing_in_and_approving_shows_the_dashboard() {
    sign_in_shows_the_dashboard(false).await;
}

/// Shared by Chromium and Firefox (`firefox.rs`).
pub(crate) async fn sign_in_shows_the_dashboard(firefox: bool) {
    let s = start_with(
        named(firefox, "sign_in_dashboard", "ff_sign_in_dashboard"),
        Setup {
            dev_mode: true,
            firefox,
            ..Setup::default()
        },
    )
    .await;
    s.open("/").await;
    s.wait_for_contains("p", "Development provider").await;
    s.screenshot("sign_in_page").await;
    s.sign_in("octocat").await;

    s.wait_for_text("h1", "The Octocat").await;
    s.wait_for_text("a", "octocat/Hello-World").await;
    s.wait_for_text("a", "octocat/Spoon-Knife").await;
    s.wait_for_text("span", "octocat@github.com").await;
    s.wait_for_text("button", "Sign out").await;
    let url = s.url().await;
    assert_eq!(url.path(), "/dashboard");
    assert!(
        url.query().is_none(),
        "no code or state left in the address bar: {url}"
    );
    s.wait_for_text("h2", "Devices").await;
    s.wait_for_text("h2", "Recent activity").await;
    s.wait_for_text("span", "This device").await;

    // The same page on a phone-width screen.
    s.client.set_window_size(390, 844).await.unwrap();
    s.screenshot(named(
        firefox,
        "sign_in_dashboard_phone",
        "ff_sign_in_dashboard_phone",
    ))
    .await;
    s.client.set_window_size(1100, 900).await.unwrap();
    s.finish().await;
}

#[tokio::test]
async fn a_user_without_public_email_sees_so() {
    let s = start("no_public_email").await;
    s.open("/").await;
    s.sign_in("hubot").await;
    s.wait_for_text("span", "No public email").await;
    s.wait_for_text("a", "hubot/chatops").await;
    // The repo description contains markup; it must be shown as text.
    s.wait_for_contains("p", "Scripts <b>not</b> to be rendered as HTML")
        .await;
    s.finish().await;
}

#[tokio::test]
async fn cancelling_shows_a_readable_error_and_try_again_works() {
    cancel_then_try_again(false).await;
}

pub(crate) async fn cancel_then_try_again(firefox: bool) {
    let s = start_with(
        named(firefox, "cancel_try_again", "ff_cancel_try_again"),
        Setup {
            firefox,
            ..Setup::default()
        },
    )
    .await;
    s.open("/").await;
    s.click_button("Sign in with GitHub").await;
    s.consent("octocat", "Cancel").await;
    s.wait_for_text("h2", "Sign-in was cancelled").await;
    let url = s.url().await;
    assert_eq!(url.path(), "/callback");
    assert!(
        url.query().is_none(),
        "error and state are wiped from the address bar: {url}"
    );
    s.screenshot(named(firefox, "cancel_error", "ff_cancel_error"))
        .await;

    s.click_button("Try again").await;
    s.wait_for_path("/").await;
    s.sign_in("octocat").await;
    s.finish().await;
}

#[tokio::test]
async fn a_reload_keeps_the_session_and_sign_out_ends_it() {
    reload_then_sign_out(false).await;
}

pub(crate) async fn reload_then_sign_out(firefox: bool) {
    let s = start_with(
        named(firefox, "reload_and_sign_out", "ff_reload_and_sign_out"),
        Setup {
            firefox,
            ..Setup::default()
        },
    )
    .await;
    s.open("/").await;
    s.sign_in("octocat").await;
    s.client.refresh().await.unwrap();
    s.wait_for_text("h1", "The Octocat").await;
    assert_eq!(s.url().await.path(), "/dashboard");
    assert_eq!(s.fetch_status("/api/me").await, 200);

    s.click_button("Sign out").await;
    s.wait_for_text("button", "Sign in with GitHub").await;
    assert_eq!(s.fetch_status("/api/me").await, 401);
    s.open("/dashboard").await;
    s.wait_for_text("button", "Sign in with GitHub").await;
    s.finish().await;
}

#[tokio::test]
async fn no_browser_storage_or_readable_cookie_is_used() {
    let s = start("storage_empty").await;
    s.open("/").await;
    s.sign_in("octocat").await;
    let found: Value = s
        .client
        .execute_async(
            "const done = arguments[arguments.length - 1];
             const dbs = indexedDB.databases ? indexedDB.databases() : Promise.resolve([]);
             dbs.then(list => done({local: localStorage.length, session: sessionStorage.length,
                                    cookie: document.cookie, idb: list.length}));",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(found["local"], 0, "{found}");
    assert_eq!(found["session"], 0, "{found}");
    assert_eq!(found["idb"], 0, "{found}");
    assert_eq!(
        found["cookie"], "",
        "the session cookie is HttpOnly: {found}"
    );
    s.finish().await;
}

#[tokio::test]
async fn the_app_runs_under_the_csp_without_console_errors() {
    let s = start("csp_console").await;
    s.open("/").await;
    s.sign_in("octocat").await;
    s.client.refresh().await.unwrap();
    s.wait_for_text("h1", "The Octocat").await;
    s.open("/no/such/page").await;
    s.wait_for_text("h1", "Page not found").await;
    let csp_header = reqwest::get(format!("{}/", s.base))
        .await
        .unwrap()
        .headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(!csp_header.contains("unsafe-inline"));
    let errors = console_errors(&s).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    s.finish().await;
}

/// Console entries that are errors or CSP violations.
async fn console_errors(s: &harness::Session) -> Vec<Value> {
    s.console()
        .await
        .into_iter()
        .filter(|entry| {
            entry["level"] == "SEVERE"
                || entry["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("Content Security Policy"))
        })
        .collect()
}

#[tokio::test]
async fn the_page_paints_a_shell_and_brings_the_sign_in_options_with_it() {
    let s = start("shell_replaced").await;
    // What the browser can paint before the module has arrived.
    let page = reqwest::get(format!("{}/dashboard", s.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(r#"<div id="shell">"#), "{page}");
    assert!(page.contains("Repo Desk</a></header>"), "{page}");
    s.open("/").await;
    s.wait_for_text("button", "Sign in with GitHub").await;
    for (css, expected, what) in [
        ("#shell", 0, "the shell is gone"),
        ("header.topbar", 1, "one header, the app's"),
        ("main", 1, "one main, the app's"),
    ] {
        let found = s.client.find_all(fantoccini::Locator::Css(css)).await;
        assert_eq!(found.unwrap().len(), expected, "{what}");
    }
    // The buttons came from the page itself, not from a request after the app started.
    let asked = s
        .client
        .execute(
            "return performance.getEntriesByType('resource')
                 .filter(r => r.name.includes('/api/auth/providers')).length",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(asked, 0, "the sign-in options came with the page");
    s.finish().await;
}

#[tokio::test]
async fn a_signed_out_visit_logs_nothing_at_all_in_the_console() {
    let s = start("signed_out_console").await;
    s.open("/").await;
    s.wait_for_text("button", "Sign in with GitHub").await;
    s.open("/dashboard").await;
    s.wait_for_text("button", "Sign in with GitHub").await;
    let errors = console_errors(&s).await;
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    s.finish().await;
}

#[tokio::test]
async fn one_computer_signs_the_other_out_and_the_other_finds_out() {
    let laptop = start("devices_laptop").await;
    laptop.open("/").await;
    laptop.sign_in("octocat").await;
    let phone = laptop.another_browser("devices_phone").await;
    phone.open("/").await;
    phone.sign_in("octocat").await;

    // The laptop sees two devices, itself marked, and signs the phone out.
    laptop.client.refresh().await.unwrap();
    laptop.wait_for_text("span", "This device").await;
    let rows = laptop
        .client
        .find_all(fantoccini::Locator::Css(
            "li.row button[aria-label^='Sign out ']",
        ))
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "one other device to sign out");
    laptop.wait_for_text("h2", "Recent activity").await;
    laptop.screenshot_card("Devices", "devices_card").await;
    rows[0].click().await.unwrap();
    laptop.wait_for_text("button", "Sign out everywhere").await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !laptop
        .client
        .find_all(fantoccini::Locator::Css(
            "li.row button[aria-label^='Sign out ']",
        ))
        .await
        .unwrap()
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the phone is still listed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    laptop.wait_for_contains("p", "from another device").await;
    laptop
        .screenshot_card("Recent activity", "activity_card")
        .await;

    // The phone's next action finds out.
    phone.click_button("Refresh").await;
    phone.wait_for_text("h2", "You were signed out").await;
    phone.screenshot("signed_out_elsewhere").await;
    phone.click_button("Sign in again").await;
    phone.wait_for_text("button", "Sign in with GitHub").await;
    phone.finish().await;

    // Phone width: rows stack, buttons fill the width.
    laptop.client.set_window_size(390, 844).await.unwrap();
    laptop
        .screenshot_card("Devices", "devices_card_phone")
        .await;
    laptop.finish().await;
}

#[tokio::test]
async fn signing_out_in_one_tab_signs_out_the_other_tabs() {
    two_tabs_sign_out_together(false).await;
}

pub(crate) async fn two_tabs_sign_out_together(firefox: bool) {
    let s = start_with(
        named(firefox, "two_tabs", "ff_two_tabs"),
        Setup {
            firefox,
            ..Setup::default()
        },
    )
    .await;
    s.open("/").await;
    s.sign_in("octocat").await;
    let first = s.client.window().await.unwrap();
    let second = s.client.new_window(true).await.unwrap();
    s.client
        .switch_to_window(second.handle.clone())
        .await
        .unwrap();
    s.open("/dashboard").await;
    s.wait_for_text("h1", "The Octocat").await;

    s.client.switch_to_window(first).await.unwrap();
    s.click_button("Sign out").await;
    s.wait_for_text("button", "Sign in with GitHub").await;

    // The other tab follows without a reload (BroadcastChannel, no storage).
    s.client.switch_to_window(second.handle).await.unwrap();
    s.wait_for_text("button", "Sign in with GitHub").await;
    assert_eq!(s.url().await.path(), "/");
    s.finish().await;
}

#[tokio::test]
async fn a_deep_link_round_trips_through_sign_in() {
    deep_link_round_trip(false).await;
}

pub(crate) async fn deep_link_round_trip(firefox: bool) {
    let s = start_with(
        named(firefox, "deep_link", "ff_deep_link"),
        Setup {
            firefox,
            ..Setup::default()
        },
    )
    .await;
    s.open("/dashboard").await;
    s.wait_for_text("button", "Sign in with GitHub").await;
    let url = s.url().await;
    assert_eq!(url.path(), "/");
    assert_eq!(url.query(), Some("return_to=/dashboard"));
    s.sign_in("octocat").await;
    assert_eq!(s.url().await.path(), "/dashboard");
    s.finish().await;
}

#[tokio::test]
async fn a_provider_outage_shows_a_readable_error() {
    let s = start("provider_down").await;
    s.open("/").await;
    s.click_button("Sign in with GitHub").await;
    s.control().set_fault(Endpoint::Token, Fault::Status(503));
    s.consent("octocat", "Authorize").await;
    s.wait_for_text("h2", "The sign-in provider isn't answering right now")
        .await;
    s.wait_for_text("button", "Try again").await;
    s.finish().await;
}

#[tokio::test]
async fn a_hostile_return_to_never_leaves_our_origin() {
    let s = start("open_redirect").await;
    s.open("/").await;
    s.sign_in("octocat").await;
    let ours = s.url().await.host_str().unwrap().to_owned();
    for hostile in [
        "/%5Cevil.example",
        "/%09/evil.example",
        "//evil.example",
        "https://evil.example",
        "/%2F%2Fevil.example",
        "/%252F%252Fevil.example",
        "/%255Cevil.example",
    ] {
        // Signed in, the start page carries on to `return_to`: it must go to the
        // dashboard instead, on this origin.
        s.open(&format!("/?return_to={hostile}")).await;
        s.wait_for_path("/dashboard").await;
        s.wait_for_text("h1", "The Octocat").await;
        let url = s.url().await;
        assert_eq!(
            url.host_str(),
            Some(ours.as_str()),
            "{hostile} led to {url}"
        );
    }
    s.finish().await;
}

#[tokio::test]
async fn a_token_that_expires_while_the_dashboard_is_open_is_renewed_on_reload() {
    let s = start_with(
        "token_renewed",
        Setup {
            expiring_tokens: true,
            ..Setup::default()
        },
    )
    .await;
    s.open("/").await;
    s.sign_in("octocat").await;
    s.wait_for_text("a", "octocat/Hello-World").await;
    // Eight hours later (minus a few minutes, inside the idle limit) the token is due.
    s.advance_clocks(std::time::Duration::from_secs(8 * 3600 - 120));
    s.client.refresh().await.unwrap();
    s.wait_for_text("h1", "The Octocat").await;
    s.wait_for_text("a", "octocat/Hello-World").await;
    assert_eq!(s.control().refresh_grants(), 1);
    s.finish().await;
}

#[tokio::test]
async fn a_refused_renewal_says_so_and_offers_the_way_back() {
    let s = start_with(
        "session_expired",
        Setup {
            expiring_tokens: true,
            ..Setup::default()
        },
    )
    .await;
    s.open("/").await;
    s.sign_in("octocat").await;
    s.advance_clocks(std::time::Duration::from_secs(8 * 3600 - 120));
    s.control().set_fault(
        Endpoint::Refresh,
        Fault::TokenError("bad_refresh_token".into()),
    );
    s.client.refresh().await.unwrap();
    s.wait_for_text("h2", "Your sign-in expired. Sign in again.")
        .await;
    s.screenshot("session_expired_notice").await;
    s.control().clear_faults();
    s.click_button("Sign in again").await;
    s.wait_for_path("/").await;
    assert_eq!(s.url().await.query(), Some("return_to=/dashboard"));
    s.sign_in("octocat").await;
    assert_eq!(s.url().await.path(), "/dashboard");
    s.finish().await;
}

#[tokio::test]
async fn signing_in_at_an_openid_provider_and_out_of_it() {
    let s = start_with(
        "oidc_sign_in",
        Setup {
            oidc: true,
            ..Setup::default()
        },
    )
    .await;
    s.open("/").await;
    s.wait_for_text("button", "Sign in with GitHub").await;
    s.screenshot("sign_in_two_providers").await;
    s.click_button("Sign in with Test IdP").await;
    s.sign_in_at_idp("alice").await;
    s.wait_for_path("/dashboard").await;
    s.wait_for_text("h1", "Alice Liddell").await;
    s.wait_for_contains("p", "@alice").await;
    s.wait_for_text("span", "alice@example.com").await;
    s.wait_for_text("h2", "Devices").await;
    let url = s.url().await;
    assert!(url.query().is_none(), "no code, state or iss left: {url}");
    let repositories = s
        .client
        .find_all(fantoccini::Locator::XPath(
            "//h2[normalize-space()='Repositories']",
        ))
        .await
        .unwrap();
    assert!(repositories.is_empty(), "repositories are GitHub's");
    s.screenshot("oidc_dashboard").await;

    // "Sign out" ends the session here and takes the browser to the provider, which
    // asks, ends its own session and sends the browser back home.
    s.click_button("Sign out").await;
    s.wait_for_path("/session/end").await;
    s.screenshot("oidc_provider_logout").await;
    s.click_button("Yes, sign me out").await;
    s.wait_for_path("/").await;
    assert_eq!(s.url().await.host_str(), Some("localhost"));
    s.wait_for_text("button", "Sign in with Test IdP").await;
    assert_eq!(s.fetch_status("/api/me").await, 401);

    // The provider forgot the person too: signing in asks for the password again.
    s.click_button("Sign in with Test IdP").await;
    s.fill("input[name=password]", "").await;
    s.finish().await;
}

#[tokio::test]
async fn a_person_not_on_the_allow_list_is_told_so() {
    let s = start_with(
        "not_allowed",
        Setup {
            allowed_users: &["octocat"],
            ..Setup::default()
        },
    )
    .await;
    s.open("/").await;
    s.click_button("Sign in with GitHub").await;
    s.consent("hubot", "Authorize").await;
    s.wait_for_text("h2", "Your account isn't allowed to use this app")
        .await;
    assert_eq!(s.fetch_status("/api/me").await, 401);
    s.screenshot("not_allowed").await;
    s.finish().await;
}

#[tokio::test]
async fn the_dashboard_shows_what_your_api_verified_and_a_live_line_that_ends_with_the_session() {
    let laptop = start_with(
        "your_api",
        Setup {
            example_api: true,
            ..Setup::default()
        },
    )
    .await;
    laptop.open("/").await;
    laptop.sign_in("octocat").await;
    laptop
        .wait_for_contains("p", "Your API verified: octocat, session")
        .await;
    laptop
        .wait_for_contains("p", "A handler inside the BFF says: Hello, octocat!")
        .await;
    laptop.wait_for_contains("p", "Live: tick").await;
    laptop.screenshot_card("Your API", "your_api_card").await;

    // Another computer of the same person ends the laptop's session from its devices
    // list: the BFF closes the laptop's socket, which the panel shows at once.
    let phone = laptop.another_browser("your_api_phone").await;
    phone.open("/").await;
    phone.sign_in("octocat").await;
    phone.wait_for_text("span", "This device").await;
    let others = phone
        .wait_for(fantoccini::Locator::Css(
            "li.row button[aria-label^='Sign out ']",
        ))
        .await
        .unwrap();
    others.click().await.unwrap();
    laptop
        .wait_for_contains("p", "Live: closed: session ended (1008)")
        .await;
    laptop.screenshot("your_api_closed").await;
    phone.finish().await;
    laptop.finish().await;
}
