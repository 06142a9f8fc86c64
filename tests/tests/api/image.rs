//! The container image (`cargo xtask image`), read as an OCI layout: its configuration,
//! every file in its layers, its size; then its binary, taken out of the image, runs here
//! against the emulator (containers themselves cannot run on these machines).
//!
//! `cargo xtask test` builds the image (profile `image-check`) before the tests; run
//! alone, this test builds it when `target/image/oci` is missing.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use backend::crypto::KeyRing;
use serde_json::Value;
use testkit::process::{free_port, ChildGuard as Process};

use crate::common::workspace;
use crate::helpers::{github_env, wait_until_answers, Browser, PUBLIC_URL};

const USER: &str = "10001";

/// The saved image, built first if it is not there.
fn oci_layout() -> PathBuf {
    let layout = workspace().join("target/image/oci");
    if !layout.join("index.json").exists() {
        let status = Command::new(env!("CARGO"))
            .args([
                "run",
                "-q",
                "-p",
                "xtask",
                "--",
                "image",
                "--profile",
                "image-check",
            ])
            .current_dir(workspace())
            .status()
            .unwrap();
        assert!(status.success(), "cargo xtask image failed");
    }
    layout
}

fn blob(layout: &Path, digest: &str) -> PathBuf {
    layout
        .join("blobs/sha256")
        .join(digest.strip_prefix("sha256:").unwrap())
}

fn json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// One file of a layer: `tar -tv`'s mode, owner and path.
#[derive(Debug, Clone)]
struct Entry {
    mode: String,
    owner: String,
    size: u64,
    path: String,
}

fn entries(layer: &Path) -> Vec<Entry> {
    let out = Command::new("tar")
        .args(["--numeric-owner", "-tvzf"])
        .arg(layer)
        .output()
        .unwrap();
    assert!(out.status.success(), "tar could not read a layer");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            Entry {
                mode: fields[0].to_owned(),
                owner: fields[1].to_owned(),
                size: fields[2].parse().unwrap(),
                path: fields[5..].join(" "),
            }
        })
        .collect()
}

/// True when the ELF file asks for a dynamic loader (has a `PT_INTERP` header).
fn is_dynamic(elf: &[u8]) -> bool {
    assert_eq!(&elf[..4], b"\x7fELF", "not an ELF file");
    let u16_at = |at: usize| u16::from_le_bytes([elf[at], elf[at + 1]]) as usize;
    let phoff = u64::from_le_bytes(elf[0x20..0x28].try_into().unwrap()) as usize;
    let (size, count) = (u16_at(0x36), u16_at(0x38));
    (0..count).any(|i| {
        let at = phoff + i * size;
        u32::from_le_bytes(elf[at..at + 4].try_into().unwrap()) == 3
    })
}

