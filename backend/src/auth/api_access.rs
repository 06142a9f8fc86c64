//! Who may call an upstream API: a signed-in person (unless the API is public) of one of
//! the providers it names, and, when it names GitHub organisations or teams, a member of
//! one of them. Membership is asked of GitHub with the person's own token, like the
//! sign-in allow-list, and the answer is kept for `MEMBERSHIP_RECHECK_SECS` per session
//! and API, so a busy session costs GitHub one call an hour, not one per request.

use std::collections::HashMap;
use std::sync::Mutex;

use super::tokens::CallError;
use super::Auth;
use crate::config::ApiSettings;
use crate::session::{Session, SessionKey};

/// Decisions kept at most; past it they are all forgotten (and asked again).
const MAX_DECISIONS: usize = 50_000;

/// Membership answers, per session and API prefix.
#[derive(Default)]
pub struct ApiAccess {
    decisions: Mutex<HashMap<(SessionKey, String), Decision>>,
}

#[derive(Clone, Copy)]
struct Decision {
    allowed: bool,
    at: i64,
}

impl Auth {
    /// True when `session`'s person may call `api`. Asks GitHub when the API names
    /// organisations or teams and no answer younger than the re-check interval is kept.
    pub async fn may_call(&self, session: &Session, api: &ApiSettings) -> Result<bool, CallError> {
        let Some(user) = session.user() else {
            return Ok(false);
        };
        if !api.providers.is_empty() && !api.providers.contains(&user.provider) {
            return Ok(false);
        }
        if !api.needs_membership() {
            return Ok(true);
        }
        let Some(github) = self.github_for(user).cloned() else {
            return Ok(false);
        };
        let now = self.sessions.now();
        let key = (session.key, api.prefix.clone());
        let kept = self.api_access.lock().get(&key).copied();
        if let Some(decision) = kept {
            if now - decision.at < self.membership_recheck_secs as i64 {
                return Ok(decision.allowed);
            }
        }
        let (orgs, teams) = (&api.github_orgs, &api.github_teams);
        let allowed = self
            .tokens
            .with_token(session, |token| {
                let github = github.clone();
                async move { github.member_of(&token, orgs, teams).await }
            })
            .await?;
        let mut decisions = self.api_access.lock();
        if decisions.len() >= MAX_DECISIONS {
            decisions.clear();
        }
        decisions.insert(key, Decision { allowed, at: now });
        Ok(allowed)
    }
}

impl ApiAccess {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(SessionKey, String), Decision>> {
        self.decisions.lock().unwrap_or_else(|e| e.into_inner())
    }
}
