//! Settings: a plain tree of structs with defaults in code. `args` fills it from
//! environment variables and flags (clap); tests build it directly. Nothing here reads
//! the environment on its own.

pub mod apis;
pub mod args;
pub mod file;
pub mod providers;
pub mod proxies;

pub use apis::{ApiSettings, Identity};
pub use proxies::{ProxyNet, TrustedProxies};

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use secrecy::SecretString;
use url::{Host, Url};

/// The whole configuration of the BFF.
#[derive(Clone, Debug)]
pub struct Settings {
    pub server: ServerSettings,
    pub github: GitHubSettings,
    /// OpenID Connect providers, in the order the sign-in page shows them (after GitHub).
    pub oidc: Vec<OidcSettings>,
    /// Upstream APIs the BFF forwards to (`[[api]]` tables), in file order.
    pub apis: Vec<ApiSettings>,
    pub stores: StoreSettings,
    pub sessions: SessionSettings,
    pub limits: LimitSettings,
    /// Total time allowed for one request to a provider.
    pub provider_timeout: Duration,
    /// `DEV_MODE=1`: run the development provider even on a non-loopback address.
    pub allow_dev_mode_on_network: bool,
    /// Audit events older than this many days are deleted.
    pub audit_retention_days: u64,
    /// `LOG_FORMAT=json`: one JSON object per log line.
    pub log_json: bool,
}

#[derive(Clone, Debug)]
pub struct ServerSettings {
    pub host: String,
    /// 0 picks a free port.
    pub port: u16,
    /// The origin the browser uses; default `http://localhost:$PORT`.
    pub public_url: Option<Url>,
    /// HTTP worker threads; `None` is one per core.
    pub workers: Option<u16>,
    /// The built SPA (`dist/`); `None` serves the API only.
    pub static_dir: Option<PathBuf>,
    /// The SQLite database and the dev-mode key file.
    pub data_dir: PathBuf,
    /// Where `/metrics` is served (its own listener); `None` turns metrics off.
    pub metrics_addr: Option<std::net::SocketAddr>,
}

/// A confidential OAuth client: who we are to a provider.
#[derive(Clone, Debug)]
pub struct ClientCredentials {
    pub id: String,
    pub secret: SecretString,
}

#[derive(Clone, Debug)]
pub struct GitHubSettings {
    /// `None` is dev mode: the embedded emulator is the provider.
    pub client: Option<ClientCredentials>,
    pub scopes: String,
    pub oauth_url: Url,
    pub api_url: Url,
    /// Secret of `POST /api/webhooks/github`; `None` turns the endpoint off (404).
    pub webhook_secret: Option<SecretString>,
    /// `GET /api/github/{path}` allow-list: paths with `*` standing for one segment.
    pub proxy_allow: Vec<String>,
    /// Who may sign in with GitHub; all empty means everyone.
    pub allow: GitHubAllowList,
    /// How often an allow-listed membership is checked again while a session is used.
    pub membership_recheck_secs: u64,
}

/// `GITHUB_ALLOWED_USERS`, `GITHUB_ALLOWED_ORGS`, `GITHUB_ALLOWED_TEAMS`: a person who
/// matches any entry may sign in; with every list empty, anyone may.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GitHubAllowList {
    /// GitHub ids, or logins (see [`AllowedUser`]).
    pub users: Vec<AllowedUser>,
    /// Organisation logins.
    pub orgs: Vec<String>,
    /// `org/team-slug`.
    pub teams: Vec<String>,
}

/// One entry of `GITHUB_ALLOWED_USERS`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowedUser {
    /// `id:583231`: the account with this numeric GitHub id, whatever it is called.
    Id(String),
    /// `octocat` (or `login:octocat`): compared without case, and tied to the account
    /// that first signs in with it, so a login given up in a rename and taken by someone
    /// else does not let them in. Ids are the safer entry.
    Login(String),
}

