//! OpenID Connect providers from the environment (`OIDC_<ID>_ISSUER`, `..._CLIENT_ID`,
//! `..._CLIENT_SECRET`, `..._NAME`, `..._SCOPES`) and from `[[oidc]]` tables of the
//! configuration file (`file.rs`). Each bad entry is reported on a line of its own.

use std::collections::BTreeMap;

use secrecy::SecretString;
use serde::Deserialize;

use super::{IssuerUrl, OidcSettings, ProviderId};

/// The scopes asked for when an entry names none.
pub const DEFAULT_OIDC_SCOPES: &str = "openid profile email";

/// One `[[oidc]]` table of the configuration file.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileEntry {
    id: String,
    name: Option<String>,
    issuer: String,
    client_id: String,
    client_secret: String,
    scopes: Option<String>,
    #[serde(default)]
    extra_audiences: Vec<String>,
}

/// One provider entry as read, before its checks.
struct RawEntry {
    id: String,
    name: Option<String>,
    issuer: String,
    client_id: String,
    client_secret: String,
    scopes: Option<String>,
    extra_audiences: Vec<String>,
}

fn entry(source: &str, raw: RawEntry) -> Result<OidcSettings, String> {
    let RawEntry {
        id,
        name,
        issuer,
        client_id,
        client_secret,
        scopes,
        extra_audiences,
    } = raw;
    let issuer = issuer.as_str();
    let id = ProviderId::parse(&id, source)?;
    let issuer = IssuerUrl::parse(issuer, source)?;
    if client_id.trim().is_empty() {
        return Err(format!("{source}: the client id is empty"));
    }
    if client_secret.is_empty() {
        return Err(format!("{source}: the client secret is empty"));
    }
    let scopes = scopes.unwrap_or_else(|| DEFAULT_OIDC_SCOPES.to_owned());
    if !scopes.split_whitespace().any(|s| s == "openid") {
        return Err(format!("{source}: the scopes must include openid"));
    }
    if scopes.chars().any(char::is_control) {
        return Err(format!("{source}: the scopes contain control characters"));
    }
    Ok(OidcSettings {
        name: name.unwrap_or_else(|| id.to_string()),
        id,
        issuer,
        client_id,
        client_secret: SecretString::from(client_secret),
        scopes,
        extra_audiences,
    })
}

/// The providers described by `OIDC_<ID>_<FIELD>` variables among `vars`.
pub fn from_env(
    vars: impl IntoIterator<Item = (String, String)>,
) -> Result<Vec<OidcSettings>, Vec<String>> {
    const FIELDS: [&str; 6] = [
        "_ISSUER",
        "_CLIENT_ID",
        "_CLIENT_SECRET",
        "_NAME",
        "_SCOPES",
        "_EXTRA_AUDIENCES",
    ];
    let mut by_id: BTreeMap<String, BTreeMap<&'static str, String>> = BTreeMap::new();
    for (name, value) in vars {
        let Some(rest) = name.strip_prefix("OIDC_") else {
            continue;
        };
        if let Some(field) = FIELDS.iter().find(|f| rest.ends_with(*f)) {
            let id = rest[..rest.len() - field.len()]
                .to_ascii_lowercase()
                .replace('_', "-");
            by_id.entry(id).or_default().insert(field, value);
        }
    }
    every_entry(by_id.into_iter().map(|(id, mut fields)| {
        let source = format!("OIDC_{}_*", id.to_ascii_uppercase().replace('-', "_"));
        let mut take = |field: &'static str| fields.remove(field);
        let (Some(issuer), Some(client_id), Some(client_secret)) =
            (take("_ISSUER"), take("_CLIENT_ID"), take("_CLIENT_SECRET"))
        else {
            return Err(format!(
                "{source}: ISSUER, CLIENT_ID and CLIENT_SECRET must all be set"
            ));
        };
        let extra_audiences = take("_EXTRA_AUDIENCES")
            .map(|list| {
                list.split(',')
                    .map(|a| a.trim().to_owned())
                    .filter(|a| !a.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        entry(
            &source,
            RawEntry {
                id,
                name: take("_NAME"),
                issuer,
                client_id,
                client_secret,
                scopes: take("_SCOPES"),
                extra_audiences,
            },
        )
    }))
}

/// Reads and checks one `[[oidc]]` table.
pub(super) fn file_entry(source: &str, e: FileEntry) -> Result<OidcSettings, String> {
    entry(
        source,
        RawEntry {
            id: e.id,
            name: e.name,
            issuer: e.issuer,
            client_id: e.client_id,
            client_secret: e.client_secret,
            scopes: e.scopes,
            extra_audiences: e.extra_audiences,
        },
    )
}

/// The providers if every entry is good, or one line per bad entry.
pub(super) fn every_entry<T>(
    entries: impl Iterator<Item = Result<T, String>>,
) -> Result<Vec<T>, Vec<String>> {
    let (good, errors): (Vec<_>, Vec<_>) = entries.partition(Result::is_ok);
    if errors.is_empty() {
        Ok(good.into_iter().filter_map(Result::ok).collect())
    } else {
        Err(errors.into_iter().filter_map(Result::err).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn providers_come_from_the_environment() {
        let found = from_env(vars(&[
            ("OIDC_OKTA_ISSUER", "https://dev-1.okta.com"),
            ("OIDC_OKTA_CLIENT_ID", "abc"),
            ("OIDC_OKTA_CLIENT_SECRET", "s"),
            ("OIDC_OKTA_NAME", "Okta"),
            ("OIDC_MY_IDP_ISSUER", "https://idp.example.com/realms/x"),
            ("OIDC_MY_IDP_CLIENT_ID", "def"),
            ("OIDC_MY_IDP_CLIENT_SECRET", "t"),
            ("PATH", "/usr/bin"),
        ]))
        .unwrap();
        assert_eq!(found.len(), 2);
        assert_eq!(found[0].id.as_str(), "my-idp");
        assert_eq!(found[0].name, "my-idp");
        assert_eq!(found[0].scopes, DEFAULT_OIDC_SCOPES);
        assert_eq!(found[1].id.as_str(), "okta");
        assert_eq!(found[1].name, "Okta");
    }

    #[test]
    fn each_bad_entry_gets_a_line_of_its_own() {
        let errors = from_env(vars(&[
            ("OIDC_A_ISSUER", "http://idp.example.com"),
            ("OIDC_A_CLIENT_ID", "x"),
            ("OIDC_A_CLIENT_SECRET", "y"),
            ("OIDC_B_ISSUER", "https://b.example.com"),
            ("OIDC_C_ISSUER", "https://c.example.com"),
            ("OIDC_C_CLIENT_ID", "x"),
            ("OIDC_C_CLIENT_SECRET", "y"),
            ("OIDC_C_SCOPES", "profile email"),
        ]))
        .unwrap_err();
        assert_eq!(errors.len(), 3, "{errors:?}");
        assert!(errors[0].starts_with("OIDC_A_*") && errors[0].contains("https://"));
        assert!(errors[1].starts_with("OIDC_B_*") && errors[1].contains("CLIENT_ID"));
        assert!(errors[2].starts_with("OIDC_C_*") && errors[2].contains("openid"));
    }
}
