//! Upstream APIs (`[[api]]` tables of the configuration file): each a prefix under
//! `/api/` that the BFF forwards to the team's own service, with the signed-in person's
//! identity attached (RFC 10017 §6.1: the BFF calls resource servers for the SPA). Every
//! entry is checked on its own, and each bad one is reported on a line of its own.

use std::time::Duration;

use serde::Deserialize;
use url::Url;

/// First segments under `/api/` that built-in routes use: no upstream or local API may
/// take them.
pub const RESERVED: &[&str] = &["auth", "me", "github", "webhooks", "openapi.json"];

/// The methods forwarded when an entry names none.
pub const DEFAULT_METHODS: &[&str] = &["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"];
const DEFAULT_TIMEOUT_MS: u64 = 30_000;
const DEFAULT_MAX_BODY: usize = 1024 * 1024;
/// Largest `max_body_bytes` accepted (1 GiB): bodies stream, but not without bound.
const LARGEST_BODY: usize = 1 << 30;

/// What the upstream receives to know who is calling.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Identity {
    /// `Authorization: Bearer` a short-lived JWT the BFF signs (EdDSA), verifiable
    /// offline against `/.well-known/jwks.json`.
    Jwt,
    /// The session's own access token from its OpenID Connect provider (refreshed when
    /// due); only for providers the entry names, and never a GitHub token.
    AccessToken,
    /// No credential: the upstream trusts the network, or the route is public.
    None,
}

impl Identity {
    pub fn as_str(self) -> &'static str {
        match self {
            Identity::Jwt => "jwt",
            Identity::AccessToken => "access-token",
            Identity::None => "none",
        }
    }
}

/// One upstream API.
#[derive(Clone, Debug)]
pub struct ApiSettings {
    /// Path segments after `/api/` (`notes`, `team/v1`).
    pub prefix: String,
    /// Base URL: the path after the prefix is appended to its path.
    pub upstream: Url,
    pub identity: Identity,
    /// The JWT's `aud`; `None` is `$PUBLIC_URL/api/{prefix}`.
    pub audience: Option<String>,
    /// Methods forwarded (upper case); others answer 405.
    pub methods: Vec<String>,
    /// How long to wait for the upstream's response headers (bodies stream without a
    /// deadline: an event stream may last hours).
    pub timeout: Duration,
    /// Largest request body forwarded; larger answers 413 and the upstream hears nothing
    /// more.
    pub max_body_bytes: usize,
    /// Forward WebSocket upgrades (on GET).
    pub websocket: bool,
    /// No session needed (and no identity sent).
    pub public: bool,
    /// Providers whose sessions may call it (`github`, OpenID Connect ids); empty: any.
    pub providers: Vec<String>,
    /// GitHub organisations (or `org/team` teams) a GitHub session must belong to; empty:
    /// no such rule. Checked like the sign-in allow-list, again every
    /// `MEMBERSHIP_RECHECK_SECS`.
    pub github_orgs: Vec<String>,
    pub github_teams: Vec<String>,
}

impl ApiSettings {
    /// An entry with the defaults, for tests and the examples.
    pub fn new(prefix: &str, upstream: Url) -> Self {
        Self {
            prefix: prefix.to_owned(),
            upstream,
            identity: Identity::Jwt,
            audience: None,
            methods: DEFAULT_METHODS.iter().map(|m| m.to_string()).collect(),
            timeout: Duration::from_millis(DEFAULT_TIMEOUT_MS),
            max_body_bytes: DEFAULT_MAX_BODY,
            websocket: false,
            public: false,
            providers: Vec::new(),
            github_orgs: Vec::new(),
            github_teams: Vec::new(),
        }
    }

    /// True when a GitHub membership rule applies.
    pub fn needs_membership(&self) -> bool {
        !self.github_orgs.is_empty() || !self.github_teams.is_empty()
    }

