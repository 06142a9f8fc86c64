//! One async function per BFF endpoint. Writes carry `X-CSRF: 1` and JSON; the session
//! cookie travels by itself (same origin, HttpOnly: this code never sees it). Every
//! failed call is reported to the auth state here, so a 401 anywhere signs the page out
//! without each caller remembering to say so.

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use shared::api::{
    AuditEvent, CallbackRequest, CallbackResponse, DeviceSession, ErrorBody, LoginRequest,
    LoginResponse, LogoutRequest, LogoutResponse, ProvidersResponse, Repo, SessionStatus, User,
    CSRF_HEADER, PROVIDERS_ELEMENT_ID,
};
use shared::ErrorCode;

/// Why a call failed, in terms the pages can turn into sentences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The BFF answered with its error shape.
    Api { code: ErrorCode, status: u16 },
    /// The BFF could not be reached (offline, connection dropped).
    Network,
    /// Something answered, but not with anything this app can read (a proxy's error
    /// page, a half-deployed server).
    Unreadable { status: u16 },
}

impl ApiError {
    /// The BFF's error code, when it answered with one.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            Self::Api { code, .. } => Some(*code),
            _ => None,
        }
    }
}

async fn read<T: DeserializeOwned>(
    response: Result<Response, gloo_net::Error>,
) -> Result<T, ApiError> {
    let response = response.map_err(|_| ApiError::Network)?;
    let status = response.status();
    if response.ok() {
        return response
            .json::<T>()
            .await
            .map_err(|_| ApiError::Unreadable { status });
    }
    Err(error_of(response).await)
}

/// The error an unsuccessful answer carries, reported to the auth state.
async fn error_of(response: Response) -> ApiError {
    let status = response.status();
    let error = match response.json::<ErrorBody>().await {
        Ok(body) => ApiError::Api {
            code: body.error,
            status,
        },
        Err(_) => ApiError::Unreadable { status },
    };
    crate::auth::notice(&error);
    error
}

async fn get<T: DeserializeOwned>(path: &str) -> Result<T, ApiError> {
    read(Request::get(path).send().await).await
}

fn post(path: &str, body: &impl Serialize) -> Result<Request, ApiError> {
    Request::post(path)
        .header(CSRF_HEADER, "1")
        .json(body)
        .map_err(|_| ApiError::Unreadable { status: 0 })
}

/// The sign-in options: from the page itself when the BFF wrote them into `index.html`
/// (it does whenever it serves the SPA), so the sign-in page shows its buttons without
/// waiting for a request; otherwise from `GET /api/auth/providers`.
pub async fn providers() -> Result<ProvidersResponse, ApiError> {
    if let Some(inline) = inline_providers() {
        return Ok(inline);
    }
    get("/api/auth/providers").await
}

/// The sign-in options `index.html` carries, if it does.
pub fn inline_providers() -> Option<ProvidersResponse> {
    let text = leptos::prelude::document()
        .get_element_by_id(PROVIDERS_ELEMENT_ID)?
        .text_content()?;
    serde_json::from_str(&text).ok()
}

/// The signed-in user, or `None` when signed out. `/api/auth/session` answers 200
/// either way, so a signed-out visit logs no failed request in the browser console.
pub async fn session() -> Result<Option<User>, ApiError> {
    get::<SessionStatus>("/api/auth/session")
        .await
        .map(|status| status.user)
}

pub async fn sessions() -> Result<Vec<DeviceSession>, ApiError> {
    get("/api/me/sessions").await
}

pub async fn activity() -> Result<Vec<AuditEvent>, ApiError> {
    get("/api/me/activity").await
}

/// Ends one session of the signed-in person.
pub async fn end_session(id: &str) -> Result<(), ApiError> {
    let request = Request::delete(&format!("/api/me/sessions/{id}"))
        .header(CSRF_HEADER, "1")
        .header("Content-Type", "application/json");
    no_content(request.send().await).await
}

pub async fn repos() -> Result<Vec<Repo>, ApiError> {
    get("/api/me/repos").await
}

pub async fn login(request: &LoginRequest) -> Result<LoginResponse, ApiError> {
    read(post("/api/auth/login", request)?.send().await).await
}

pub async fn callback(request: &CallbackRequest) -> Result<CallbackResponse, ApiError> {
    read(post("/api/auth/callback", request)?.send().await).await
}

/// Signs this session out, or with `everywhere` every session of the person. Returns
/// the provider's logout page when the provider ends its own session too (a 200 with
/// `logout_url` rather than a 204).
pub async fn logout(everywhere: bool) -> Result<Option<String>, ApiError> {
    let request = post("/api/auth/logout", &LogoutRequest { everywhere })?;
    let response = request.send().await.map_err(|_| ApiError::Network)?;
    match response.status() {
        200 => response
            .json::<LogoutResponse>()
            .await
            .map(|answer| Some(answer.logout_url))
            .map_err(|_| ApiError::Unreadable { status: 200 }),
        _ if response.ok() => Ok(None),
        _ => Err(error_of(response).await),
    }
}

/// A call answered with no body: success, or the error shape.
async fn no_content(response: Result<Response, gloo_net::Error>) -> Result<(), ApiError> {
    let response = response.map_err(|_| ApiError::Network)?;
    if response.ok() {
        return Ok(());
    }
    Err(error_of(response).await)
}

/// What the example upstream API (`/api/example`) verified about the caller.
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Verified {
    pub login: String,
    pub sid: String,
    pub expires_in: i64,
}

/// The example local API's greeting (`/api/greetings`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
pub struct Greeting {
    pub text: String,
}

/// `path`, or `None` when this deployment has no such API (404): the example APIs are
/// there in development, and may not be in production. Their failures are not reported
/// to the auth state: a 401 may be the upstream's own verdict, not the end of the
/// session (any BFF call notices that).
async fn optional<T: DeserializeOwned>(path: &str) -> Result<Option<T>, ApiError> {
    let response = Request::get(path)
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    let status = response.status();
    match status {
        404 => Ok(None),
        _ if response.ok() => response
            .json::<T>()
            .await
            .map(Some)
            .map_err(|_| ApiError::Unreadable { status }),
        _ => Err(ApiError::Unreadable { status }),
    }
}

pub async fn example_whoami() -> Result<Option<Verified>, ApiError> {
    optional("/api/example/whoami").await
}

pub async fn greeting() -> Result<Option<Greeting>, ApiError> {
    optional("/api/greetings").await
}
