//! Server-side sessions: the `__Host-session` cookie, what a session holds (pending
//! sign-ins before, the user and their sealed token after), and idle/absolute expiry.

mod cache;
mod id;
mod memory;
mod sqlite;
mod store;

use std::sync::Arc;

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::HttpRequest;
use serde::{Deserialize, Serialize};
use shared::api::User;

pub use id::{random_token, SessionId, SessionKey};
pub use memory::MemoryStore;
pub use sqlite::SqliteStore;
pub use store::{Record, SessionStore};

use self::cache::{Cached, SessionCache};
use crate::clock::Clock;
use crate::error::ApiError;

/// The cookie name. `__Host-` makes browsers insist on Secure, Path=/ and no Domain, so a
/// sibling subdomain cannot plant or overwrite it.
pub const COOKIE_NAME: &str = "__Host-session";
/// At most this many sign-ins may be pending in one browser (several tabs).
pub const MAX_PENDING: usize = 5;
/// A pending sign-in lives this long (GitHub's codes live ten minutes too).
pub const PENDING_TTL_SECS: i64 = 600;
/// `last_seen` is written at most this often, so reads are not writes.
const TOUCH_EVERY_SECS: i64 = 60;

/// A sign-in started with `POST /api/auth/login` and not yet finished.
#[derive(Serialize, Deserialize, Clone)]
pub struct PendingLogin {
    pub state: String,
    /// The PKCE verifier, sealed with the key ring.
    pub sealed_verifier: String,
    pub provider: String,
    pub return_to: String,
    pub created_at: i64,
}

/// Everything a session holds. Serialized as JSON into the store.
#[derive(Serialize, Deserialize, Default, Clone)]
pub struct SessionData {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<User>,
    /// The provider access token, sealed with the key ring.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sealed_token: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pending: Vec<PendingLogin>,
}

impl std::fmt::Debug for SessionData {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionData")
            .field("user", &self.user.as_ref().map(|u| u.id))
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

/// A loaded session. The data is shared with the read cache: change it through
/// `Arc::make_mut`, then [`Sessions::save`].
#[derive(Debug)]
pub struct Session {
    pub key: SessionKey,
    pub data: Arc<SessionData>,
    pub created_at: i64,
}

/// Session lifecycle over a [`SessionStore`]: load with expiry checks, create, save, end.
#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn SessionStore>,
    cache: Arc<SessionCache>,
    clock: Clock,
    idle_secs: i64,
    absolute_secs: i64,
}

impl Sessions {
    /// `cache_entries` sessions are kept parsed in memory (0 turns the cache off, as a
    /// store shared by several instances requires).
    pub fn new(
        store: Arc<dyn SessionStore>,
        clock: Clock,
        idle_secs: u64,
        absolute_secs: u64,
        cache_entries: usize,
    ) -> Self {
        Self {
            store,
            cache: Arc::new(SessionCache::new(cache_entries)),
            clock,
            idle_secs: idle_secs as i64,
            absolute_secs: absolute_secs as i64,
        }
    }

    fn expired(&self, now: i64, created_at: i64, last_seen: i64) -> bool {
        now - last_seen > self.idle_secs || now - created_at > self.absolute_secs
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The session named by the request's cookie, if it exists and has not expired.
    /// Expired sessions are deleted on sight.
    pub async fn load(&self, req: &HttpRequest) -> Result<Option<Session>, ApiError> {
        let Some(key) = session_cookie(req).and_then(SessionKey::from_cookie_value) else {
            return Ok(None);
        };
        let cached = match self.cache.get(&key) {
            Some(cached) => cached,
            None => match self.read_store(&key).await? {
                Some(cached) => cached,
                None => return Ok(None),
            },
        };
        let now = self.now();
        if self.expired(now, cached.created_at, cached.last_seen) {
            self.delete(&key).await?;
            return Ok(None);
        }
        if now - cached.last_seen >= TOUCH_EVERY_SECS {
            self.store.touch(&key, now).await?;
            self.cache.touched(&key, now);
        }
        Ok(Some(Session {
            key,
            data: cached.data,
            created_at: cached.created_at,
        }))
    }

    /// A cache miss: read the store and fill the cache (unless a write raced with us).
    async fn read_store(&self, key: &SessionKey) -> Result<Option<Cached>, ApiError> {
        let epoch = self.cache.epoch();
        let Some(record) = self.store.load(key).await? else {
            return Ok(None);
        };
        let data: SessionData = match serde_json::from_str(&record.data) {
            Ok(data) => data,
            Err(e) => {
                // Unreadable (an older format, or corruption): start over rather than fail
                // every request this browser makes.
                tracing::warn!(error = %e, "discarding an unreadable session");
                self.delete(key).await?;
                return Ok(None);
            }
        };
        let cached = Cached {
            data: Arc::new(data),
            created_at: record.created_at,
            last_seen: record.last_seen,
        };
        self.cache.fill(*key, cached.clone(), epoch);
        Ok(Some(cached))
    }

    /// Stores a brand-new session and returns the cookie that names it.
    pub async fn create(&self, data: SessionData) -> Result<(Session, Cookie<'static>), ApiError> {
        let id = SessionId::generate();
        let now = self.now();
        let session = Session {
            key: id.key(),
            data: Arc::new(data),
            created_at: now,
        };
        self.save(&session).await?;
        Ok((session, self.cookie(&id)))
    }

    pub async fn save(&self, session: &Session) -> Result<(), ApiError> {
        let record = Record {
            data: serde_json::to_string(&*session.data).map_err(anyhow::Error::from)?,
            created_at: session.created_at,
            last_seen: self.now(),
        };
        self.store.save(&session.key, &record).await?;
        self.cache.invalidate(&session.key);
        Ok(())
    }

    pub async fn delete(&self, key: &SessionKey) -> Result<(), ApiError> {
        self.store.delete(key).await?;
        self.cache.invalidate(key);
        Ok(())
    }

    /// Removes sessions past either timeout; run periodically.
    pub async fn delete_expired(&self) -> anyhow::Result<u64> {
        let now = self.now();
        let removed = self
            .store
            .delete_expired(now - self.idle_secs, now - self.absolute_secs)
            .await?;
        self.cache
            .retain(|c| !self.expired(now, c.created_at, c.last_seen));
        Ok(removed)
    }

    pub async fn ping(&self) -> anyhow::Result<()> {
        self.store.ping().await
    }

    fn cookie(&self, id: &SessionId) -> Cookie<'static> {
        let mut cookie = base_cookie(id.secret().to_owned());
        // Persistent for the absolute lifetime so closing the browser does not sign out;
        // the server still enforces both timeouts.
        cookie.set_max_age(CookieDuration::seconds(self.absolute_secs));
        cookie
    }
}

