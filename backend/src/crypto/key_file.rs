//! The generated key file used when `TOKEN_KEYS` is not set: created once with mode 0600,
//! so a restart keeps every session's token readable.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use anyhow::Context;
use zeroize::Zeroizing;

use super::KeyRing;

const FILE_NAME: &str = "token-key";

/// Reads `DATA_DIR/token-key`, creating it with a fresh key (mode 0600) if missing.
pub fn load_or_create_key_file(data_dir: &Path) -> anyhow::Result<KeyRing> {
    let path = data_dir.join(FILE_NAME);
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
                let key = Zeroizing::new(KeyRing::generate_key());
                file.write_all(key.as_bytes())
                    .context("Failed to write the token key file")?;
                tracing::warn!(path = %path.display(), "generated a token encryption key; set TOKEN_KEYS in production");
            }
            // Another process created it first: use theirs.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(e).context("Failed to create the token key file"),
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
    // The key text is wiped from memory once parsed.
    let text =
        Zeroizing::new(fs::read_to_string(&path).context("Failed to read the token key file")?);
    KeyRing::parse(text.trim()).map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
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
