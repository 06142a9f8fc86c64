//! The one outbound HTTP client and the careful reading of what providers answer.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context};
use reqwest::{header, Client, Response, StatusCode};
use serde::de::DeserializeOwned;

use super::error::ProviderError;
use crate::per_thread::PerThread;

/// Largest provider answer read; reading stops at this size and the answer counts as
/// garbage, so a hostile or broken provider cannot make us buffer without end.
pub const MAX_BODY: usize = 1024 * 1024;

/// A provider's client: timeouts on connect and on the whole request, and no redirects
/// (following a provider's redirect is a server-side request forgery door).
fn client(timeout: Duration, default_headers: &header::HeaderMap) -> reqwest::Result<Client> {
    Client::builder()
        .user_agent(concat!("github-bff/", env!("CARGO_PKG_VERSION")))
        .default_headers(default_headers.clone())
        .connect_timeout(timeout.min(Duration::from_secs(5)))
        .timeout(timeout)
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(60))
        .build()
}

/// A provider's client, one copy per HTTP worker (`per_thread`): its connections stay
/// on the worker that uses them.
#[derive(Clone)]
pub struct Clients(Arc<PerThread<Client>>);

impl Clients {
    pub fn new(timeout: Duration, default_headers: header::HeaderMap) -> anyhow::Result<Self> {
        let clients = PerThread::build(move || client(timeout, &default_headers))
            .context("Failed to build the HTTP client")?;
        Ok(Self(Arc::new(clients)))
    }

    /// The client for a request made here.
    pub fn get(&self) -> Client {
        self.0.get()
    }
}

/// Sending a request to a provider inside a span of its own (`provider`, with the
/// endpoint's name), carrying the trace context when traces are on.
pub trait SendTraced {
    fn send_traced(
        self,
        endpoint: &str,
    ) -> impl std::future::Future<Output = reqwest::Result<Response>>;
}

impl SendTraced for reqwest::RequestBuilder {
    fn send_traced(
        self,
        endpoint: &str,
    ) -> impl std::future::Future<Output = reqwest::Result<Response>> {
        use tracing::Instrument as _;
        // "the token request" names the `token` endpoint.
        let endpoint = endpoint
            .trim_start_matches("the ")
            .trim_end_matches(" request");
        let span = tracing::info_span!("provider", endpoint, otel.kind = "client");
        let request = {
            let _inside = span.enter();
            self.headers(crate::telemetry::traces::headers())
        };
        request.send().instrument(span)
    }
}

/// Maps a transport failure to `Unavailable` (remembering whether it was a timeout).
pub fn transport(e: reqwest::Error, what: &str) -> ProviderError {
    ProviderError::Unavailable {
        timed_out: e.is_timeout(),
        // Without the URL: a query string could carry something we should not log.
        source: anyhow!(e.without_url()).context(format!("Failed to {what}")),
    }
}

/// Reads the body, stopping as soon as it passes [`MAX_BODY`].
pub async fn read_body(mut response: Response, what: &str) -> Result<Vec<u8>, ProviderError> {
    let too_large = || ProviderError::BadAnswer(anyhow!("the answer to {what} is over 1 MiB"));
    if response
        .content_length()
        .is_some_and(|n| n > MAX_BODY as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| transport(e, &format!("read the answer to {what}")))?
    {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Parses JSON without ever quoting it: serde's message may include part of the body,
/// which may hold a token, so only the position is kept.
pub fn parse_json<T: DeserializeOwned>(body: &[u8], what: &str) -> Result<T, ProviderError> {
    serde_json::from_slice(body).map_err(|e| {
        ProviderError::BadAnswer(anyhow!(
            "invalid JSON in the answer to {what} at line {} column {}",
            e.line(),
            e.column()
        ))
    })
}

/// Reads a JSON answer: 5xx is `Unavailable`, other non-2xx a refusal, unreadable
/// bodies `BadAnswer`.
pub async fn read_json<T: DeserializeOwned>(
    response: Response,
    what: &str,
) -> Result<T, ProviderError> {
    let status = response.status();
    if status.is_server_error() {
        return Err(ProviderError::unavailable(anyhow!(
            "the provider answered {status} to {what}"
        )));
    }
    if !status.is_success() {
        return Err(ProviderError::Refused(format!("{what} ({status})")));
    }
    let body = read_body(response, what).await?;
    parse_json(&body, what)
}

/// GitHub's (and most providers') way of saying "rate limit exhausted".
pub fn is_rate_limited(response: &Response) -> bool {
    response.status() == StatusCode::TOO_MANY_REQUESTS
        || (response.status() == StatusCode::FORBIDDEN
            && response
                .headers()
                .get("x-ratelimit-remaining")
                .is_some_and(|v| v == "0"))
}
