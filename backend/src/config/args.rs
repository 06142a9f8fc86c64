//! Environment variables and flags (clap), turned into [`Settings`].
//!
//! Every flag's value name equals its environment variable, so clap's one-line error
//! ("invalid value 'x' for '--port <PORT>'") names the variable to fix.

use std::path::PathBuf;
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{ArgMatches, CommandFactory as _, FromArgMatches as _, Parser, Subcommand};
use secrecy::SecretString;
use url::Url;

use super::{
    file, providers, AllowedUser, ClientCredentials, GitHubAllowList, GitHubSettings,
    LimitSettings, ServerSettings, SessionSettings, Settings, StoreSettings,
};

/// Configuration of the BFF. All optional: with nothing set it runs in dev mode against
/// the embedded GitHub emulator.
#[derive(Parser, Clone, Debug)]
#[command(
    name = "backend",
    about = "GitHub sign-in backend-for-frontend for a Leptos SPA"
)]
pub struct Args {
    #[command(subcommand)]
    pub command: Option<Command>,
    /// Interface to listen on.
    #[arg(long, env = "HOST", value_name = "HOST", default_value = "127.0.0.1")]
    pub host: String,
    /// TCP port (0 picks a free one).
    #[arg(long, env = "PORT", value_name = "PORT", default_value_t = 3000)]
    pub port: u16,
    /// Origin the browser uses, e.g. https://app.example.com; default http://localhost:$PORT.
    /// The OAuth redirect URI is `$PUBLIC_URL/callback`.
    #[arg(long, env = "PUBLIC_URL", value_name = "PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<Url>,
    /// Directory for the SQLite database and the dev-mode token key.
    #[arg(
        long,
        env = "DATA_DIR",
        value_name = "DATA_DIR",
        default_value = "./data"
    )]
    pub data_dir: PathBuf,
    /// Directory with the built SPA (`dist/`, from `cargo xtask spa`); unset means API only.
    #[arg(long, env = "STATIC_DIR", value_name = "STATIC_DIR")]
    pub static_dir: Option<PathBuf>,
    /// GitHub OAuth app client id. Unset means dev mode (embedded emulator).
    #[arg(long, env = "GITHUB_CLIENT_ID", value_name = "GITHUB_CLIENT_ID")]
    pub github_client_id: Option<String>,
    /// GitHub OAuth app client secret.
    #[arg(
        long,
        env = "GITHUB_CLIENT_SECRET",
        value_name = "GITHUB_CLIENT_SECRET",
        hide_env_values = true
    )]
    pub github_client_secret: Option<SecretString>,
    /// Scopes asked for, space separated.
    #[arg(
        long,
        env = "GITHUB_SCOPES",
        value_name = "GITHUB_SCOPES",
        default_value = "read:user user:email"
    )]
    pub github_scopes: String,
    /// Base URL of GitHub's OAuth endpoints (authorize, access_token).
    #[arg(
        long,
        env = "GITHUB_OAUTH_URL",
        value_name = "GITHUB_OAUTH_URL",
        default_value = "https://github.com"
    )]
    pub github_oauth_url: Url,
    /// Base URL of GitHub's REST API.
    #[arg(
        long,
        env = "GITHUB_API_URL",
        value_name = "GITHUB_API_URL",
        default_value = "https://api.github.com"
    )]
    pub github_api_url: Url,
    /// Secret that signs GitHub's webhook deliveries to POST /api/webhooks/github; unset
    /// turns the endpoint off.
    #[arg(
        long,
        env = "GITHUB_WEBHOOK_SECRET",
        value_name = "GITHUB_WEBHOOK_SECRET",
        hide_env_values = true
    )]
    pub github_webhook_secret: Option<SecretString>,
    /// Who may sign in with GitHub, comma separated: `id:<number>` (GitHub's numeric id,
    /// recommended) or a login (tied to the first account that signs in with it).
    #[arg(
        long,
        env = "GITHUB_ALLOWED_USERS",
        value_name = "GITHUB_ALLOWED_USERS",
        value_delimiter = ','
    )]
    pub github_allowed_users: Vec<String>,
    /// Members of these organisations may sign in (adds the read:org scope).
    #[arg(
        long,
        env = "GITHUB_ALLOWED_ORGS",
        value_name = "GITHUB_ALLOWED_ORGS",
        value_delimiter = ','
    )]
    pub github_allowed_orgs: Vec<String>,
    /// Members of these teams (org/team-slug) may sign in (adds the read:org scope).
    #[arg(
        long,
        env = "GITHUB_ALLOWED_TEAMS",
        value_name = "GITHUB_ALLOWED_TEAMS",
        value_delimiter = ','
    )]
    pub github_allowed_teams: Vec<String>,
    /// Seconds between checks that a signed-in person still qualifies (allow-lists;
    /// the grant at an OpenID Connect provider).
    #[arg(long, env = "MEMBERSHIP_RECHECK_SECS", value_name = "MEMBERSHIP_RECHECK_SECS", default_value_t = 3600, value_parser = clap::value_parser!(u64).range(60..))]
    pub membership_recheck_secs: u64,
    /// The configuration file (TOML): `[[oidc]]` tables (OpenID Connect providers;
    /// OIDC_<ID>_* variables add more) and `[[api]]` tables (upstream APIs).
    #[arg(long, env = "CONFIG_FILE", value_name = "CONFIG_FILE")]
    pub config_file: Option<PathBuf>,
    /// The configuration file's old name, still read.
    #[arg(
        long,
        env = "PROVIDERS_FILE",
        value_name = "PROVIDERS_FILE",
        hide = true
    )]
    pub providers_file: Option<PathBuf>,
    /// Paths GET /api/github/{path} may forward, comma separated; `*` is one segment.
    #[arg(long, env = "GITHUB_PROXY_ALLOW", value_name = "GITHUB_PROXY_ALLOW", value_delimiter = ',', default_values_t = super::DEFAULT_PROXY_ALLOW.iter().map(|s| s.to_string()))]
    pub github_proxy_allow: Vec<String>,
    /// Sessions, pending sign-ins and rate limits in Redis, for several instances
    /// (`redis://host:6379/0`). Unset: sessions live in the SQLite file.
    #[arg(long, env = "SESSION_STORE", value_name = "SESSION_STORE", hide_env_values = true, value_parser = parse_redis_url)]
    pub session_store: Option<SecretString>,
    /// Same as SESSION_STORE (the conventional name).
    #[arg(long, env = "REDIS_URL", value_name = "REDIS_URL", hide_env_values = true, value_parser = parse_redis_url)]
    pub redis_url: Option<SecretString>,
    /// Prefix of every Redis key, so deployments can share one server.
    #[arg(
        long,
        env = "REDIS_KEY_PREFIX",
        value_name = "REDIS_KEY_PREFIX",
        default_value = "bff:"
    )]
    pub redis_key_prefix: String,
    /// Database for users (and audit events): sqlite: or postgres:; default
    /// `sqlite://$DATA_DIR/bff.sqlite3`.
    #[arg(long, env = "DATABASE_URL", value_name = "DATABASE_URL", hide_env_values = true, value_parser = parse_database_url)]
    pub database_url: Option<String>,
    /// Token encryption keys: comma-separated base64 of 32 bytes each; the first encrypts,
    /// all decrypt. Default: a key file generated in DATA_DIR.
    #[arg(
        long,
        env = "TOKEN_KEYS",
        value_name = "TOKEN_KEYS",
        hide_env_values = true
    )]
    pub token_keys: Option<SecretString>,
    /// Identity keys for upstream APIs: comma-separated base64 Ed25519 private keys
    /// (PKCS#8 DER); the first signs, all are published at /.well-known/jwks.json.
    /// Default: a key file generated in DATA_DIR.
    #[arg(
        long,
        env = "IDENTITY_KEYS",
        value_name = "IDENTITY_KEYS",
        hide_env_values = true
    )]
    pub identity_keys: Option<SecretString>,
    /// Requests per minute per client address on each of login and callback (an office
    /// behind one address signs in through it).
    #[arg(long, env = "AUTH_RATE_LIMIT_PER_MIN", value_name = "AUTH_RATE_LIMIT_PER_MIN", default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..))]
    pub auth_rate_limit_per_min: u32,
    /// Pre-auth sessions (cookieless sign-in starts) one client address may hold at once.
    /// Each lives ten minutes.
    #[arg(long, env = "PREAUTH_SESSIONS_PER_CLIENT", value_name = "PREAUTH_SESSIONS_PER_CLIENT", default_value_t = 600, value_parser = clap::value_parser!(u32).range(1..))]
    pub preauth_sessions_per_client: u32,
    /// Pre-auth sessions all clients together may hold at once (a flood from many
    /// addresses is bounded too).
    #[arg(long, env = "PREAUTH_SESSIONS_TOTAL", value_name = "PREAUTH_SESSIONS_TOTAL", default_value_t = 20_000, value_parser = clap::value_parser!(u32).range(1..))]
    pub preauth_sessions_total: u32,
    /// Calls one session may make to GitHub through the BFF per minute (/api/me/repos and
    /// /api/github/*); more answer 429.
    #[arg(long, env = "GITHUB_CALLS_PER_SESSION_PER_MIN", value_name = "GITHUB_CALLS_PER_SESSION_PER_MIN", default_value_t = 120, value_parser = clap::value_parser!(u32).range(1..))]
    pub github_calls_per_session_per_min: u32,
    /// Calls one session may have waiting on GitHub at once; more answer 429.
    #[arg(long, env = "GITHUB_CALLS_PER_SESSION_AT_ONCE", value_name = "GITHUB_CALLS_PER_SESSION_AT_ONCE", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub github_calls_per_session_at_once: u32,
    /// Unsafe requests (POST, PUT, PATCH, DELETE) one session may send to upstream APIs
    /// per minute; more answer 429 with `Retry-After`.
    #[arg(long, env = "API_WRITES_PER_SESSION_PER_MIN", value_name = "API_WRITES_PER_SESSION_PER_MIN", default_value_t = 120, value_parser = clap::value_parser!(u32).range(1..))]
    pub api_writes_per_session_per_min: u32,
    /// Such requests one session may have in flight at once (per instance).
    #[arg(long, env = "API_WRITES_PER_SESSION_AT_ONCE", value_name = "API_WRITES_PER_SESSION_AT_ONCE", default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..))]
    pub api_writes_per_session_at_once: u32,
    /// Proxies whose X-Forwarded-For is believed: addresses or networks (10.0.0.0/8), comma separated. Empty: the socket address is the client.
    #[arg(
        long,
        env = "TRUSTED_PROXIES",
        value_name = "TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<super::ProxyNet>,
    /// Sign out after this many seconds without a request.
    #[arg(long, env = "SESSION_IDLE_SECS", value_name = "SESSION_IDLE_SECS", default_value_t = 8 * 3600, value_parser = clap::value_parser!(u64).range(60..))]
    pub session_idle_secs: u64,
    /// Sign out this many seconds after sign-in, active or not.
    #[arg(long, env = "SESSION_ABSOLUTE_SECS", value_name = "SESSION_ABSOLUTE_SECS", default_value_t = 7 * 24 * 3600, value_parser = clap::value_parser!(u64).range(60..))]
    pub session_absolute_secs: u64,
    /// Sessions kept parsed in memory in front of the store; 0 turns the cache off (required
    /// if several instances ever share one session store).
    #[arg(
        long,
        env = "SESSION_CACHE_ENTRIES",
        value_name = "SESSION_CACHE_ENTRIES",
        default_value_t = 10_000
    )]
    pub session_cache_entries: usize,
    /// Refresh a provider token this many seconds before it expires.
    #[arg(long, env = "TOKEN_REFRESH_SKEW_SECS", value_name = "TOKEN_REFRESH_SKEW_SECS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=3600))]
    pub token_refresh_skew_secs: u64,
    /// Total time allowed for one request to GitHub, in milliseconds.
    #[arg(long, env = "PROVIDER_TIMEOUT_MS", value_name = "PROVIDER_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub provider_timeout_ms: u64,
    /// Allow dev mode (the embedded development provider, which signs anyone in as a
    /// fixture account) on a non-loopback HOST or PUBLIC_URL. Set it to 1 on purpose only.
    #[arg(long, env = "DEV_MODE", value_name = "DEV_MODE", default_value_t = false, action = clap::ArgAction::Set, value_parser = clap::builder::BoolishValueParser::new())]
    pub dev_mode: bool,
    /// Serve Prometheus metrics on this address (`127.0.0.1:9100`, or a bare port for
    /// loopback); unset: no metrics.
    #[arg(long, env = "METRICS_ADDR", value_name = "METRICS_ADDR", value_parser = parse_metrics_addr)]
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Days audit events are kept.
    #[arg(long, env = "AUDIT_RETENTION_DAYS", value_name = "AUDIT_RETENTION_DAYS", default_value_t = 90, value_parser = clap::value_parser!(u64).range(1..=3650))]
    pub audit_retention_days: u64,
    /// Log format: `text` (for people) or `json` (one object per line, for log shippers).
    #[arg(long, env = "LOG_FORMAT", value_name = "LOG_FORMAT", default_value = "text", value_parser = ["text", "json"])]
    pub log_format: String,
    /// HTTP worker threads; default one per core.
    #[arg(long, env = "WORKERS", value_name = "WORKERS", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: Option<u16>,
}