impl AllowedUser {
    /// Reads one entry; a bare number is refused as ambiguous (a login can be all digits).
    pub fn parse(entry: &str) -> Result<Self, String> {
        let entry = entry.trim();
        let plain = |s: &str| {
            !s.is_empty()
                && s.len() <= 39
                && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        };
        if let Some(id) = entry.strip_prefix("id:") {
            if !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()) {
                return Ok(Self::Id(id.to_owned()));
            }
        } else {
            let login = entry.strip_prefix("login:").unwrap_or(entry);
            let digits = login.bytes().all(|b| b.is_ascii_digit());
            if digits && !entry.starts_with("login:") {
                return Err(format!(
                    "GITHUB_ALLOWED_USERS entry {entry:?} is all digits: write id:{entry} for a GitHub id, or login:{entry} for a login"
                ));
            }
            if plain(login) {
                return Ok(Self::Login(login.to_ascii_lowercase()));
            }
        }
        Err(format!(
            "GITHUB_ALLOWED_USERS entry {entry:?} must be a login, login:<login> or id:<number>"
        ))
    }
}

impl GitHubAllowList {
    pub fn is_open(&self) -> bool {
        self.users.is_empty() && self.orgs.is_empty() && self.teams.is_empty()
    }

    /// Organisation and team checks need the `read:org` scope.
    pub fn needs_read_org(&self) -> bool {
        !self.orgs.is_empty() || !self.teams.is_empty()
    }
}

/// A provider's id: in the API, the users table and URLs (`okta`). GitHub's is `github`;
/// an OpenID Connect provider's is 1-32 of a-z 0-9 -.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderId(String);

impl ProviderId {
    /// An OpenID Connect provider's id, checked; `source` names where it came from.
    pub fn parse(id: &str, source: &str) -> Result<Self, String> {
        let ok = !id.is_empty()
            && id.len() <= 32
            && id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && id != shared::api::GITHUB;
        if ok {
            Ok(Self(id.to_owned()))
        } else {
            Err(format!(
                "{source}: the provider id {id:?} must be 1-32 of a-z 0-9 - (and not \"github\")"
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProviderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// An OpenID Connect issuer identifier (Discovery 1.0 §4.3): https, or plain http on a
/// loopback address only. Everything the provider signs names it, and its discovery
/// document must name it back exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuerUrl(Url);

impl IssuerUrl {
    /// Checks `value`; `source` names where it came from.
    pub fn parse(value: &str, source: &str) -> Result<Self, String> {
        let url = Url::parse(value)
            .map_err(|e| format!("{source}: the issuer {value:?} is not a URL ({e})"))?;
        check_provider_url(&format!("{source} issuer"), &url)?;
        Ok(Self(url))
    }

    pub fn url(&self) -> &Url {
        &self.0
    }

    /// The identifier as the provider spells it, without a trailing slash.
    pub fn as_str(&self) -> &str {
        self.0.as_str().trim_end_matches('/')
    }

    /// True when `issuer` (a discovery document's, an ID token's) names this issuer.
    pub fn is(&self, issuer: &str) -> bool {
        issuer.trim_end_matches('/') == self.as_str()
    }
}

impl std::fmt::Display for IssuerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One OpenID Connect provider.
#[derive(Clone, Debug)]
pub struct OidcSettings {
    /// In the API and the users table (`okta`).
    pub id: ProviderId,
    /// The button: "Sign in with {name}".
    pub name: String,
    /// Must equal the `issuer` of its discovery document.
    pub issuer: IssuerUrl,
    pub client_id: String,
    pub client_secret: SecretString,
    /// Space separated; includes `openid`.
    pub scopes: String,
    /// Audiences besides our client id that this provider's ID tokens may name (a
    /// provider that adds an API of its own); any other extra audience is refused.
    pub extra_audiences: Vec<String>,
}

/// The proxy's default allow-list: the signed-in person, their repositories and
/// organisations, and reading a repository with its issues and pull requests.
pub const DEFAULT_PROXY_ALLOW: &[&str] = &[
    "user",
    "user/repos",
    "user/orgs",
    "repos/*/*",
    "repos/*/*/issues",
    "repos/*/*/pulls",
];

#[derive(Clone)]
pub struct StoreSettings {
    /// Users (and audit events): `sqlite:` or `postgres:`; default
    /// `sqlite://$DATA_DIR/bff.sqlite3`.
    pub database_url: Option<String>,
    /// Sessions, pending sign-ins and rate limits in Redis (several instances); `None`
    /// keeps sessions in the SQLite file.
    pub redis_url: Option<SecretString>,
    /// Put before every Redis key, so deployments can share a server.
    pub redis_prefix: String,
    /// Base64 32-byte keys, comma separated; `None` generates a key file in DATA_DIR.
    pub token_keys: Option<SecretString>,
    /// Base64 Ed25519 PKCS#8 keys that sign identity tokens for upstream APIs, comma
    /// separated; `None` generates a key file in DATA_DIR.
    pub identity_keys: Option<SecretString>,
}

/// `DATABASE_URL` may carry a password: shown without it.
impl std::fmt::Debug for StoreSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreSettings")
            .field(
                "database_url",
                &self.database_url.as_deref().map(without_password),
            )
            .field("redis_url", &self.redis_url)
            .field("redis_prefix", &self.redis_prefix)
            .field("token_keys", &self.token_keys)
            .field("identity_keys", &self.identity_keys)
            .finish()
    }
}

/// `url` with any password replaced, for messages and debug output.
pub fn without_password(url: &str) -> String {
    match Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("redacted"));
            parsed.to_string().replacen(":redacted@", ":[redacted]@", 1)
        }
        Ok(parsed) => parsed.to_string(),
        Err(_) => "[an unparseable URL]".into(),
    }
}