    /// The rules one entry must keep on its own. `source` names it in messages.
    pub fn check(&self, source: &str) -> Result<(), String> {
        check_prefix(&self.prefix).map_err(|e| format!("{source}: {e}"))?;
        let upstream = &self.upstream;
        if !matches!(upstream.scheme(), "http" | "https")
            || upstream.host().is_none()
            || upstream.query().is_some()
            || upstream.fragment().is_some()
            || !upstream.username().is_empty()
            || upstream.password().is_some()
        {
            return Err(format!(
                "{source}: upstream {upstream} must be an http(s) URL with a host, and no user, query or fragment"
            ));
        }
        super::check_provider_url(&format!("{source}: upstream"), upstream)?;
        for method in &self.methods {
            let token = !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase());
            if !token || matches!(method.as_str(), "CONNECT" | "TRACE") {
                return Err(format!(
                    "{source}: method {method:?} must be an upper-case HTTP method other than CONNECT and TRACE"
                ));
            }
        }
        if self.methods.is_empty() {
            return Err(format!("{source}: methods is empty"));
        }
        if self.websocket && !self.methods.iter().any(|m| m == "GET") {
            return Err(format!(
                "{source}: a websocket API must allow GET (the upgrade is a GET)"
            ));
        }
        if self.timeout < Duration::from_millis(100) || self.timeout > Duration::from_secs(300) {
            return Err(format!("{source}: timeout_ms must be 100 to 300000"));
        }
        if self.max_body_bytes > LARGEST_BODY {
            return Err(format!(
                "{source}: max_body_bytes must be at most {LARGEST_BODY}"
            ));
        }
        if let Some(audience) = &self.audience {
            if audience.is_empty() || audience.chars().any(char::is_control) {
                return Err(format!(
                    "{source}: audience is empty or has control characters"
                ));
            }
        }
        for team in &self.github_teams {
            if team.split('/').filter(|p| !p.is_empty()).count() != 2 {
                return Err(format!(
                    "{source}: github_teams entry {team:?} must be org/team-slug"
                ));
            }
        }
        if self.public {
            if self.identity != Identity::None {
                return Err(format!(
                    "{source}: a public API has no session to take an identity from: set identity = \"none\""
                ));
            }
            if !self.providers.is_empty() || self.needs_membership() {
                return Err(format!(
                    "{source}: a public API cannot also name providers or GitHub organisations"
                ));
            }
        }
        if self.identity == Identity::AccessToken {
            if self.providers.is_empty() {
                return Err(format!(
                    "{source}: identity = \"access-token\" needs providers = [...] naming the OpenID Connect providers whose tokens this upstream accepts"
                ));
            }
            if self.providers.iter().any(|p| p == shared::api::GITHUB) {
                return Err(format!(
                    "{source}: identity = \"access-token\" cannot name github: a GitHub token goes only to GitHub"
                ));
            }
        }
        if self.needs_membership() && self.providers != [shared::api::GITHUB] {
            return Err(format!(
                "{source}: github_orgs and github_teams need providers = [\"github\"]"
            ));
        }
        Ok(())
    }
}

/// A prefix: 1 to 4 segments of a-z 0-9 - _ . (no empty, `.` or `..` segment), not
/// starting with a segment a built-in route uses.
pub fn check_prefix(prefix: &str) -> Result<(), String> {
    let segments: Vec<&str> = prefix.split('/').collect();
    let plain = segments.len() <= 4
        && segments.iter().all(|s| {
            !s.is_empty()
                && *s != "."
                && *s != ".."
                && s.bytes().all(|b| {
                    b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
                })
        });
    if !plain {
        return Err(format!(
            "prefix {prefix:?} must be 1 to 4 path segments of a-z 0-9 - _ ."
        ));
    }
    if RESERVED.contains(&segments[0]) {
        return Err(format!(
            "prefix {prefix:?} overlaps the built-in /api/{}",
            segments[0]
        ));
    }
    Ok(())
}

/// True when one prefix is the other, or lies under it (`team` and `team/v1`).
pub fn overlaps(a: &str, b: &str) -> bool {
    let under = |long: &str, short: &str| {
        long == short || long.strip_prefix(short).is_some_and(|r| r.starts_with('/'))
    };
    under(a, b) || under(b, a)
}

/// The prefixes among `prefixes` that overlap an earlier one, as messages.
pub fn overlapping(prefixes: &[(&str, String)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, (prefix, source)) in prefixes.iter().enumerate() {
        if let Some((other, other_source)) = prefixes[..i].iter().find(|(p, _)| overlaps(p, prefix))
        {
            problems.push(format!(
                "{source}: prefix {prefix:?} overlaps {other:?} ({other_source})"
            ));
        }
    }
    problems
}