/// What the program is asked to do besides serving.
#[derive(Subcommand, Clone, Debug)]
pub enum Command {
    /// Reads the configuration exactly as start-up does and explains it: every setting
    /// with its value and where it came from, the problems start-up would refuse, and
    /// warnings. Starts nothing. Exit status: 0 fine, 1 warnings (with --strict), 2 refused.
    Check {
        /// Also reach each provider (discovery, signing keys), each store and each
        /// upstream API, one line each.
        #[arg(long)]
        probe: bool,
        /// Exit with status 1 when there are warnings.
        #[arg(long)]
        strict: bool,
    },
    /// Prints the OpenAPI 3.1 document of the JSON API (as `GET /api/openapi.json`).
    Openapi,
}

/// One setting as `backend check` shows it.
pub struct Shown {
    /// The variable (or, for settings without one, the flag).
    pub name: String,
    /// `[set]` for secrets; a URL's password is never shown.
    pub value: String,
    /// `variable`, `flag`, `default` or `unset`.
    pub source: &'static str,
}

impl Args {
    /// Parses flags and environment into checked [`Settings`]; on a bad value prints one
    /// line naming the variable (one per bad provider entry) and exits with status 2.
    pub fn settings_from_env() -> Settings {
        match Self::parse_or_exit().0.settings() {
            Ok(settings) => settings,
            Err(message) => refuse(&message),
        }
    }

