//! With no GitHub credentials the BFF starts its own emulator and says so.

use backend::config::Settings;
use backend::startup::Application;

use crate::helpers::{logs, Browser};

#[tokio::test]
async fn without_credentials_the_embedded_emulator_is_used_end_to_end() {
    logs();
    let parent = tempfile::tempdir().unwrap();
    let data_dir = parent.path().join("data");
    let mut settings = Settings::defaults();
    settings.host = "127.0.0.1".into();
    settings.port = 0;
    settings.public_url = Some(crate::helpers::PUBLIC_URL.parse().unwrap());
    settings.data_dir = data_dir.clone();
    settings.github_client_id = None;
    settings.github_client_secret = None;
    settings.token_keys = None;
    settings.database_url = None;
    settings.workers = Some(1);
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