#[derive(Clone, Debug)]
pub struct SessionSettings {
    pub idle_secs: u64,
    pub absolute_secs: u64,
    /// Sessions kept parsed in memory; 0 turns the cache off.
    pub cache_entries: usize,
    /// Refresh a provider token this long before it expires.
    pub token_refresh_skew_secs: u64,
}

#[derive(Clone, Debug)]
pub struct LimitSettings {
    /// Per client IP, on each of login and callback.
    pub auth_per_min: u32,
    /// Pre-auth sessions one client may hold at once.
    pub preauth_sessions_per_client: u32,
    /// Pre-auth sessions all clients together may hold at once.
    pub preauth_sessions_total: u32,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: TrustedProxies,
    /// Calls a session may make to GitHub through the BFF (`/api/me/repos`, the proxy)
    /// per minute, and at once.
    pub github_calls_per_session_per_min: u32,
    pub github_calls_per_session_at_once: u32,
    /// Unsafe requests (POST, PUT, ...) a session may send to upstream APIs per minute,
    /// and at once.
    pub api_writes_per_session_per_min: u32,
    pub api_writes_per_session_at_once: u32,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            server: ServerSettings {
                host: "127.0.0.1".into(),
                port: 3000,
                public_url: None,
                workers: None,
                static_dir: None,
                data_dir: PathBuf::from("./data"),
                metrics_addr: None,
            },
            github: GitHubSettings {
                client: None,
                scopes: "read:user user:email".into(),
                oauth_url: Url::parse("https://github.com").expect("valid URL"),
                api_url: Url::parse("https://api.github.com").expect("valid URL"),
                webhook_secret: None,
                proxy_allow: DEFAULT_PROXY_ALLOW.iter().map(|p| p.to_string()).collect(),
                allow: GitHubAllowList::default(),
                membership_recheck_secs: 3600,
            },
            oidc: Vec::new(),
            apis: Vec::new(),
            stores: StoreSettings {
                database_url: None,
                redis_url: None,
                redis_prefix: "bff:".into(),
                token_keys: None,
                identity_keys: None,
            },
            sessions: SessionSettings {
                idle_secs: 8 * 3600,
                absolute_secs: 7 * 24 * 3600,
                cache_entries: 10_000,
                token_refresh_skew_secs: 300,
            },
            limits: LimitSettings {
                auth_per_min: 300,
                preauth_sessions_per_client: 600,
                preauth_sessions_total: 20_000,
                trusted_proxies: TrustedProxies::default(),
                github_calls_per_session_per_min: 120,
                github_calls_per_session_at_once: 8,
                api_writes_per_session_per_min: 120,
                api_writes_per_session_at_once: 8,
            },
            provider_timeout: Duration::from_secs(10),
            allow_dev_mode_on_network: false,
            audit_retention_days: 90,
            log_json: false,
        }
    }
}

