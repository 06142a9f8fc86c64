//! The emulator's memory: registered app, issued codes, access and refresh tokens,
//! injected faults, and its own clock (tests move it forward instead of sleeping).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::faults::{Endpoint, Fault};
use crate::AppRegistration;

/// GitHub's authorization codes live ten minutes.
pub const CODE_TTL: Duration = Duration::from_secs(600);
/// GitHub App user tokens: eight hours.
pub const ACCESS_TTL: Duration = Duration::from_secs(28_800);
/// GitHub App refresh tokens: about six months.
pub const REFRESH_TTL: Duration = Duration::from_secs(15_811_200);

/// An authorization code waiting for its exchange.
pub struct IssuedCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub login: &'static str,
    pub scope: String,
    /// On the emulator's clock.
    pub issued_at: Duration,
}

/// An access token handed out by the token endpoint.
pub struct IssuedToken {
    pub login: &'static str,
    pub revoked: bool,
    /// On the emulator's clock; `None` for tokens that never expire (OAuth Apps).
    pub expires_at: Option<Duration>,
}

/// A refresh token (GitHub App style): single use; using it also kills `access`.
pub struct IssuedRefresh {
    pub login: &'static str,
    pub access: String,
    pub expires_at: Duration,
    pub used: bool,
}

/// A fresh access token, and its refresh token when the app's tokens expire.
pub struct Grant {
    pub access: String,
    pub refresh: Option<String>,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, IssuedCode>,
    tokens: HashMap<String, IssuedToken>,
    refreshes: HashMap<String, IssuedRefresh>,
    faults: HashMap<Endpoint, Fault>,
    /// How far tests moved the clock.
    offset: Duration,
    refresh_grants: usize,
    /// REST API requests received, and how many carried a `Cookie` header.
    api_requests: usize,
    api_requests_with_cookies: usize,
    /// (login, organisation) pairs tests removed from the fixtures' memberships.
    left_orgs: Vec<(String, String)>,
    /// Fixture login → the login GitHub shows for them now (a person renamed).
    renamed: HashMap<&'static str, String>,
}

pub struct EmulatorState {
    pub app: AppRegistration,
    pub base_url: String,
    started: Instant,
    inner: Mutex<Inner>,
}

impl EmulatorState {
    pub fn new(app: AppRegistration, base_url: String) -> Self {
        Self {
            app,
            base_url,
            started: Instant::now(),
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-written in a way that
        // matters to an emulator, so recover instead of poisoning every later request.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The emulator's clock: time since start, plus what tests added.
    pub fn now(&self) -> Duration {
        self.started.elapsed() + self.lock().offset
    }

    fn now_locked(&self, inner: &Inner) -> Duration {
        self.started.elapsed() + inner.offset
    }

    pub fn issue_code(&self, code: IssuedCode) -> String {
        let value = random_hex(10);
        let mut inner = self.lock();
        let now = self.now_locked(&inner);
        // Codes nobody exchanged would otherwise pile up forever.
        inner.codes.retain(|_, c| now - c.issued_at < CODE_TTL);
        inner.codes.insert(value.clone(), code);
        value
    }

    /// Removes the code (single use, even when the exchange then fails) and returns it if
    /// it has not expired.
    pub fn take_code(&self, code: &str) -> Option<IssuedCode> {
        let mut inner = self.lock();
        let now = self.now_locked(&inner);
        let issued = inner.codes.remove(code)?;
        (now.saturating_sub(issued.issued_at) < CODE_TTL).then_some(issued)
    }

    /// Issues tokens for `login`: a never-expiring `gho_` token for a classic OAuth App,
    /// an eight-hour `ghu_` token with a `ghr_` refresh token when the app's tokens expire.
    pub fn issue_grant(&self, login: &'static str) -> Grant {
        let mut inner = self.lock();
        self.issue_locked(&mut inner, login)
    }

    fn issue_locked(&self, inner: &mut Inner, login: &'static str) -> Grant {
        let now = self.now_locked(inner);
        let expiring = self.app.expiring_tokens;
        let access = format!(
            "{}_{}",
            if expiring { "ghu" } else { "gho" },
            random_alnum(36)
        );
        inner.tokens.insert(
            access.clone(),
            IssuedToken {
                login,
                revoked: false,
                expires_at: expiring.then_some(now + ACCESS_TTL),
            },
        );
        let refresh = expiring.then(|| {
            let refresh = format!("ghr_{}", random_alnum(76));
            inner.refreshes.insert(
                refresh.clone(),
                IssuedRefresh {
                    login,
                    access: access.clone(),
                    expires_at: now + REFRESH_TTL,
                    used: false,
                },
            );
            refresh
        });
        Grant { access, refresh }
    }

    /// Uses a refresh token: the token and its access token die at once, and a new pair
    /// is issued. `None` for an unknown, used, expired or revoked refresh token (GitHub
    /// gives one answer for all of them).
    pub fn use_refresh(&self, refresh: &str) -> Option<Grant> {
        let mut inner = self.lock();
        let now = self.now_locked(&inner);
        let (login, access) = {
            let entry = inner.refreshes.get_mut(refresh)?;
            if entry.used || entry.expires_at <= now {
                return None;
            }
            entry.used = true;
            (entry.login, entry.access.clone())
        };
        if let Some(old) = inner.tokens.get_mut(&access) {
            old.revoked = true;
        }
        inner.refresh_grants += 1;
        Some(self.issue_locked(&mut inner, login))
    }

    /// The user a live (issued, unrevoked, unexpired) token belongs to.
    pub fn token_owner(&self, token: &str) -> Option<&'static str> {
        let inner = self.lock();
        let now = self.now_locked(&inner);
        inner
            .tokens
            .get(token)
            .filter(|t| !t.revoked && t.expires_at.is_none_or(|e| e > now))
            .map(|t| t.login)
    }

    /// Marks a token revoked; false if it was unknown or already revoked.
    pub fn revoke(&self, token: &str) -> bool {
        match self.lock().tokens.get_mut(token) {
            Some(t) if !t.revoked => {
                t.revoked = true;
                true
            }
            _ => false,
        }
    }

    /// Revokes every token and refresh token of `login` (the whole grant).
    pub fn revoke_grant_of(&self, login: &str) {
        let mut inner = self.lock();
        for token in inner.tokens.values_mut().filter(|t| t.login == login) {
            token.revoked = true;
        }
        for refresh in inner.refreshes.values_mut().filter(|r| r.login == login) {
            refresh.used = true;
        }
    }

    /// True when `login` is an active member of `org` (fixtures, minus what tests removed).
    /// The login GitHub shows for the fixture `login` now (see [`Control::rename`]).
    pub fn shown_login(&self, login: &'static str) -> String {
        self.lock()
            .renamed
            .get(login)
            .cloned()
            .unwrap_or_else(|| login.to_owned())
    }

    pub fn is_member(&self, login: &str, org: &str) -> bool {
        let inner = self.lock();
        crate::fixtures::find(login).is_some_and(|u| u.orgs.contains(&org))
            && !inner.left_orgs.iter().any(|(l, o)| l == login && o == org)
    }

    /// Counts a REST API request (tests check what reached the provider).
    pub fn count_api_request(&self, had_cookie: bool) {
        let mut inner = self.lock();
        inner.api_requests += 1;
        inner.api_requests_with_cookies += usize::from(had_cookie);
    }

    pub fn fault(&self, endpoint: Endpoint) -> Option<Fault> {
        self.lock().faults.get(&endpoint).cloned()
    }
}

/// What tests hold to steer the emulator. Cheap to clone.
#[derive(Clone)]
pub struct Control {
    state: Arc<EmulatorState>,
}

impl Control {
    pub(crate) fn new(state: Arc<EmulatorState>) -> Self {
        Self { state }
    }