    /// The flags and environment, and where each value came from; on a parse error prints
    /// one line and exits with status 2 (`--help` prints help and exits 0).
    pub fn parse_or_exit() -> (Self, ArgMatches) {
        let parsed = Self::command()
            .try_get_matches()
            .and_then(|matches| Ok((Self::from_arg_matches(&matches)?, matches)));
        match parsed {
            Ok(parsed) => parsed,
            Err(e) if !e.use_stderr() => e.exit(),
            Err(e) => refuse(
                e.render()
                    .to_string()
                    .lines()
                    .next()
                    .unwrap_or("error: bad configuration")
                    .trim_start_matches("error: "),
            ),
        }
    }

    /// The checked settings, or every problem start-up would refuse (one per line): from
    /// the variables, the configuration file and the `OIDC_*` variables alike.
    pub fn settings(self) -> Result<Settings, String> {
        let settings = match (self.into_settings(), providers::from_env(std::env::vars())) {
            (Ok(mut settings), Ok(oidc)) => {
                settings.oidc.extend(oidc);
                Ok(settings)
            }
            (Ok(_), Err(env)) => Err(env.join("\n")),
            (Err(first), Ok(_)) => Err(first),
            (Err(first), Err(env)) => Err(format!("{first}\n{}", env.join("\n"))),
        };
        settings.and_then(|s| s.check().map(|()| s))
    }

