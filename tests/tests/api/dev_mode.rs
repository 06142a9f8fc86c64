//! With no GitHub credentials the BFF starts its own emulator and says so.

use backend::app::Application;

use crate::helpers::{logs, test_settings, Browser};

#[tokio::test]
async fn without_credentials_the_embedded_emulator_is_used_end_to_end() {
    logs();
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("data");
    let mut settings = test_settings(&data_dir, crate::helpers::PUBLIC_URL, 0);
    settings.stores.token_keys = None;
    let app = Application::build(settings).await.unwrap();
    assert!(app.dev_mode());
    let emulator_url = app.emulator().unwrap().base_url().to_owned();
    assert!(
        emulator_url.starts_with("http://127.0.0.1:"),
        "loopback only"
    );
    let browser = Browser::new(&format!("http://127.0.0.1:{}", app.port()));
    tokio::spawn(app.run_until_stopped());

    let providers: serde_json::Value = browser
        .get("/api/auth/providers")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(providers["dev_mode"], true);
    let body = browser.sign_in_as("octocat").await;
    assert_eq!(body["user"]["login"], "octocat");
    assert!(logs().text().contains("DEV MODE"), "the log says so loudly");

    // The data directory it created and the generated key file are private.
    use std::os::unix::fs::PermissionsExt;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data_dir), 0o700);
    assert_eq!(mode(&data_dir.join("token-key")), 0o600);
}
