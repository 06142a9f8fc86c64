//! Settings: defaults in code, overridden by environment variables and flags (clap).
//!
//! Every flag's value name equals its environment variable, so clap's one-line error
//! ("invalid value 'x' for '--port <PORT>'") names the variable to fix.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use secrecy::SecretString;
use url::Url;

/// Configuration of the BFF. All optional: with nothing set it runs in dev mode against
/// the embedded GitHub emulator.
#[derive(Parser, Clone, Debug)]
#[command(
    name = "backend",
    about = "GitHub sign-in backend-for-frontend for a Leptos SPA"
)]
pub struct Settings {
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
    /// Directory with the built SPA (Trunk's `dist/`); unset means API only.
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
    /// Database for users and sessions; default `sqlite://$DATA_DIR/bff.sqlite3`.
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
    /// Requests per minute per client IP on each of login and callback.
    #[arg(long, env = "AUTH_RATE_LIMIT_PER_MIN", value_name = "AUTH_RATE_LIMIT_PER_MIN", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub auth_rate_limit_per_min: u32,
    /// Proxies whose X-Forwarded-For is believed, comma separated. Empty: the socket address is the client.
    #[arg(
        long,
        env = "TRUSTED_PROXIES",
        value_name = "TRUSTED_PROXIES",
        value_delimiter = ','
    )]
    pub trusted_proxies: Vec<IpAddr>,
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
    /// Total time allowed for one request to GitHub, in milliseconds.
    #[arg(long, env = "PROVIDER_TIMEOUT_MS", value_name = "PROVIDER_TIMEOUT_MS", default_value_t = 10_000, value_parser = clap::value_parser!(u64).range(100..=120_000))]
    pub provider_timeout_ms: u64,
    /// HTTP worker threads; default one per core.
    #[arg(long, env = "WORKERS", value_name = "WORKERS", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub workers: Option<u16>,
}

impl Settings {
    /// Parses flags and environment; on a bad value prints one line naming the variable
    /// and exits with status 2.
    pub fn from_env_and_args() -> Self {
        match Self::try_parse() {
            Ok(settings) => match settings.check() {
                Ok(()) => settings,
                Err(message) => {
                    eprintln!("error: {message}");
                    std::process::exit(2);
                }
            },
            Err(e) if !e.use_stderr() => e.exit(),
            Err(e) => {
                let rendered = e.render().to_string();
                eprintln!(
                    "{}",
                    rendered
                        .lines()
                        .next()
                        .unwrap_or("error: bad configuration")
                );
                std::process::exit(2);
            }
        }
    }

    /// Defaults with no flags (still reads the environment), for tests and tools.
    pub fn defaults() -> Self {
        Self::try_parse_from(["backend"]).expect("default settings parse")
    }

    /// Rules that span several variables.
    pub fn check(&self) -> Result<(), String> {
        match (&self.github_client_id, &self.github_client_secret) {
            (Some(_), None) => {
                Err("GITHUB_CLIENT_SECRET must be set when GITHUB_CLIENT_ID is".into())
            }
            (None, Some(_)) => {
                Err("GITHUB_CLIENT_ID must be set when GITHUB_CLIENT_SECRET is".into())
            }
            (Some(id), Some(_)) if id.trim().is_empty() => Err("GITHUB_CLIENT_ID is empty".into()),
            _ if self.github_scopes.chars().any(|c| c.is_control()) => {
                Err("GITHUB_SCOPES contains control characters".into())
            }
            _ => Ok(()),
        }
    }

    /// Dev mode: no GitHub credentials, so the embedded emulator is the provider.
    pub fn dev_mode(&self) -> bool {
        self.github_client_id.is_none()
    }

    pub fn public_url(&self) -> Url {
        self.public_url.clone().unwrap_or_else(|| {
            Url::parse(&format!("http://localhost:{}", self.port)).expect("valid default URL")
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

    pub fn database_url(&self) -> String {
        self.database_url
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", self.data_dir.join("bff.sqlite3").display()))
    }

    pub fn provider_timeout(&self) -> Duration {
        Duration::from_millis(self.provider_timeout_ms)
    }
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
    if value.starts_with("sqlite:") {
        Ok(value.to_owned())
    } else {
        Err("DATABASE_URL must be a sqlite: URL (PostgreSQL is planned, not yet supported)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Settings, String> {
        let mut all = vec!["backend"];
        all.extend_from_slice(args);
        Settings::try_parse_from(all).map_err(|e| e.render().to_string())
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
    fn a_client_id_without_secret_is_refused() {
        let s = parse(&["--github-client-id", "abc"]).unwrap();
        assert!(s.check().unwrap_err().contains("GITHUB_CLIENT_SECRET"));
    }

    #[test]
    fn rate_limit_must_be_positive() {
        assert!(parse(&["--auth-rate-limit-per-min", "0"]).is_err());
    }

    #[test]
    fn only_sqlite_database_urls_are_accepted() {
        let err = parse(&["--database-url", "postgres://x"]).unwrap_err();
        assert!(err.contains("DATABASE_URL"));
    }
}