    /// Every setting, its value and where it came from, for `backend check`.
    pub fn explain(matches: &ArgMatches) -> Vec<Shown> {
        let command = Self::command();
        command
            .get_arguments()
            .filter(|arg| !matches!(arg.get_id().as_str(), "help" | "version"))
            .filter(|arg| {
                !arg.is_hide_set() || matches.value_source(arg.get_id().as_str()).is_some()
            })
            .map(|arg| {
                let id = arg.get_id().as_str();
                let name = arg.get_env().map_or_else(
                    || format!("--{}", arg.get_long().unwrap_or(id)),
                    |env| env.to_string_lossy().into_owned(),
                );
                let source = match matches.value_source(id) {
                    Some(ValueSource::EnvVariable) => "variable",
                    Some(ValueSource::CommandLine) => "flag",
                    Some(ValueSource::DefaultValue) => "default",
                    _ => "unset",
                };
                let raw: Vec<String> = matches
                    .get_raw(id)
                    .map(|values| values.map(|v| v.to_string_lossy().into_owned()).collect())
                    .unwrap_or_default();
                let value = if raw.is_empty() {
                    String::new()
                } else if name == "DATABASE_URL" {
                    super::without_password(&raw.join(","))
                } else if arg.is_hide_env_values_set() {
                    "[set]".to_owned()
                } else {
                    raw.join(",")
                };
                Shown {
                    name,
                    value,
                    source,
                }
            })
            .collect()
    }

