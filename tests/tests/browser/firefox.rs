//! The core journeys again in Firefox ESR (geckodriver): sign-in, cancel and try again,
//! reload and sign-out, a deep link, and two tabs signing out together. The scenarios
//! are the Chromium tests' own (`main.rs`); only the engine differs.

#[tokio::test]
async fn firefox_signing_in_and_approving_shows_the_dashboard() {
    super::sign_in_shows_the_dashboard(true).await;
}

#[tokio::test]
async fn firefox_cancelling_shows_a_readable_error_and_try_again_works() {
    super::cancel_then_try_again(true).await;
}

#[tokio::test]
async fn firefox_a_reload_keeps_the_session_and_sign_out_ends_it() {
    super::reload_then_sign_out(true).await;
}

#[tokio::test]
async fn firefox_signing_out_in_one_tab_signs_out_the_other_tabs() {
    super::two_tabs_sign_out_together(true).await;
}

#[tokio::test]
async fn firefox_a_deep_link_round_trips_through_sign_in() {
    super::deep_link_round_trip(true).await;
}