/// The value of our cookie in the request. A direct scan of the `Cookie` header: this runs
/// on every request, and parsing every cookie into a list first costs more than the rest
/// of a session read.
fn session_cookie(req: &HttpRequest) -> Option<&str> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(COOKIE_NAME)?.strip_prefix('='))
}

/// A cookie that makes the browser forget the session.
pub fn removal_cookie() -> Cookie<'static> {
    let mut cookie = base_cookie(String::new());
    cookie.make_removal();
    cookie
}

fn base_cookie(value: String) -> Cookie<'static> {
    Cookie::build(COOKIE_NAME, value)
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Lax)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;
    use std::time::Duration;

    fn sessions(clock: &Clock) -> Sessions {
        Sessions::new(
            Arc::new(MemoryStore::default()),
            clock.clone(),
            3600,
            7200,
            100,
        )
    }

    async fn round_trip(s: &Sessions, cookie: &Cookie<'_>) -> Option<Session> {
        let req = TestRequest::default()
            .cookie(Cookie::new(COOKIE_NAME, cookie.value().to_owned()))
            .to_http_request();
        s.load(&req).await.unwrap()
    }

    #[tokio::test]
    async fn the_cookie_has_every_protective_attribute() {
        let clock = Clock::default();
        let (_, cookie) = sessions(&clock)
            .create(SessionData::default())
            .await
            .unwrap();
        assert_eq!(cookie.name(), "__Host-session");
        assert_eq!(cookie.path(), Some("/"));
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.secure(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Lax));
        assert!(cookie.domain().is_none());
    }

    #[tokio::test]
    async fn idle_and_absolute_timeouts_end_a_session() {
        let clock = Clock::default();
        let s = sessions(&clock);
        let (_, cookie) = s.create(SessionData::default()).await.unwrap();
        assert!(round_trip(&s, &cookie).await.is_some());
        clock.advance(Duration::from_secs(3000));
        assert!(
            round_trip(&s, &cookie).await.is_some(),
            "activity resets idle"
        );
        clock.advance(Duration::from_secs(3000));
        assert!(round_trip(&s, &cookie).await.is_some());
        clock.advance(Duration::from_secs(1300));
        assert!(
            round_trip(&s, &cookie).await.is_none(),
            "absolute lifetime passed"
        );

        let (_, idle) = s.create(SessionData::default()).await.unwrap();
        clock.advance(Duration::from_secs(3601));
        assert!(round_trip(&s, &idle).await.is_none(), "idle timeout passed");
    }

    #[test]
    fn the_cookie_is_found_among_others_and_not_by_prefix() {
        let req = TestRequest::default()
            .insert_header(("cookie", "a=1; __Host-sessionx=2; __Host-session=abc; b=3"))
            .to_http_request();
        assert_eq!(session_cookie(&req), Some("abc"));
        let req = TestRequest::default()
            .insert_header(("cookie", "x__Host-session=abc"))
            .to_http_request();
        assert_eq!(session_cookie(&req), None);
    }

    #[tokio::test]
    async fn foreign_cookie_values_are_ignored() {
        let clock = Clock::default();
        let s = sessions(&clock);
        let req = TestRequest::default()
            .cookie(Cookie::new(COOKIE_NAME, "'; DROP TABLE sessions; --"))
            .to_http_request();
        assert!(s.load(&req).await.unwrap().is_none());
    }
}
