//! One async function per BFF endpoint. Writes carry `X-CSRF: 1` and JSON; the session
//! cookie travels by itself (same origin, HttpOnly: this code never sees it).

use gloo_net::http::{Request, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use shared::api::{
    CallbackRequest, CallbackResponse, ErrorBody, LoginRequest, LoginResponse, ProvidersResponse,
    Repo, User, CSRF_HEADER,
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
    match response.json::<ErrorBody>().await {
        Ok(body) => Err(ApiError::Api {
            code: body.error,
            status,
        }),
        Err(_) => Err(ApiError::Unreadable { status }),
    }
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

pub async fn providers() -> Result<ProvidersResponse, ApiError> {
    get("/api/auth/providers").await
}

/// The signed-in user, or `None` when signed out.
pub async fn me() -> Result<Option<User>, ApiError> {
    match get::<User>("/api/me").await {
        Ok(user) => Ok(Some(user)),
        Err(ApiError::Api {
            code: ErrorCode::Unauthenticated,
            ..
        }) => Ok(None),
        Err(e) => Err(e),
    }
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

pub async fn logout() -> Result<(), ApiError> {
    let response = post("/api/auth/logout", &serde_json::json!({}))?
        .send()
        .await
        .map_err(|_| ApiError::Network)?;
    if response.ok() {
        Ok(())
    } else {
        Err(ApiError::Unreadable {
            status: response.status(),
        })
    }
}
