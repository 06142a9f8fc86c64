//! Reading request bodies: a size cap per route (declared where the route is registered,
//! as a [`BodyLimit`]), refused up front when the declared length is over it and as soon
//! as a streamed body grows past it; JSON error messages that never echo input.

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt as _;
use serde::de::DeserializeOwned;
use serde_json::error::Category;

use super::csrf::is_json;
use super::error::ApiError;

/// The browser API's body limit (64 KiB); larger gets 413 `payload_too_large`.
pub const MAX_BODY: usize = 64 * 1024;

/// A route's body limit, when it is not [`MAX_BODY`]: registered as the route's app data
/// next to the route itself.
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// The limit of the route `req` reached.
fn limit_of(req: &HttpRequest) -> usize {
    req.app_data::<BodyLimit>().map_or(MAX_BODY, |l| l.0)
}

/// Reads the body as JSON. A body that does not say it is JSON is refused here too, not
/// only by the CSRF guard: a handler must never parse what a cross-site form can send.
pub async fn read_json<T: DeserializeOwned>(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<T, ApiError> {
    let body = read_body(req, payload).await?;
    serde_json::from_slice(&body).map_err(describe)
}

/// Like [`read_json`], but an empty body means `T::default()` (a `POST` with no body).
pub async fn read_json_or_default<T: DeserializeOwned + Default>(
    req: &HttpRequest,
    payload: web::Payload,
) -> Result<T, ApiError> {
    let body = read_body(req, payload).await?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&body).map_err(describe)
}

/// The body, up to the route's limit, if it says it is JSON.
async fn read_body(req: &HttpRequest, payload: web::Payload) -> Result<web::BytesMut, ApiError> {
    if !is_json(req.headers()) {
        return Err(ApiError::CsrfFailed("content type is not application/json"));
    }
    read_capped(req, payload).await
}

/// The whole body, refused with 413 when its declared length is over the route's limit,
/// or as soon as it grows past it (never buffered beyond it).
pub async fn read_capped(
    req: &HttpRequest,
    mut payload: web::Payload,
) -> Result<web::BytesMut, ApiError> {
    let limit = limit_of(req);
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(ApiError::PayloadTooLarge);
    }
    let mut body = web::BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk
            .map_err(|_| ApiError::InvalidRequest("The request body could not be read.".into()))?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// serde's messages can quote the input (which may be a code or a verifier), so only
/// field names and positions are kept.
fn describe(e: serde_json::Error) -> ApiError {
    let what = match e.classify() {
        Category::Data => {
            let text = e.to_string();
            // Missing fields, and the rules of validating types (which never quote the
            // value), are said as they are; other messages may quote the input.
            if text.starts_with("missing field") || text.starts_with("code_verifier ") {
                text.split(" at line")
                    .next()
                    .unwrap_or("missing field")
                    .to_owned()
            } else {
                "a field has the wrong type or value".to_owned()
            }
        }
        Category::Eof if e.line() == 1 && e.column() == 0 => "the body is empty".to_owned(),
        Category::Syntax | Category::Eof | Category::Io => "the body is not valid JSON".to_owned(),
    };
    ApiError::InvalidRequest(format!(
        "The request body is malformed: {what} (line {}, column {}).",
        e.line(),
        e.column()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Body {
        code: String,
    }

    fn message(input: &str) -> String {
        let e = serde_json::from_str::<Body>(input).unwrap_err();
        match describe(e) {
            ApiError::InvalidRequest(m) => m,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn messages_never_quote_the_input() {
        let m = message(r#"{"code": 12345678901234}"#);
        assert!(!m.contains("12345678901234"), "{m}");
        let m = message(r#"{"code": ["gho_secret"]}"#);
        assert!(!m.contains("gho_secret"), "{m}");
        assert!(message("{}").contains("missing field `code`"));
        assert!(message("").contains("empty"));
        assert!(message("{").contains("not valid JSON"));
    }
}
