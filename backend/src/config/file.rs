//! The configuration file (`CONFIG_FILE`, or its old name `PROVIDERS_FILE`): TOML with
//! `[[oidc]]` tables (OpenID Connect providers) and `[[api]]` tables (upstream APIs).
//! Everything else stays in environment variables; the file holds what is a list.

use std::path::Path;

use serde::Deserialize;

use super::apis::{self, ApiSettings};
use super::providers::{self, every_entry};
use super::OidcSettings;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    #[serde(default)]
    oidc: Vec<providers::FileEntry>,
    #[serde(default)]
    api: Vec<apis::FileEntry>,
}

/// What the file configures.
#[derive(Debug, Default)]
pub struct FileConfig {
    pub oidc: Vec<OidcSettings>,
    pub apis: Vec<ApiSettings>,
}

/// Reads the file at `path`; `variable` names the setting that pointed at it. Every bad
/// table is one line of the error.
pub fn read(path: &Path, variable: &str) -> Result<FileConfig, Vec<String>> {
    let source = format!("{variable} {}", path.display());
    let text = std::fs::read_to_string(path).map_err(|e| vec![format!("{source}: {e}")])?;
    let file: File = toml::from_str(&text).map_err(|e| {
        vec![format!(
            "{source}: {}",
            e.message().lines().next().unwrap_or("not valid TOML")
        )]
    })?;
    let oidc = every_entry(
        file.oidc
            .into_iter()
            .enumerate()
            .map(|(n, e)| providers::file_entry(&format!("{source} [[oidc]] entry {}", n + 1), e)),
    );
    let apis = every_entry(
        file.api
            .into_iter()
            .enumerate()
            .map(|(n, e)| apis::file_entry(&format!("{source} [[api]] entry {}", n + 1), e)),
    );
    match (oidc, apis) {
        (Ok(oidc), Ok(apis)) => Ok(FileConfig { oidc, apis }),
        (oidc, apis) => Err(oidc
            .err()
            .unwrap_or_default()
            .into_iter()
            .chain(apis.err().unwrap_or_default())
            .collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_text(text: &str) -> Result<FileConfig, Vec<String>> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bff.toml");
        std::fs::write(&path, text).unwrap();
        read(&path, "CONFIG_FILE")
    }

    #[test]
    fn providers_and_apis_come_from_one_toml_file() {
        let config = read_text(
            r#"
[[oidc]]
id = "keycloak"
name = "Company login"
issuer = "https://sso.example.com/realms/staff"
client_id = "bff"
client_secret = "s3cret"

[[api]]
prefix = "notes"
upstream = "https://notes.internal.example.com/v1"
methods = ["GET", "POST"]
websocket = true

[[api]]
prefix = "status"
upstream = "http://127.0.0.1:9000"
identity = "none"
public = true
"#,
        )
        .unwrap();
        assert_eq!(config.oidc[0].id.as_str(), "keycloak");
        assert_eq!(config.apis.len(), 2);
        assert_eq!(config.apis[0].prefix, "notes");
        assert_eq!(config.apis[0].identity, apis::Identity::Jwt);
        assert_eq!(config.apis[0].methods, ["GET", "POST"]);
        assert!(config.apis[0].websocket);
        assert!(config.apis[1].public);
    }

    #[test]
    fn each_bad_table_is_one_line_naming_it() {
        let errors = read_text(
            r#"
[[oidc]]
id = "GitHub"
issuer = "https://x.example.com"
client_id = "a"
client_secret = "b"

[[api]]
prefix = "me"
upstream = "https://a.example.com"

[[api]]
prefix = "ok"
upstream = "https://a.example.com"

[[api]]
prefix = "plain"
upstream = "http://a.example.com"
"#,
        )
        .unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].contains("[[oidc]] entry 1"), "{errors:?}");
        assert!(errors[1].contains("[[api]] entry 1") && errors[1].contains("built-in"));
        assert!(errors[2].contains("[[api]] entry 3") && errors[2].contains("https"));
        let unknown = read_text(
            "[[api]]\nprefix = \"a\"\nupstream = \"https://a.example.com\"\nretries = 3\n",
        )
        .unwrap_err();
        assert_eq!(unknown.len(), 1);
        assert!(unknown[0].contains("retries"), "{unknown:?}");
        assert_eq!(read_text("[[oidc]]\nid = 3\n").unwrap_err().len(), 1);
    }
}
