//! Throw-away Redis and PostgreSQL servers for tests: each on a free loopback port, in a
//! temporary directory, stopped when dropped. `cargo xtask test` installs the Debian
//! packages (`redis-server`, `postgresql`); nothing here downloads anything.
//!
//! Every server's directory name starts with [`MARKER`], so a run that was killed
//! before its destructors ran can be cleaned up by name (`cargo xtask test` does).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::process::{free_port, wait_for_port, ChildGuard};

/// In the name of every server directory.
pub const MARKER: &str = "bff-test-store-";

/// A `redis-server` of our own.
pub struct RedisServer {
    child: Option<ChildGuard>,
    pub port: u16,
    dir: tempfile::TempDir,
    persistent: bool,
}

impl RedisServer {
    /// Nothing written to disk: a restart loses everything.
    pub fn start() -> Self {
        Self::launch(false)
    }

    /// Every write appended to disk before it is acknowledged: a restart keeps it all.
    pub fn start_persistent() -> Self {
        Self::launch(true)
    }

    fn launch(persistent: bool) -> Self {
        let dir = tempfile::Builder::new().prefix(MARKER).tempdir().unwrap();
        let mut server = Self {
            child: None,
            port: free_port(),
            dir,
            persistent,
        };
        server.spawn();
        server
    }

    fn spawn(&mut self) {
        let mut command =
            Command::new(std::env::var("REDIS_SERVER").unwrap_or_else(|_| "redis-server".into()));
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", ""])
            .arg("--dir")
            .arg(self.dir.path())
            .args(["--protected-mode", "yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if self.persistent {
            command.args(["--appendonly", "yes", "--appendfsync", "always"]);
        } else {
            command.args(["--appendonly", "no"]);
        }
        let child = command.spawn().unwrap_or_else(|e| {
            panic!("cannot start redis-server ({e}); `cargo xtask test` installs it")
        });
        self.child = Some(ChildGuard::new(child));
        wait_for_port(self.port, "redis-server");
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops the server (as a crash would: no final save).
    pub fn stop(&mut self) {
        self.child = None;
    }

    /// Starts it again on the same port and directory.
    pub fn restart(&mut self) {
        self.stop();
        self.spawn();
    }

    /// Starts it again on the same port with nothing in it (a server that kept no data).
    pub fn restart_empty(&mut self) {
        self.stop();
        for entry in std::fs::read_dir(self.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                std::fs::remove_dir_all(path).unwrap();
            } else {
                std::fs::remove_file(path).unwrap();
            }
        }
        self.spawn();
    }
}

/// A PostgreSQL cluster of our own. `initdb` refuses to run as root, so as root the
/// binaries run as the `postgres` user, in a directory it owns.
pub struct PostgresServer {
    dir: tempfile::TempDir,
    pub port: u16,
}

fn pg_bin(name: &str) -> PathBuf {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| dir.filter_map(|e| e.ok()).map(|e| e.path()).collect())
        .unwrap_or_default();
    versions.sort();
    match versions.pop() {
        Some(version) => version.join("bin").join(name),
        None => panic!("PostgreSQL is not installed; `cargo xtask test` installs it"),
    }
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

/// A PostgreSQL binary, as the `postgres` user when we are root.
fn pg_command(name: &str) -> Command {
    if is_root() {
        // By its full path: a root shell's PATH need not have the sbin folders.
        let runuser = ["/usr/sbin/runuser", "/sbin/runuser"]
            .into_iter()
            .find(|p| Path::new(p).exists())
            .unwrap_or("runuser");
        let mut command = Command::new(runuser);
        command.args(["-u", "postgres", "--"]).arg(pg_bin(name));
        command
    } else {
        Command::new(pg_bin(name))
    }
}

fn give_to_postgres(path: &Path) {
    if is_root() {
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path)
            .status()
            .unwrap();
        assert!(status.success(), "chown {} failed", path.display());
    }
}

fn run(mut command: Command, what: &str) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A freshly initialised cluster directory, made once per machine and copied for each
/// server (`initdb` takes a second; a copy a tenth of that).
fn template() -> PathBuf {
    let template = std::env::temp_dir().join("bff-test-postgres-template");
    if template.join("PG_VERSION").exists() {
        return template;
    }
    let scratch = tempfile::Builder::new()
        .prefix("bff-test-postgres-template-")
        .tempdir()
        .unwrap()
        .keep();
    give_to_postgres(&scratch);
    let data = scratch.join("data");
    let mut initdb = pg_command("initdb");
    initdb
        .arg("-D")
        .arg(&data)
        .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync"]);
    run(initdb, "initdb");
    // Another test may have won the race: theirs is as good as ours.
    if std::fs::rename(&data, &template).is_err() {
        let _ = std::fs::remove_dir_all(&data);
    }
    let _ = std::fs::remove_dir_all(&scratch);
    template
}

impl PostgresServer {
    pub fn start() -> Self {
        let dir = tempfile::Builder::new().prefix(MARKER).tempdir().unwrap();
        let data = dir.path().join("data");
        let status = Command::new("cp")
            .arg("-a")
            .arg(template())
            .arg(&data)
            .status()
            .unwrap();
        assert!(status.success(), "copying the PostgreSQL template failed");
        give_to_postgres(dir.path());
        let port = free_port();
        let options = format!(
            "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off",
            dir.path().display()
        );
        let mut start = pg_command("pg_ctl");
        start
            .arg("-D")
            .arg(&data)
            .args(["-o", &options, "-w", "-l"])
            .arg(dir.path().join("log"))
            .arg("start");
        run(start, "pg_ctl start");
        wait_for_port(port, "postgres");
        Self { dir, port }
    }

    /// Stops the server and starts it again with its data and options, as an operator's
    /// restart does: every open connection is closed by the server.
    pub fn restart(&self) {
        let mut restart = pg_command("pg_ctl");
        restart
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "fast", "-w", "-l"])
            .arg(self.dir.path().join("log"))
            .arg("restart");
        run(restart, "pg_ctl restart");
        wait_for_port(self.port, "postgres");
    }

    /// The URL of the `postgres` database (for creating others).
    pub fn admin_url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// A new, empty database on this server, and its URL.
    pub async fn new_database(&self) -> String {
        use std::sync::atomic::{AtomicU32, Ordering};
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "bff_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed)
        );
        let admin = sqlx::PgPool::connect(&self.admin_url()).await.unwrap();
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&admin)
            .await
            .unwrap();
        admin.close().await;
        format!("postgres://postgres@127.0.0.1:{}/{name}", self.port)
    }
}

impl Drop for PostgresServer {
    fn drop(&mut self) {
        let mut stop = pg_command("pg_ctl");
        stop.arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        let _ = stop.status();
    }
}