    /// The registered OAuth app (client id, secret, callback).
    pub fn app(&self) -> &AppRegistration {
        &self.state.app
    }

    /// Makes `endpoint` misbehave until [`Control::clear_faults`].
    pub fn set_fault(&self, endpoint: Endpoint, fault: Fault) {
        self.state.lock().faults.insert(endpoint, fault);
    }

    pub fn clear_faults(&self) {
        self.state.lock().faults.clear();
    }

    /// Every access token issued so far, revoked or not (tests look for them in logs).
    pub fn issued_tokens(&self) -> Vec<String> {
        self.state.lock().tokens.keys().cloned().collect()
    }

    /// Every refresh token issued so far.
    pub fn issued_refresh_tokens(&self) -> Vec<String> {
        self.state.lock().refreshes.keys().cloned().collect()
    }

    /// True if `token` was issued and has been revoked.
    pub fn is_revoked(&self, token: &str) -> bool {
        self.state
            .lock()
            .tokens
            .get(token)
            .is_some_and(|t| t.revoked)
    }

    /// True if `login` has no live token left (their grant was revoked or every token
    /// expired).
    pub fn has_no_live_token(&self, login: &str) -> bool {
        let tokens: Vec<String> = self
            .state
            .lock()
            .tokens
            .iter()
            .filter(|(_, t)| t.login == login)
            .map(|(k, _)| k.clone())
            .collect();
        tokens.iter().all(|t| self.state.token_owner(t).is_none())
    }

    /// Revokes every token of `login`, like that person removing the app's grant on
    /// github.com (GitHub then sends the `github_app_authorization` webhook).
    pub fn revoke_grant_of(&self, login: &str) {
        self.state.revoke_grant_of(login);
    }

    /// Revokes every token, like a user removing the app's grant on github.com.
    pub fn revoke_all_tokens(&self) {
        let mut inner = self.state.lock();
        for token in inner.tokens.values_mut() {
            token.revoked = true;
        }
        for refresh in inner.refreshes.values_mut() {
            refresh.used = true;
        }
    }

    /// The fixture `login` is called `new_login` from now on, as after a rename on
    /// github.com (the numeric id stays; the old login is free for anyone to take).
    pub fn rename(&self, login: &str, new_login: &str) {
        if let Some(user) = crate::fixtures::find(login) {
            self.state
                .lock()
                .renamed
                .insert(user.login, new_login.to_owned());
        }
    }

    /// Moves the emulator's clock forward: codes and tokens age without sleeping.
    pub fn advance_clock(&self, by: Duration) {
        self.state.lock().offset += by;
    }

    /// REST API requests received so far, and how many of them carried a cookie.
    pub fn api_requests(&self) -> (usize, usize) {
        let inner = self.state.lock();
        (inner.api_requests, inner.api_requests_with_cookies)
    }

    /// Removes `login` from `org` (and its teams), like an organisation owner would.
    pub fn remove_from_org(&self, login: &str, org: &str) {
        self.state
            .lock()
            .left_orgs
            .push((login.to_owned(), org.to_owned()));
    }

    /// Refresh grants served successfully so far.
    pub fn refresh_grants(&self) -> usize {
        self.state.lock().refresh_grants
    }
}

/// `n` random bytes as lowercase hex (GitHub codes are 20 hex characters).
pub fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_alnum(n: usize) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).expect("the OS random number generator failed");
    // 62 does not divide 256, so the modulo is slightly biased; fine for a fake token.
    bytes
        .iter()
        .map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char)
        .collect()
}