impl Settings {
    /// Defaults only: never reads the environment.
    pub fn defaults() -> Self {
        Self::default()
    }

    /// Dev mode: no provider configured at all (no GitHub credentials and no OpenID
    /// Connect provider), so the embedded emulator stands in for GitHub.
    pub fn dev_mode(&self) -> bool {
        self.github.client.is_none() && self.oidc.is_empty()
    }

    /// GitHub is offered when it has credentials, or in dev mode (the emulator).
    pub fn github_enabled(&self) -> bool {
        self.github.client.is_some() || self.dev_mode()
    }

    /// The GitHub scopes asked for: `GITHUB_SCOPES`, plus `read:org` when the allow-list
    /// names organisations or teams.
    pub fn github_scopes(&self) -> String {
        let scopes = self.github.scopes.clone();
        let needs_read_org = self.github.allow.needs_read_org() || self.apis_need_read_org();
        if needs_read_org && !scopes.split_whitespace().any(|s| s == "read:org") {
            format!("{scopes} read:org")
        } else {
            scopes
        }
    }

    pub fn public_url(&self) -> Url {
        self.server.public_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("http://localhost:{}", self.server.port))
                .expect("valid default URL")
        })
    }

    /// `scheme://host[:port]` of the public URL: what a same-origin `Origin` header says.
    pub fn public_origin(&self) -> String {
        self.public_url().origin().ascii_serialization()
    }

    pub fn redirect_uri(&self) -> String {
        let base = self.public_url();
        format!("{}/callback", base.as_str().trim_end_matches('/'))
    }

    /// The users database: `DATABASE_URL`, or the SQLite file in DATA_DIR.
    pub fn database_url(&self) -> String {
        self.stores
            .database_url
            .clone()
            .unwrap_or_else(|| self.sqlite_url())
    }

    /// The SQLite file in DATA_DIR (sessions live there unless Redis is configured).
    pub fn sqlite_url(&self) -> String {
        match &self.stores.database_url {
            Some(url) if url.starts_with("sqlite:") => url.clone(),
            _ => format!(
                "sqlite://{}",
                self.server.data_dir.join("bff.sqlite3").display()
            ),
        }
    }

    /// Rules that span several settings, and configurations refused as unsafe. Each
    /// message is one line naming the variable to fix.
    pub fn check(&self) -> Result<(), String> {
        if self.github.scopes.chars().any(|c| c.is_control()) {
            return Err("GITHUB_SCOPES contains control characters".into());
        }
        if let Some(client) = &self.github.client {
            if client.id.trim().is_empty() {
                return Err("GITHUB_CLIENT_ID is empty".into());
            }
        }
        if self.dev_mode() && !self.allow_dev_mode_on_network {
            // The development provider signs anyone in as a fixture account: it must never
            // face a network by accident.
            if !is_loopback_host(&self.server.host) {
                return Err(format!(
                    "HOST={} is not a loopback address, but no GITHUB_CLIENT_ID/GITHUB_CLIENT_SECRET are set (dev mode); set them, or DEV_MODE=1 to expose the development provider on purpose",
                    self.server.host
                ));
            }
            if !self.public_url().host().is_some_and(|h| is_loopback(&h)) {
                return Err(format!(
                    "PUBLIC_URL={} is not a loopback origin, but no GITHUB_CLIENT_ID/GITHUB_CLIENT_SECRET are set (dev mode); set them, or DEV_MODE=1 to expose the development provider on purpose",
                    self.public_origin()
                ));
            }
        }
        if self.github.client.is_some() {
            for (name, url) in [
                ("GITHUB_OAUTH_URL", &self.github.oauth_url),
                ("GITHUB_API_URL", &self.github.api_url),
            ] {
                check_provider_url(name, url)?;
            }
        }
        for pattern in &self.github.proxy_allow {
            check_proxy_pattern(pattern)?;
        }
        for team in &self.github.allow.teams {
            if team.split('/').filter(|p| !p.is_empty()).count() != 2 {
                return Err(format!(
                    "GITHUB_ALLOWED_TEAMS entry {team:?} must be org/team-slug"
                ));
            }
        }
        let mut ids: Vec<&str> = self.oidc.iter().map(|p| p.id.as_str()).collect();
        ids.sort_unstable();
        if let Some(pair) = ids.windows(2).find(|pair| pair[0] == pair[1]) {
            return Err(format!(
                "the OpenID Connect provider id {:?} is configured twice",
                pair[0]
            ));
        }
        if self.stores.redis_url.is_some() && self.database_url().starts_with("sqlite:") {
            // Each instance would number people apart in its own file, while sessions
            // (keyed by person) are shared: one person's id would be another's.
            return Err("SESSION_STORE (or REDIS_URL) shares sessions between instances, so DATABASE_URL must name a shared postgres:// database too".into());
        }
        self.check_apis()?;
        if self.sessions.absolute_secs < self.sessions.idle_secs {
            return Err("SESSION_ABSOLUTE_SECS must not be shorter than SESSION_IDLE_SECS".into());
        }
        Ok(())
    }
}