#[tokio::test]
async fn the_image_is_a_static_binary_the_spa_and_ca_roots_run_as_a_user_and_it_serves_a_sign_in() {
    let layout = tokio::task::spawn_blocking(oci_layout).await.unwrap();
    let index = json(&layout.join("index.json"));
    let manifest = json(&blob(
        &layout,
        index["manifests"][0]["digest"].as_str().unwrap(),
    ));
    let config = json(&blob(
        &layout,
        manifest["config"]["digest"].as_str().unwrap(),
    ));

    // How it runs: as the user, the binary as the entry point, the settings a container
    // needs, the port and the data volume.
    let run = &config["config"];
    assert_eq!(run["User"], format!("{USER}:{USER}"));
    assert_eq!(run["Entrypoint"], serde_json::json!(["/app/backend"]));
    let env: HashMap<&str, &str> = run["Env"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|v| v.as_str()?.split_once('='))
        .collect();
    assert_eq!(env["HOST"], "0.0.0.0");
    assert_eq!(env["DATA_DIR"], "/data");
    assert_eq!(env["STATIC_DIR"], "/app/dist");
    assert_eq!(env["SSL_CERT_FILE"], "/etc/ssl/certs/ca-certificates.crt");
    assert!(run["ExposedPorts"]["3000/tcp"].is_object(), "{run}");
    assert!(run["Volumes"]["/data"].is_object(), "{run}");

    // What is in it: exactly these files, nothing else (no shell, no package manager).
    let layers: Vec<PathBuf> = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| blob(&layout, l["digest"].as_str().unwrap()))
        .collect();
    let all: Vec<(PathBuf, Entry)> = layers
        .iter()
        .flat_map(|layer| entries(layer).into_iter().map(|e| (layer.clone(), e)))
        .collect();
    let find = |path: &str| {
        all.iter()
            .find(|(_, e)| e.path.trim_end_matches('/') == path)
            .unwrap_or_else(|| panic!("{path} is not in the image: {all:#?}"))
    };
    let (_, binary) = find("app/backend");
    assert!(binary.mode.starts_with("-rwx"), "{binary:?}");
    assert_eq!(find("data").1.mode, "drwx------");
    assert_eq!(find("data").1.owner, format!("{USER}/{USER}"));
    assert!(find("etc/ssl/certs/ca-certificates.crt").1.size > 100_000);
    find("etc/passwd");
    find("etc/group");
    find("app/dist/index.html");
    assert!(all
        .iter()
        .any(|(_, e)| e.path.starts_with("app/dist/") && e.path.ends_with(".wasm")));
    let allowed = ["app", "data", "etc"];
    for (_, entry) in &all {
        let top = entry.path.split('/').next().unwrap();
        assert!(
            allowed.contains(&top),
            "unexpected {} in the image",
            entry.path
        );
        if entry.path.starts_with("app/") || entry.path.starts_with("etc/") {
            assert_eq!(entry.owner, "0/0", "{entry:?}: only /data is the user's");
        }
    }
    let compressed: u64 = manifest["layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["size"].as_u64().unwrap())
        .sum();
    println!(
        "image: {} layers, {:.1} MiB compressed, binary {:.1} MiB",
        layers.len(),
        compressed as f64 / 1048576.0,
        binary.size as f64 / 1048576.0
    );
    assert!(
        compressed < 48 << 20,
        "the image grew to {compressed} bytes"
    );

    // Out of the image: the files as they are in it.
    let root = tempfile::tempdir().unwrap();
    for layer in &layers {
        let status = Command::new("tar")
            .args(["--no-same-owner", "-xzf"])
            .arg(layer)
            .arg("-C")
            .arg(root.path())
            .status()
            .unwrap();
        assert!(status.success());
    }
    let passwd = std::fs::read_to_string(root.path().join("etc/passwd")).unwrap();
    assert!(
        passwd.starts_with(&format!("bff:x:{USER}:{USER}:")),
        "{passwd}"
    );
    let program = root.path().join("app/backend");
    let elf = std::fs::read(&program).unwrap();
    assert!(!is_dynamic(&elf), "the binary needs a dynamic loader");
    let needle = b"signing in against the embedded GitHub emulator";
    assert!(
        !elf.windows(needle.len()).any(|w| w == needle),
        "the development provider is compiled in"
    );

    // Without provider credentials it refuses to start (no dev mode to fall into).
    let refused = Command::new(&program)
        .env_clear()
        .env("HOST", "127.0.0.1")
        .env("PORT", "0")
        .env("DATA_DIR", root.path().join("data"))
        .env("TOKEN_KEYS", KeyRing::generate_key())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&refused.stdout).to_string()
        + &String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(said.contains("GITHUB_CLIENT_ID"), "{said}");

    // With them, it serves the SPA and a whole sign-in, with the image's CA roots.
    let emulator = emulator::Emulator::start(
        emulator::AppRegistration::random("Image", &format!("{PUBLIC_URL}/callback")),
        std::net::TcpListener::bind("127.0.0.1:0").unwrap(),
        1,
    )
    .unwrap();
    let port = free_port();
    let child = Command::new(&program)
        .env_clear()
        .env("HOST", "127.0.0.1")
        .env("PORT", port.to_string())
        .env("PUBLIC_URL", PUBLIC_URL)
        .env("DATA_DIR", root.path().join("data"))
        .env("STATIC_DIR", root.path().join("app/dist"))
        .env(
            "SSL_CERT_FILE",
            root.path().join("etc/ssl/certs/ca-certificates.crt"),
        )
        .env("RUST_LOG", "warn")
        .env("TOKEN_KEYS", KeyRing::generate_key())
        .envs(github_env(&emulator))
        .spawn()
        .unwrap();
    let _process = Process::new(child);
    let base = format!("http://127.0.0.1:{port}");
    wait_until_answers(&base, "/readyz", "the image's binary never became ready").await;
    let page = reqwest::get(format!("{base}/")).await.unwrap();
    assert_eq!(page.status(), 200);
    assert!(page.text().await.unwrap().contains(".wasm"));
    let browser = Browser::new(&base);
    let done = browser.sign_in_as("octocat").await;
    assert_eq!(done["user"]["login"], "octocat");
    assert_eq!(browser.get("/api/me").await.status(), 200);
}