    /// The tree, with the rules that need two variables at once.
    pub fn into_settings(self) -> Result<Settings, String> {
        let client = match (self.github_client_id, self.github_client_secret) {
            (Some(id), Some(secret)) => Some(ClientCredentials { id, secret }),
            (None, None) => None,
            (Some(_), None) => {
                return Err("GITHUB_CLIENT_SECRET must be set when GITHUB_CLIENT_ID is".into())
            }
            (None, Some(_)) => {
                return Err("GITHUB_CLIENT_ID must be set when GITHUB_CLIENT_SECRET is".into())
            }
        };
        let file = match (&self.config_file, &self.providers_file) {
            (Some(a), Some(b)) if a != b => {
                return Err(
                    "CONFIG_FILE and PROVIDERS_FILE (its old name) name different files: set one"
                        .into(),
                )
            }
            (Some(path), _) => file::read(path, "CONFIG_FILE").map_err(|e| e.join("\n"))?,
            (None, Some(path)) => file::read(path, "PROVIDERS_FILE").map_err(|e| e.join("\n"))?,
            (None, None) => file::FileConfig::default(),
        };
        let tidy = |list: Vec<String>| -> Vec<String> {
            list.into_iter()
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect()
        };
        Ok(Settings {
            oidc: file.oidc,
            apis: file.apis,
            server: ServerSettings {
                host: self.host,
                port: self.port,
                public_url: self.public_url,
                workers: self.workers,
                static_dir: self.static_dir,
                data_dir: self.data_dir,
                metrics_addr: self.metrics_addr,
            },
            github: GitHubSettings {
                client,
                scopes: self.github_scopes,
                oauth_url: self.github_oauth_url,
                api_url: self.github_api_url,
                webhook_secret: self.github_webhook_secret,
                proxy_allow: self.github_proxy_allow,
                allow: GitHubAllowList {
                    users: tidy(self.github_allowed_users)
                        .iter()
                        .map(|u| AllowedUser::parse(u))
                        .collect::<Result<_, _>>()?,
                    orgs: tidy(self.github_allowed_orgs),
                    teams: tidy(self.github_allowed_teams),
                },
                membership_recheck_secs: self.membership_recheck_secs,
            },
            stores: StoreSettings {
                database_url: self.database_url,
                redis_url: self.session_store.or(self.redis_url),
                redis_prefix: self.redis_key_prefix,
                token_keys: self.token_keys,
                identity_keys: self.identity_keys,
            },
            sessions: SessionSettings {
                idle_secs: self.session_idle_secs,
                absolute_secs: self.session_absolute_secs,
                cache_entries: self.session_cache_entries,
                token_refresh_skew_secs: self.token_refresh_skew_secs,
            },
            limits: LimitSettings {
                auth_per_min: self.auth_rate_limit_per_min,
                preauth_sessions_per_client: self.preauth_sessions_per_client,
                preauth_sessions_total: self.preauth_sessions_total,
                trusted_proxies: super::TrustedProxies::new(self.trusted_proxies),
                github_calls_per_session_per_min: self.github_calls_per_session_per_min,
                github_calls_per_session_at_once: self.github_calls_per_session_at_once,
                api_writes_per_session_per_min: self.api_writes_per_session_per_min,
                api_writes_per_session_at_once: self.api_writes_per_session_at_once,
            },
            provider_timeout: Duration::from_millis(self.provider_timeout_ms),
            allow_dev_mode_on_network: self.dev_mode,
            audit_retention_days: self.audit_retention_days,
            log_json: self.log_format == "json",
        })
    }
}

/// Prints each line of `message` as `error: …` and exits with status 2.
fn refuse(message: &str) -> ! {
    for line in message.lines() {
        eprintln!("error: {line}");
    }
    std::process::exit(2);
}

fn parse_public_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|e| format!("PUBLIC_URL is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("PUBLIC_URL must be an http(s) URL with a host".into());
    }
    if url.query().is_some() || url.fragment().is_some() || url.path() != "/" {
        return Err("PUBLIC_URL must be an origin, without path, query or fragment".into());
    }
    Ok(url)
}

