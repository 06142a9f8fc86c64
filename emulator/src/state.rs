//! The emulator's memory: registered app, issued codes and tokens, injected faults.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use crate::faults::{Endpoint, Fault};
use crate::AppRegistration;

/// GitHub's authorization codes live ten minutes.
pub const CODE_TTL: Duration = Duration::from_secs(600);

/// An authorization code waiting for its exchange.
pub struct IssuedCode {
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: Option<String>,
    pub login: &'static str,
    pub scope: String,
    pub issued_at: Instant,
}

/// An access token handed out by the token endpoint.
pub struct IssuedToken {
    pub login: &'static str,
    pub revoked: bool,
}

#[derive(Default)]
struct Inner {
    codes: HashMap<String, IssuedCode>,
    tokens: HashMap<String, IssuedToken>,
    faults: HashMap<Endpoint, Fault>,
    code_age: Duration,
}

pub struct EmulatorState {
    pub app: AppRegistration,
    pub base_url: String,
    inner: Mutex<Inner>,
}

impl EmulatorState {
    pub fn new(app: AppRegistration, base_url: String) -> Self {
        Self {
            app,
            base_url,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave the maps half-written in a way that
        // matters to an emulator, so recover instead of poisoning every later request.
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn issue_code(&self, code: IssuedCode) -> String {
        let value = random_hex(10);
        let mut inner = self.lock();
        // Codes nobody exchanged would otherwise pile up forever.
        inner.codes.retain(|_, c| c.issued_at.elapsed() < CODE_TTL);
        inner.codes.insert(value.clone(), code);
        value
    }

    /// Removes the code (single use, even when the exchange then fails) and returns it if
    /// it has not expired.
    pub fn take_code(&self, code: &str) -> Option<IssuedCode> {
        let mut inner = self.lock();
        let age = inner.code_age;
        let issued = inner.codes.remove(code)?;
        (issued.issued_at.elapsed() + age < CODE_TTL).then_some(issued)
    }

    pub fn issue_token(&self, login: &'static str) -> String {
        let value = format!("gho_{}", random_alnum(36));
        self.lock().tokens.insert(
            value.clone(),
            IssuedToken {
                login,
                revoked: false,
            },
        );
        value
    }

    /// The user a live token belongs to.
    pub fn token_owner(&self, token: &str) -> Option<&'static str> {
        self.lock()
            .tokens
            .get(token)
            .filter(|t| !t.revoked)
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

    /// True if `token` was issued and has been revoked.
    pub fn is_revoked(&self, token: &str) -> bool {
        self.state
            .lock()
            .tokens
            .get(token)
            .is_some_and(|t| t.revoked)
    }

    /// Revokes every token, like a user removing the app's grant on github.com.
    pub fn revoke_all_tokens(&self) {
        for token in self.state.lock().tokens.values_mut() {
            token.revoked = true;
        }
    }

    /// Ages every outstanding and future code by `by`, so expiry can be tested without sleeping.
    pub fn age_codes(&self, by: Duration) {
        self.state.lock().code_age += by;
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