/// One `[[api]]` table as written.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct FileEntry {
    prefix: String,
    upstream: String,
    identity: Option<Identity>,
    audience: Option<String>,
    methods: Option<Vec<String>>,
    timeout_ms: Option<u64>,
    max_body_bytes: Option<usize>,
    #[serde(default)]
    websocket: bool,
    #[serde(default)]
    public: bool,
    #[serde(default)]
    providers: Vec<String>,
    #[serde(default)]
    github_orgs: Vec<String>,
    #[serde(default)]
    github_teams: Vec<String>,
}

/// Reads and checks one table.
pub(super) fn file_entry(source: &str, e: FileEntry) -> Result<ApiSettings, String> {
    let upstream = Url::parse(&e.upstream)
        .map_err(|err| format!("{source}: upstream {:?} is not a URL ({err})", e.upstream))?;
    let mut api = ApiSettings::new(&e.prefix, upstream);
    api.identity = e.identity.unwrap_or(Identity::Jwt);
    api.audience = e.audience;
    if let Some(methods) = e.methods {
        api.methods = methods;
    }
    api.timeout = Duration::from_millis(e.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS));
    api.max_body_bytes = e.max_body_bytes.unwrap_or(DEFAULT_MAX_BODY);
    api.websocket = e.websocket;
    api.public = e.public;
    api.providers = e.providers;
    api.github_orgs = e.github_orgs;
    api.github_teams = e.github_teams;
    api.check(source)?;
    Ok(api)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn api(prefix: &str) -> ApiSettings {
        ApiSettings::new(prefix, Url::parse("http://127.0.0.1:4000/v1").unwrap())
    }

    #[test]
    fn prefixes_are_plain_segments_clear_of_built_in_routes() {
        for ok in ["notes", "team/v1", "a.b/c_d/e-f/g"] {
            assert!(check_prefix(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "/notes",
            "notes/",
            "a//b",
            "..",
            "a/../b",
            "Notes",
            "a b",
            "a%2Fb",
            "a/b/c/d/e",
            "me",
            "me/notes",
            "auth",
            "github/x",
            "webhooks",
        ] {
            assert!(check_prefix(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn overlapping_prefixes_are_found() {
        assert!(overlaps("team", "team/v1"));
        assert!(overlaps("team/v1", "team"));
        assert!(overlaps("notes", "notes"));
        assert!(!overlaps("team", "teams"));
        assert!(!overlaps("team/v1", "team/v2"));
        let problems = overlapping(&[
            ("a", "entry 1".into()),
            ("b", "entry 2".into()),
            ("a/x", "entry 3".into()),
        ]);
        assert_eq!(
            problems,
            ["entry 3: prefix \"a/x\" overlaps \"a\" (entry 1)"]
        );
    }

    #[test]
    fn unsafe_or_contradictory_entries_are_refused() {
        let refused = |change: &dyn Fn(&mut ApiSettings)| {
            let mut entry = api("notes");
            change(&mut entry);
            entry.check("entry").unwrap_err()
        };
        assert!(api("notes").check("entry").is_ok());
        assert!(
            refused(&|a| a.upstream = Url::parse("http://notes.internal").unwrap())
                .contains("https")
        );
        assert!(
            refused(&|a| a.upstream = Url::parse("https://u:p@notes.internal").unwrap())
                .contains("no user")
        );
        assert!(
            refused(&|a| a.upstream = Url::parse("ftp://127.0.0.1").unwrap()).contains("http(s)")
        );
        assert!(refused(&|a| a.methods = vec!["get".into()]).contains("upper-case"));
        assert!(refused(&|a| a.methods = vec!["TRACE".into()]).contains("TRACE"));
        assert!(refused(&|a| {
            a.websocket = true;
            a.methods = vec!["POST".into()];
        })
        .contains("GET"));
        assert!(refused(&|a| a.timeout = Duration::from_millis(10)).contains("timeout_ms"));
        assert!(refused(&|a| a.public = true).contains("identity = \"none\""));
        assert!(refused(&|a| a.identity = Identity::AccessToken).contains("providers"));
        assert!(refused(&|a| {
            a.identity = Identity::AccessToken;
            a.providers = vec!["github".into()];
        })
        .contains("only to GitHub"));
        assert!(refused(&|a| a.github_orgs = vec!["acme".into()]).contains("github"));
        assert!(refused(&|a| {
            a.providers = vec!["github".into()];
            a.github_teams = vec!["acme".into()];
        })
        .contains("org/team-slug"));
        assert!(refused(&|a| a.max_body_bytes = usize::MAX).contains("max_body_bytes"));
    }
}
