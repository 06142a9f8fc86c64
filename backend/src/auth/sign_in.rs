//! Signing in: the rules of `POST /api/auth/login` (start) and `POST /api/auth/callback`
//! (finish), without the HTTP around them.
//!
//! Start: the browser made the PKCE verifier; it must be well formed and match the S256
//! challenge, and is kept sealed in the browser's (pre-auth) session under a fresh
//! `state`. Finish: the state is taken out of that same session (single use, ten
//! minutes), the provider it was started with (never one the request names) exchanges
//! the code, the allow-list is asked, and a new session id replaces the pre-auth one.

use std::sync::Arc;

use shared::api::{AuditKind, CallbackRequest, LoginRequest, User};
use shared::pkce::{self, CodeVerifier};
use shared::return_to::ReturnTo;

use super::sign_out::{revoke_bounded, Revoke};
use super::Auth;
use crate::audit::Event;
use crate::providers::{
    AllowCheck, AuthorizationCode, AuthorizationResponse, AuthorizeRequest, Nonce, Provider,
    ProviderError,
};
use crate::session::{Issued, NewLogin, PendingError, Session, SessionKey};
use crate::store::StoreError;

/// Longest `state` or `code` looked at; GitHub's codes are 20 characters.
const MAX_PARAM_LEN: usize = 512;

