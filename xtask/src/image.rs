//! `cargo xtask image`: the BFF as an OCI image with no base image (`FROM scratch`),
//! assembled by Debian's `podman build`:
//!
//! - `/app/backend`: a static binary (`x86_64-unknown-linux-musl`), without the
//!   development provider (a production image cannot fall into dev mode);
//! - `/app/dist/`: the SPA, as `cargo xtask run` serves it;
//! - `/etc/ssl/certs/ca-certificates.crt`: Debian's CA roots (`SSL_CERT_FILE` points at
//!   them; mount your own bundle there to trust a private CA);
//! - `/etc/passwd`, `/etc/group`: the user `bff` (10001), which the image runs as;
//! - `/data`: the data folder, owned by that user, mode 0700.
//!
//! The image is written to podman's store as `repo-desk-bff:<version>` and saved as an
//! OCI layout in `target/image/oci` (what the tests read: `podman run` cannot run here).
//! `--profile <name>` builds the binary with another Cargo profile: the test suite uses
//! `image-check`, the same contents compiled in a fraction of the time.

use std::path::{Path, PathBuf};

use crate::frontend;
use crate::steps::{self, root, Steps};
use crate::tools::{self, Debian};

pub const NAME: &str = "repo-desk-bff";
pub const MUSL: &str = "x86_64-unknown-linux-musl";
/// The user and group the image runs as: not root, and not a number a host account is
/// likely to have.
const USER: u32 = 10001;
/// The profile `cargo xtask test` builds the image with (Cargo.toml).
pub const CHECK_PROFILE: &str = "image-check";
const CA_ROOTS: &str = "/etc/ssl/certs/ca-certificates.crt";

pub fn image(args: &[String]) -> Result<(), String> {
    let profile = match args {
        [] => "release".to_owned(),
        [flag, profile] if flag == "--profile" => profile.clone(),
        _ => return Err("usage: cargo xtask image [--profile <cargo profile>]".into()),
    };
    let mut steps = Steps::new(4);
    steps.start(
        "tools (wasm-bindgen and wasm-opt for the SPA; the musl target, musl-tools, podman)",
    );
    tools::ensure_debian(&[Debian::Node, Debian::ImageTools])?;
    tools::ensure_frontend_tools()?;
    tools::ensure_image_target()?;
    steps.start(&format!(
        "SPA (wasm-release) and, meanwhile, the static binary ({MUSL}, profile {profile}, \
         without the development provider)"
    ));
    let binary = Binary::start(&profile)?;
    frontend::build()?;
    package(binary)
}

/// The static binary's build, in the background, in a target folder of its own
/// (`target/image/build`: another target and profile, so it shares nothing with the
/// other builds, and it need not wait for their lock). Needs the musl target and
/// `musl-gcc` ([`tools::ensure_image_target`], [`Debian::ImageTools`]).
pub struct Binary {
    cargo: steps::Background,
    path: PathBuf,
}

impl Binary {
    /// With the test suite's profile `image-check`, a warning fails the build: it is how
    /// `cargo xtask test` checks the backend without its development provider. Whoever
    /// builds that profile (the test suite, or the image test when the image is missing)
    /// builds it with the same flags, so neither rebuilds the other's dependencies.
    pub fn start(profile: &str) -> Result<Self, String> {
        let deny_warnings = profile == CHECK_PROFILE;
        let target = root().join("target/image/build");
        let cargo = steps::Background::cargo(
            &format!("the image's static binary ({MUSL}, profile {profile})"),
            &[
                "build",
                "-p",
                "backend",
                "--bin",
                "backend",
                "--no-default-features",
                "--target",
                MUSL,
                "--profile",
                profile,
                "--target-dir",
                &target.display().to_string(),
            ],
            if deny_warnings {
                &[("RUSTFLAGS", "-D warnings")]
            } else {
                &[]
            },
            "image-binary",
        )?;
        let dir = if profile == "dev" { "debug" } else { profile };
        Ok(Self {
            cargo,
            path: target.join(MUSL).join(dir).join("backend"),
        })
    }
}

