//! What only the embedded SQLite store has: files on disk, created private.

use crate::helpers::spawn_app;

#[tokio::test]
async fn the_database_files_are_private_whatever_the_umask() {
    use std::os::unix::fs::PermissionsExt;
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    for name in ["bff.sqlite3", "bff.sqlite3-wal", "bff.sqlite3-shm"] {
        let path = app.settings.server.data_dir.join(name);
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{name} has mode {mode:o}");
    }
}