impl Settings {
    /// The upstream APIs' rules that need the rest of the settings: each entry's own
    /// rules, no two prefixes overlapping, providers that exist, and one set of identity
    /// keys for instances that share sessions.
    fn check_apis(&self) -> Result<(), String> {
        let mut problems = Vec::new();
        let sources: Vec<(&str, String)> = self
            .apis
            .iter()
            .map(|api| (api.prefix.as_str(), format!("API /api/{}", api.prefix)))
            .collect();
        for (api, (_, source)) in self.apis.iter().zip(&sources) {
            if let Err(e) = api.check(source) {
                problems.push(e);
            }
            for provider in &api.providers {
                let known = (provider == shared::api::GITHUB && self.github_enabled())
                    || self.oidc.iter().any(|p| p.id.as_str() == provider);
                if !known {
                    problems.push(format!("{source}: provider {provider:?} is not configured"));
                }
            }
        }
        problems.extend(apis::overlapping(&sources));
        let signs = self.apis.iter().any(|a| a.identity == Identity::Jwt);
        if signs && self.stores.redis_url.is_some() && self.stores.identity_keys.is_none() {
            problems.push("IDENTITY_KEYS must be set when sessions are shared (SESSION_STORE): every instance must sign identity tokens with the same keys".into());
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("\n"))
        }
    }

    /// `read:org` is asked for when an upstream API names GitHub organisations or teams.
    pub fn apis_need_read_org(&self) -> bool {
        self.apis.iter().any(ApiSettings::needs_membership)
    }
}

/// Provider URLs carry the client secret and tokens: plain `http://` only on loopback.
pub fn check_provider_url(name: &str, url: &Url) -> Result<(), String> {
    match url.scheme() {
        "https" => Ok(()),
        "http" if url.host().is_some_and(|h| is_loopback(&h)) => Ok(()),
        _ => Err(format!(
            "{name}={url} must be https:// (plain http:// is allowed for loopback addresses only)"
        )),
    }
}

/// A proxy allow-list entry: `/`-separated segments of letters, digits, `-`, `_`, `.`,
/// or `*` (exactly one segment); no empty or dot segments.
fn check_proxy_pattern(pattern: &str) -> Result<(), String> {
    let ok = !pattern.is_empty()
        && pattern.split('/').all(|segment| {
            segment == "*"
                || (!segment.is_empty()
                    && segment != "."
                    && segment != ".."
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "GITHUB_PROXY_ALLOW entry {pattern:?} must be path segments (letters, digits, - _ .) or * for one segment"
        ))
    }
}