fn parse_database_url(value: &str) -> Result<String, String> {
    if ["sqlite:", "postgres://", "postgresql://"]
        .iter()
        .any(|scheme| value.starts_with(scheme))
    {
        Ok(value.to_owned())
    } else {
        Err("DATABASE_URL must be a sqlite: or postgres:// URL".into())
    }
}

/// `host:port`, or a bare port meaning loopback (metrics are for the operator, not the
/// network, unless asked).
fn parse_metrics_addr(value: &str) -> Result<std::net::SocketAddr, String> {
    if let Ok(port) = value.parse::<u16>() {
        return Ok(std::net::SocketAddr::from(([127, 0, 0, 1], port)));
    }
    value
        .parse()
        .map_err(|_| "must be host:port (an IP address) or a port".to_owned())
}

fn parse_redis_url(value: &str) -> Result<SecretString, String> {
    if value.starts_with("redis://") || value.starts_with("rediss://") {
        Ok(SecretString::from(value.to_owned()))
    } else {
        Err("must be a redis:// or rediss:// URL".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, String> {
        let mut all = vec!["backend"];
        all.extend_from_slice(args);
        Args::try_parse_from(all)
            .map_err(|e| e.render().to_string())?
            .into_settings()
    }

    #[test]
    fn a_bad_port_names_the_variable() {
        let err = parse(&["--port", "seventy"]).unwrap_err();
        assert!(err.lines().next().unwrap().contains("<PORT>"), "{err}");
    }

    #[test]
    fn public_url_must_be_an_origin() {
        assert!(parse(&["--public-url", "https://app.example.com/path"]).is_err());
        assert!(parse(&["--public-url", "ftp://x"]).is_err());
        let s = parse(&["--public-url", "https://app.example.com"]).unwrap();
        assert_eq!(s.public_origin(), "https://app.example.com");
        assert_eq!(s.redirect_uri(), "https://app.example.com/callback");
    }

    #[test]
    fn defaults_follow_the_port() {
        let s = parse(&["--port", "4000"]).unwrap();
        assert_eq!(s.redirect_uri(), "http://localhost:4000/callback");
        assert!(s.dev_mode());
    }

    #[test]
    fn flags_and_code_defaults_agree() {
        let parsed = parse(&[]).unwrap();
        let coded = Settings::defaults();
        assert_eq!(format!("{parsed:?}"), format!("{coded:?}"));
    }

    #[test]
    fn a_client_id_without_secret_is_refused() {
        let err = parse(&["--github-client-id", "abc"]).unwrap_err();
        assert!(err.contains("GITHUB_CLIENT_SECRET"));
    }

    #[test]
    fn rate_limit_must_be_positive() {
        assert!(parse(&["--auth-rate-limit-per-min", "0"]).is_err());
    }

    #[test]
    fn database_and_redis_urls_are_checked() {
        assert!(parse(&["--database-url", "postgres://bff@db/bff"]).is_ok());
        let err = parse(&["--database-url", "mysql://x"]).unwrap_err();
        assert!(err.contains("DATABASE_URL"), "{err}");
        let s = parse(&["--redis-url", "redis://127.0.0.1:6379"]).unwrap();
        assert!(s.stores.redis_url.is_some());
        let err = parse(&["--session-store", "memcached://x"]).unwrap_err();
        assert!(err.contains("SESSION_STORE"), "{err}");
    }

    #[test]
    fn a_bare_metrics_port_means_loopback() {
        let s = parse(&["--metrics-addr", "9100"]).unwrap();
        assert_eq!(s.server.metrics_addr.unwrap().to_string(), "127.0.0.1:9100");
        let s = parse(&["--metrics-addr", "0.0.0.0:9100"]).unwrap();
        assert_eq!(s.server.metrics_addr.unwrap().to_string(), "0.0.0.0:9100");
        assert!(parse(&["--metrics-addr", "metrics.local:9100"]).is_err());
    }

    #[test]
    fn dev_mode_on_purpose_is_a_flag() {
        let s = parse(&["--dev-mode", "1", "--host", "0.0.0.0"]).unwrap();
        assert_eq!(s.check(), Ok(()));
        let s = parse(&["--host", "0.0.0.0"]).unwrap();
        assert!(s.check().is_err());
    }
}
