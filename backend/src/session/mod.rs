//! Server-side sessions: the `__Host-session` cookie, what a session holds (pending
//! sign-ins before, the user and their sealed token after), and idle/absolute expiry.

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

/// A loaded session.
#[derive(Debug)]
pub struct Session {
    pub key: SessionKey,
    pub data: SessionData,
    pub created_at: i64,
}

/// Session lifecycle over a [`SessionStore`]: load with expiry checks, create, save, end.
#[derive(Clone)]
pub struct Sessions {
    store: Arc<dyn SessionStore>,
    clock: Clock,
    idle_secs: i64,
    absolute_secs: i64,
}

impl Sessions {
    pub fn new(
        store: Arc<dyn SessionStore>,
        clock: Clock,
        idle_secs: u64,
        absolute_secs: u64,
    ) -> Self {
        Self {
            store,
            clock,
            idle_secs: idle_secs as i64,
            absolute_secs: absolute_secs as i64,
        }
    }

    pub fn now(&self) -> i64 {
        self.clock.now()
    }

    /// The session named by the request's cookie, if it exists and has not expired.
    /// Expired sessions are deleted on sight.
    pub async fn load(&self, req: &HttpRequest) -> Result<Option<Session>, ApiError> {
        let Some(id) = req
            .cookie(COOKIE_NAME)
            .and_then(|c| SessionId::parse(c.value()))
        else {
            return Ok(None);
        };
        let key = id.key();
        let Some(record) = self.store.load(&key).await? else {
            return Ok(None);
        };
        let now = self.now();
        if now - record.last_seen > self.idle_secs || now - record.created_at > self.absolute_secs {
            self.store.delete(&key).await?;
            return Ok(None);
        }
        let data: SessionData = match serde_json::from_str(&record.data) {
            Ok(data) => data,
            Err(e) => {
                // Unreadable (an older format, or corruption): start over rather than fail
                // every request this browser makes.
                tracing::warn!(error = %e, "discarding an unreadable session");
                self.store.delete(&key).await?;
                return Ok(None);
            }
        };
        if now - record.last_seen >= TOUCH_EVERY_SECS {
            self.store.touch(&key, now).await?;
        }
        Ok(Some(Session {
            key,
            data,
            created_at: record.created_at,
        }))
    }

    /// Stores a brand-new session and returns the cookie that names it.
    pub async fn create(&self, data: &SessionData) -> Result<(Session, Cookie<'static>), ApiError> {
        let id = SessionId::generate();
        let now = self.now();
        let session = Session {
            key: id.key(),
            data: data.clone(),
            created_at: now,
        };
        self.save(&session).await?;
        Ok((session, self.cookie(&id)))
    }

    pub async fn save(&self, session: &Session) -> Result<(), ApiError> {
        let record = Record {
            data: serde_json::to_string(&session.data).map_err(anyhow::Error::from)?,
            created_at: session.created_at,
            last_seen: self.now(),
        };
        self.store.save(&session.key, &record).await?;
        Ok(())
    }

    pub async fn delete(&self, key: &SessionKey) -> Result<(), ApiError> {
        self.store.delete(key).await?;
        Ok(())
    }

    /// Removes sessions past either timeout; run periodically.
    pub async fn delete_expired(&self) -> anyhow::Result<u64> {
        let now = self.now();
        self.store
            .delete_expired(now - self.idle_secs, now - self.absolute_secs)
            .await
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
        Sessions::new(Arc::new(MemoryStore::default()), clock.clone(), 3600, 7200)
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
            .create(&SessionData::default())
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
        let (_, cookie) = s.create(&SessionData::default()).await.unwrap();
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

        let (_, idle) = s.create(&SessionData::default()).await.unwrap();
        clock.advance(Duration::from_secs(3601));
        assert!(round_trip(&s, &idle).await.is_none(), "idle timeout passed");
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