fn is_loopback(host: &Host<&str>) -> bool {
    match host {
        Host::Domain(name) => name.eq_ignore_ascii_case("localhost"),
        Host::Ipv4(ip) => ip.is_loopback(),
        Host::Ipv6(ip) => ip.is_loopback(),
    }
}

fn is_loopback_host(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_github() -> Settings {
        let mut s = Settings::defaults();
        s.github.client = Some(ClientCredentials {
            id: "abc".into(),
            secret: SecretString::from("s"),
        });
        s
    }

    #[test]
    fn defaults_are_dev_mode_on_loopback_and_pass() {
        let s = Settings::defaults();
        assert!(s.dev_mode());
        assert_eq!(s.redirect_uri(), "http://localhost:3000/callback");
        assert_eq!(s.check(), Ok(()));
    }

    #[test]
    fn dev_mode_is_refused_on_a_network_address() {
        let mut s = Settings::defaults();
        s.server.host = "0.0.0.0".into();
        assert!(s.check().unwrap_err().starts_with("HOST=0.0.0.0"));
        let mut s = Settings::defaults();
        s.server.public_url = Some(Url::parse("https://app.example.com").unwrap());
        let err = s.check().unwrap_err();
        assert!(err.starts_with("PUBLIC_URL="), "{err}");
        // ...unless asked for on purpose.
        s.allow_dev_mode_on_network = true;
        assert_eq!(s.check(), Ok(()));
        // ...or real credentials are set.
        let mut s = with_github();
        s.server.host = "0.0.0.0".into();
        assert_eq!(s.check(), Ok(()));
    }

    #[test]
    fn plain_http_provider_urls_are_refused_unless_loopback() {
        let mut s = with_github();
        s.github.oauth_url = Url::parse("http://github.example.com").unwrap();
        assert!(s.check().unwrap_err().starts_with("GITHUB_OAUTH_URL="));
        let mut s = with_github();
        s.github.api_url = Url::parse("http://127.0.0.1:9000/api/v3").unwrap();
        assert_eq!(s.check(), Ok(()));
        s.github.api_url = Url::parse("http://[::1]:9000/").unwrap();
        assert_eq!(s.check(), Ok(()));
    }

    #[test]
    fn proxy_patterns_are_plain_segments() {
        for ok in DEFAULT_PROXY_ALLOW {
            assert_eq!(check_proxy_pattern(ok), Ok(()));
        }
        for bad in [
            "",
            "/user",
            "user/",
            "repos/../admin",
            "a//b",
            "repos/*x",
            "user?x=1",
        ] {
            assert!(check_proxy_pattern(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn allowed_users_are_ids_or_logins_and_bare_numbers_are_refused() {
        assert_eq!(
            AllowedUser::parse("id:583231"),
            Ok(AllowedUser::Id("583231".into()))
        );
        assert_eq!(
            AllowedUser::parse("OctoCat"),
            Ok(AllowedUser::Login("octocat".into()))
        );
        assert_eq!(
            AllowedUser::parse("login:1234"),
            Ok(AllowedUser::Login("1234".into()))
        );
        let bare = AllowedUser::parse("583231").unwrap_err();
        assert!(bare.contains("id:583231"), "{bare}");
        for bad in ["id:", "id:12a", "a b", "", "octo/cat"] {
            assert!(AllowedUser::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn shared_sessions_need_a_shared_users_database() {
        let mut s = Settings::defaults();
        s.stores.redis_url = Some(SecretString::from("redis://cache:6379/0"));
        let err = s.check().unwrap_err();
        assert!(
            err.contains("SESSION_STORE") && err.contains("DATABASE_URL"),
            "{err}"
        );
        s.stores.database_url = Some("postgres://db/bff".into());
        assert_eq!(s.check(), Ok(()));
    }

    #[test]
    fn the_database_password_never_reaches_a_debug_line() {
        let mut s = Settings::defaults();
        s.stores.database_url = Some("postgres://bff:hunter2@db.internal/bff".into());
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db.internal"), "{shown}");
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in ["127.0.0.1", "127.9.9.9", "::1", "[::1]", "localhost"] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in ["0.0.0.0", "::", "10.0.0.1", "example.com"] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
