//! Generated key files used when keys are not configured (`TOKEN_KEYS`, `IDENTITY_KEYS`):
//! created once with mode 0600, so a restart keeps every session's token readable and
//! every identity token the upstreams hold verifiable.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use zeroize::Zeroizing;

use super::KeyRing;

const FILE_NAME: &str = "token-key";

/// Reads `DATA_DIR/token-key`, creating it with a fresh key (mode 0600) if missing.
pub fn load_or_create_key_file(data_dir: &Path) -> anyhow::Result<KeyRing> {
    let text = load_or_create(data_dir, FILE_NAME, "TOKEN_KEYS", KeyRing::generate_key)?;
    KeyRing::parse(text.trim())
        .map_err(|e| anyhow::anyhow!("{}: {e}", data_dir.join(FILE_NAME).display()))
}

/// The text of `DATA_DIR/{name}`, creating the file (mode 0600) with `generate()` if it
/// is missing. `variable` names the setting that makes the file unnecessary. The text is
/// wiped from memory when dropped.
pub fn load_or_create(
    data_dir: &Path,
    name: &str,
    variable: &str,
    generate: fn() -> String,
) -> anyhow::Result<Zeroizing<String>> {
    let path = data_dir.join(name);
    if !path.exists() {
        fs::create_dir_all(data_dir)
            .with_context(|| format!("Failed to create DATA_DIR {}", data_dir.display()))?;
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(0o600);
        }
        match options.open(&path) {
            Ok(mut file) => {
                let key = Zeroizing::new(generate());
                file.write_all(key.as_bytes())
                    .with_context(|| format!("Failed to write {}", path.display()))?;
                tracing::warn!(path = %path.display(), "generated a key file; set {variable} in production");
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => {
                return Err(e).with_context(|| format!("Failed to create {}", path.display()))
            }
        }
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = fs::metadata(&path)?.permissions().mode();
        if mode & 0o077 != 0 {
            anyhow::bail!(
                "{} is readable by other users (mode {:o}); run chmod 600 on it",
                path.display(),
                mode & 0o777
            );
        }
    }
    Ok(Zeroizing::new(fs::read_to_string(&path).with_context(
        || format!("Failed to read {}", path.display()),
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_file_is_private_and_stable() {
        let dir = tempfile::tempdir().unwrap();
        let first = load_or_create_key_file(dir.path()).unwrap();
        let sealed = first.seal("token", "owner", "abc");
        let second = load_or_create_key_file(dir.path()).unwrap();
        assert_eq!(*second.open("token", "owner", &sealed).unwrap(), "abc");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