/// Waits for the binary, then lays out the image with the built SPA (`dist/`) and builds
/// it with podman. The SPA must be built already.
pub fn package(binary: Binary) -> Result<(), String> {
    binary.cargo.wait()?;
    let binary = binary.path;
    let mut steps = Steps::new(2);
    steps.start("the image's contents (target/image/context)");
    let context = assemble(&binary)?;
    steps.start("podman build, podman save (target/image/oci)");
    let tag = format!("{NAME}:{}", version());
    steps::run(
        "podman",
        &[
            "build",
            "--quiet",
            "--format",
            "oci",
            "--tag",
            &tag,
            "--file",
            &context.join("Containerfile").display().to_string(),
            &context.display().to_string(),
        ],
    )?;
    let saved = root().join("target/image/oci");
    remove(&saved)?;
    steps::run(
        "podman",
        &[
            "save",
            "--quiet",
            "--format",
            "oci-dir",
            "--output",
            &saved.display().to_string(),
            &tag,
        ],
    )?;
    let size = steps::output(
        "podman",
        &["image", "inspect", "--format", "{{.Size}}", &tag],
    )
    .and_then(|s| s.trim().parse::<u64>().ok())
    .unwrap_or(0);
    println!(
        "\n    {tag}: {:.1} MiB unpacked (binary {:.1} MiB); saved in {}",
        size as f64 / (1 << 20) as f64,
        std::fs::metadata(&binary).map_or(0, |m| m.len()) as f64 / (1 << 20) as f64,
        saved.display()
    );
    Ok(())
}

/// The crate's version: the image's tag.
fn version() -> String {
    let manifest = std::fs::read_to_string(root().join("backend/Cargo.toml")).unwrap_or_default();
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = \""))
        .and_then(|rest| rest.strip_suffix('"'))
        .unwrap_or("0.0.0")
        .to_owned()
}

/// Lays out the build context and writes its Containerfile.
fn assemble(binary: &Path) -> Result<PathBuf, String> {
    let context = root().join("target/image/context");
    remove(&context)?;
    fn fail(what: &'static str) -> impl Fn(std::io::Error) -> String {
        move |e| format!("{what}: {e}")
    }
    for folder in ["app", "etc/ssl/certs", "state/data"] {
        std::fs::create_dir_all(context.join(folder)).map_err(fail("creating the context"))?;
    }
    std::fs::copy(binary, context.join("app/backend")).map_err(fail("copying the binary"))?;
    copy_tree(&root().join("dist"), &context.join("app/dist"))?;
    std::fs::copy(CA_ROOTS, context.join("etc/ssl/certs/ca-certificates.crt"))
        .map_err(fail("copying the CA roots (Debian's ca-certificates)"))?;
    std::fs::write(
        context.join("etc/passwd"),
        format!("bff:x:{USER}:{USER}:Repo Desk BFF:/data:/nonexistent\n"),
    )
    .map_err(fail("writing etc/passwd"))?;
    std::fs::write(context.join("etc/group"), format!("bff:x:{USER}:\n"))
        .map_err(fail("writing etc/group"))?;
    // Copied as the contents of `state/` so the folder keeps its mode (a folder named
    // as a COPY source itself arrives 0755).
    set_mode(&context.join("state/data"), 0o700)?;
    std::fs::write(context.join("Containerfile"), containerfile())
        .map_err(fail("writing the Containerfile"))?;
    Ok(context)
}

fn containerfile() -> String {
    format!(
        r#"# Written by `cargo xtask image`: no base image, nothing but what the BFF needs.
FROM scratch
COPY etc/ /etc/
COPY --chown={USER}:{USER} state/ /
COPY app/ /app/
USER {USER}:{USER}
WORKDIR /data
ENV HOST=0.0.0.0 \
    PORT=3000 \
    DATA_DIR=/data \
    STATIC_DIR=/app/dist \
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt
EXPOSE 3000
VOLUME /data
ENTRYPOINT ["/app/backend"]
LABEL org.opencontainers.image.title="Repo Desk BFF" \
      org.opencontainers.image.description="Sign in with GitHub (and OpenID Connect) for a WebAssembly SPA: the backend-for-frontend and the SPA it serves" \
      org.opencontainers.image.version="{version}"
"#,
        version = version()
    )
}

fn copy_tree(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::create_dir_all(to).map_err(|e| format!("creating {}: {e}", to.display()))?;
    let entries = std::fs::read_dir(from)
        .map_err(|e| format!("reading {} (is the SPA built?): {e}", from.display()))?;
    for entry in entries {
        let entry = entry.map_err(|e| e.to_string())?;
        let target = to.join(entry.file_name());
        if entry.file_type().map_err(|e| e.to_string())?.is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)
                .map_err(|e| format!("copying {}: {e}", entry.path().display()))?;
        }
    }
    Ok(())
}

fn set_mode(path: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", path.display()))
}

fn remove(path: &Path) -> Result<(), String> {
    match std::fs::remove_dir_all(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("removing {}: {e}", path.display())),
    }
}