#[derive(thiserror::Error, Debug)]
pub enum SignInError {
    /// The request breaks a rule; the message says which, in words for the developer.
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("unknown provider")]
    UnknownProvider,
    /// No sign-in with this state was started in this browser session (or it was used).
    #[error("unknown or already used state")]
    InvalidState,
    #[error("sign-in attempt expired")]
    StateExpired,
    /// The person pressed "Cancel" at the provider.
    #[error("the user denied access")]
    AccessDenied,
    /// The provider answered the authorization request with another error.
    #[error("the provider reported an authorization error")]
    AuthorizationError,
    #[error(transparent)]
    Provider(#[from] ProviderError),
    /// An allow-list refused this person; their fresh token was revoked.
    #[error("an allow-list refused this person")]
    NotAllowed,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<PendingError> for SignInError {
    fn from(e: PendingError) -> Self {
        match e {
            PendingError::Unknown => Self::InvalidState,
            PendingError::Expired => Self::StateExpired,
            PendingError::Store(e) => Self::Store(e),
        }
    }
}

/// A checked `POST /api/auth/login`: what [`Auth::start_sign_in`] needs.
pub struct LoginPlan {
    provider: Arc<dyn Provider>,
    verifier: CodeVerifier,
    code_challenge: String,
    return_to: ReturnTo,
}

/// A started sign-in: where the browser goes, and the new pre-auth session's id when
/// the browser had no session.
pub struct Started {
    pub authorize_url: String,
    pub issued: Option<Issued>,
}

/// A finished sign-in.
pub struct Finished {
    pub user: User,
    pub return_to: ReturnTo,
    pub issued: Issued,
}

/// What the sign-in's request carried besides its body.
pub struct Caller {
    /// "Chrome on Linux".
    pub device: String,
    pub client_ip: Option<String>,
}

impl Auth {
    /// Checks a sign-in request: a configured provider, S256, and a verifier (well formed:
    /// its type checked that) that matches the challenge. `return_to` passed its rule when
    /// the body was read.
    pub fn plan_sign_in(&self, request: LoginRequest) -> Result<LoginPlan, SignInError> {
        let provider = self
            .providers
            .get(&request.provider)
            .ok_or(SignInError::UnknownProvider)?
            .clone();
        if request.code_challenge_method != pkce::S256 {
            return Err(SignInError::InvalidRequest(
                "code_challenge_method must be S256.".into(),
            ));
        }
        if !pkce::verify_s256(request.code_verifier.secret(), &request.code_challenge) {
            return Err(SignInError::InvalidRequest(
                "code_challenge is not the S256 challenge of code_verifier.".into(),
            ));
        }
        Ok(LoginPlan {
            provider,
            verifier: request.code_verifier,
            code_challenge: request.code_challenge,
            return_to: request.return_to.unwrap_or_else(|| ReturnTo::new(None)),
        })
    }

    /// Remembers the sign-in in `existing` (the browser's session) or a new pre-auth
    /// session, and says where the browser goes.
    pub async fn start_sign_in(
        &self,
        existing: Option<&Session>,
        plan: LoginPlan,
    ) -> Result<Started, SignInError> {
        let provider = plan.provider;
        let nonce = provider.wants_nonce().then(Nonce::new_random);
        let (state, issued) = self
            .sessions
            .start_login(
                existing,
                NewLogin {
                    provider: provider.id().to_owned(),
                    verifier: plan.verifier,
                    nonce: nonce.as_ref().map(|n| Nonce::new(n.secret().to_owned())),
                    return_to: plan.return_to,
                },
            )
            .await?;
        tracing::info!("sign-in started");
        Ok(Started {
            authorize_url: provider.authorize_url(&AuthorizeRequest {
                state: &state,
                code_challenge: &plan.code_challenge,
                nonce: nonce.as_ref(),
            }),
            issued,
        })
    }

    /// Finishes the sign-in `callback` reports, for the browser session at `key`.
    pub async fn finish_sign_in(
        &self,
        key: Option<SessionKey>,
        callback: CallbackRequest,
        caller: Caller,
    ) -> Result<Finished, SignInError> {
        let state = param(callback.state, "state")?;
        let outcome = match (callback.code, callback.error) {
            (Some(code), None) => Ok(AuthorizationCode::new(param(Some(code), "code")?)),
            (None, Some(error)) => Err(param(Some(error), "error")?),
            _ => {
                return Err(SignInError::InvalidRequest(
                    "Exactly one of code and error is required.".into(),
                ))
            }
        };

        // The state must belong to a sign-in started in this very browser session; it is
        // spent before anything else can fail.
        let taken = self.sessions.take_pending(key, &state).await?;
        // The provider the sign-in was started with, never one the request names (mix-up
        // defence, RFC 9700 §4.4).
        let provider = self
            .providers
            .get(&taken.provider)
            .ok_or(SignInError::InvalidState)?;
        // RFC 9207: the response, an error one too (§2.4), must come from the issuer the
        // sign-in went to.
        self.providers.check_response(
            provider.as_ref(),
            &AuthorizationResponse { iss: callback.iss },
        )?;
        let code = match outcome {
            Ok(code) => code,
            Err(error) if error == "access_denied" => return Err(SignInError::AccessDenied),
            Err(_) => return Err(SignInError::AuthorizationError),
        };
        let signed = provider
            .exchange(code, taken.verifier, taken.nonce.as_ref())
            .await?;
        let who = AllowCheck {
            login: &signed.profile.login,
            provider_user_id: &signed.profile.provider_user_id,
        };
        let admission = provider.allows(&signed.tokens.access, &who).await?;
        if !self.admitted(provider.id(), admission, &who).await? {
            tracing::info!(
                provider = provider.id(),
                "sign-in refused by the allow-list"
            );
            // The token is of no use to anyone now.
            revoke_bounded(provider.as_ref(), &signed.tokens, Revoke::Tokens).await;
            return Err(SignInError::NotAllowed);
        }
        let user = self
            .users
            .upsert(signed.profile, self.sessions.now())
            .await?;
        let created = self
            .sessions
            .sign_in(
                Some(&taken.session),
                user.clone(),
                &signed.tokens,
                Some(caller.device.clone()),
                signed.provider_sid,
            )
            .await?;
        self.sign_out.replaced(&taken.session, &user).await;
        self.sign_out
            .keep_within_limit(&user, created.sessions_of_person)
            .await?;
        tracing::info!(user_id = user.id, "signed in");
        self.audit
            .record(Event {
                user_id: Some(user.id),
                session_id: Some(created.session.public_id.to_string()),
                client_ip: caller.client_ip,
                device: Some(caller.device),
                ..Event::new(AuditKind::SignInSucceeded)
            })
            .await;
        Ok(Finished {
            user,
            return_to: taken.return_to,
            issued: created.issued,
        })
    }
}

/// A value from the redirect: present, not empty, printable ASCII, not absurdly long.
fn param(value: Option<String>, name: &str) -> Result<String, SignInError> {
    match value {
        Some(v)
            if !v.is_empty()
                && v.len() <= MAX_PARAM_LEN
                && v.bytes().all(|b| b.is_ascii_graphic()) =>
        {
            Ok(v)
        }
        Some(_) => Err(SignInError::InvalidRequest(format!("{name} is malformed."))),
        None => Err(SignInError::InvalidRequest(format!("{name} is required."))),
    }
}
