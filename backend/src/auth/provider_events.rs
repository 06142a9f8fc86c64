//! What providers tell us by themselves, server to server: GitHub's webhook (a person
//! revoked the app) and OpenID Connect Back-Channel Logout. Each event is acted on first
//! and its id remembered after: a failure half-way leaves the id free for the sender's
//! retry, and acting twice is harmless (ending a session is idempotent).

use shared::api::{SignOutReason, GITHUB};

use super::sign_out::{Ending, Revoke};
use super::Auth;
use crate::providers::{LogoutRequest, ProviderError};
use crate::store::StoreError;

/// How long a webhook delivery id is remembered (GitHub redelivers for a few days at most).
pub const DELIVERY_REMEMBER_SECS: i64 = 30 * 24 * 3600;
const GITHUB_DELIVERY: &str = "github-delivery";

/// What came of an event.
#[derive(Debug, PartialEq, Eq)]
pub enum Handled {
    /// Acted on; this many sessions ended.
    Acted { ended: usize },
    /// Its id was acted on before: nothing was done.
    SeenBefore,
}

#[derive(thiserror::Error, Debug)]
pub enum EventError {
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The provider could not be asked what the event claims.
    #[error(transparent)]
    Provider(#[from] ProviderError),
}

impl Auth {
    /// GitHub's delivery `delivery` says the person with id `github_id` revoked the app.
    /// The delivery is only a hint (GitHub signs the body, not the delivery id, so a
    /// recorded delivery can be replayed under a new id): GitHub is asked about each of
    /// the person's sessions, and only those whose token it reports dead end.
    pub async fn revoked_at_github(
        &self,
        delivery: &str,
        github_id: i64,
    ) -> Result<Handled, EventError> {
        let now = self.sessions.now();
        if self.seen.has_seen(GITHUB_DELIVERY, delivery, now).await? {
            return Ok(Handled::SeenBefore);
        }
        let subject = github_id.to_string();
        let mut ended = 0;
        if let Some(github) = &self.github {
            let ending = Ending::by_server(SignOutReason::RevokedAtProvider, Revoke::Nothing);
            for session in self.sessions.list_for_person(GITHUB, &subject).await? {
                let live = match self.sessions.open_tokens(&session) {
                    Some(tokens) => github.token_is_live(&tokens.access, &subject).await?,
                    None => false,
                };
                if !live {
                    ended += usize::from(self.sign_out.end(&session, &ending).await?);
                }
            }
        }
        self.seen
            .remember(GITHUB_DELIVERY, delivery, now + DELIVERY_REMEMBER_SECS)
            .await?;
        Ok(Handled::Acted { ended })
    }

    /// A verified back-channel logout token of `provider`: ends the sessions made in its
    /// provider session (`sid`, of its `sub` when it names one too) or, with only a
    /// `sub`, every session of that person at the provider, and revokes their tokens.
    /// Its `jti` is remembered until the token could no longer verify.
    pub async fn logged_out_at_provider(
        &self,
        provider: &str,
        request: LogoutRequest,
    ) -> Result<Handled, EventError> {
        let kind = format!("logout-jti:{provider}");
        if self
            .seen
            .has_seen(&kind, &request.jti, self.sessions.now())
            .await?
        {
            return Ok(Handled::SeenBefore);
        }
        let ending = Ending::by_server(SignOutReason::ProviderLogout, Revoke::Tokens);
        let ended = match (&request.sid, &request.subject) {
            (Some(sid), subject) => {
                self.sign_out
                    .end_provider_session(provider, sid, subject.as_deref(), &ending)
                    .await?
            }
            (None, Some(subject)) => self.sign_out.end_person(provider, subject, &ending).await?,
            (None, None) => 0,
        };
        self.seen
            .remember(&kind, &request.jti, request.valid_until)
            .await?;
        Ok(Handled::Acted { ended })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use shared::api::User;

    use super::*;
    use crate::providers::{AccessToken, TokenSet};
    use crate::store::memory::MemoryStore;

    fn request() -> LogoutRequest {
        LogoutRequest {
            subject: None,
            sid: Some("op-session".into()),
            jti: "jti-1".into(),
            valid_until: i64::MAX,
        }
    }

    #[tokio::test]
    async fn a_logout_token_is_remembered_only_once_it_was_acted_on() {
        let store = Arc::new(MemoryStore::default());
        let auth = crate::auth::testing::auth(store.clone());
        let alice = User {
            id: 1,
            provider: "okta".into(),
            provider_user_id: "alice".into(),
            login: "alice".into(),
            name: None,
            email: None,
            avatar_url: None,
            profile_url: None,
        };
        let tokens = TokenSet::access_only(AccessToken::new("at".into()));
        let session = auth
            .sessions
            .sign_in(None, alice, &tokens, None, Some("op-session".into()))
            .await
            .unwrap()
            .session;
        // The store fails half-way: the provider's retry must still act.
        store.fail_next_deletes(1);
        assert!(auth
            .logged_out_at_provider("okta", request())
            .await
            .is_err());
        assert_eq!(
            auth.logged_out_at_provider("okta", request())
                .await
                .unwrap(),
            Handled::Acted { ended: 1 }
        );
        assert!(auth
            .sessions
            .load_fresh(&session.key)
            .await
            .unwrap()
            .is_none());
        assert_eq!(
            auth.logged_out_at_provider("okta", request())
                .await
                .unwrap(),
            Handled::SeenBefore
        );
    }
}
