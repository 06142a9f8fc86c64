//! The provider's signing keys (its JWKS), cached. An ID token that names a key we do
//! not have triggers one refetch, at most once per [`REFETCH_EVERY_SECS`], so a flood of
//! tokens with made-up key ids cannot make us hammer the provider.

use crate::providers::http::SendTraced as _;
use std::sync::Mutex;

use jsonwebtoken::jwk::Jwk;
use reqwest::Client;
use serde::Deserialize;
use url::Url;

use crate::clock::Clock;
use crate::providers::error::ProviderError;
use crate::providers::http::read_json;

/// The least time between two fetches of the key set, in seconds.
pub const REFETCH_EVERY_SECS: i64 = 30;

#[derive(Deserialize)]
struct RawSet {
    keys: Vec<serde_json::Value>,
}

struct State {
    keys: Vec<Jwk>,
    /// When the last fetch started (Unix seconds).
    fetched: Option<i64>,
}

pub struct Jwks {
    uri: Url,
    clock: Clock,
    state: Mutex<State>,
    /// Serialises fetches, so concurrent misses make one request.
    fetching: tokio::sync::Mutex<()>,
}

impl Jwks {
    pub fn new(uri: Url, clock: Clock) -> Self {
        Self {
            uri,
            clock,
            state: Mutex::new(State {
                keys: Vec::new(),
                fetched: None,
            }),
            fetching: tokio::sync::Mutex::new(()),
        }
    }

    fn lookup(&self, kid: Option<&str>) -> Option<Jwk> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match kid {
            Some(kid) => state
                .keys
                .iter()
                .find(|k| k.common.key_id.as_deref() == Some(kid))
                .cloned(),
            // No `kid`: acceptable only when the set has exactly one key.
            None if state.keys.len() == 1 => state.keys.first().cloned(),
            None => None,
        }
    }

    fn may_fetch(&self) -> bool {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state
            .fetched
            .is_none_or(|at| self.clock.now() - at >= REFETCH_EVERY_SECS)
    }

    /// The key `kid` names, fetching the set if it is unknown (rate limited).
    pub async fn key(
        &self,
        http: &Client,
        kid: Option<&str>,
    ) -> Result<Option<Jwk>, ProviderError> {
        if let Some(key) = self.lookup(kid) {
            return Ok(Some(key));
        }
        let _one_at_a_time = self.fetching.lock().await;
        // Someone may have fetched while we waited.
        if let Some(key) = self.lookup(kid) {
            return Ok(Some(key));
        }
        if !self.may_fetch() {
            return Ok(None);
        }
        self.fetch(http).await?;
        Ok(self.lookup(kid))
    }

    /// Fetches the set now. Keys of kinds we cannot use are skipped, not fatal.
    pub async fn fetch(&self, http: &Client) -> Result<(), ProviderError> {
        let started = self.clock.now();
        let response = crate::metrics::provider_call(
            "jwks",
            async {
                let response = http
                    .get(self.uri.clone())
                    .send_traced("jwks")
                    .await
                    .map_err(|e| crate::providers::http::transport(e, "fetch the signing keys"))?;
                read_json::<RawSet>(response, "the signing keys").await
            },
            ProviderError::outcome_of,
        )
        .await;
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.fetched = Some(started);
        let set = response?;
        state.keys = set
            .keys
            .into_iter()
            .filter_map(|k| serde_json::from_value::<Jwk>(k).ok())
            .collect();
        Ok(())
    }
}
