//! What only GitHub offers a GitHub session: `GET /api/me/repos`, and `GET
//! /api/github/{path}`, the GitHub REST API with the session's token attached
//! server-side (refreshed first when it is about to expire), for paths on an allow-list
//! (`GITHUB_PROXY_ALLOW`). RFC 10017 §6.1.3.6: the BFF forwards only to the one
//! configured API host and only on allowed paths.
//!
//! What goes up: the path and query as the browser sent them, the token, and
//! `If-None-Match`; never the browser's cookies or other headers. What comes back:
//! GitHub's status and body, and only content type, ETag, Last-Modified, `Link` (its
//! URLs rewritten to point at this proxy) and the rate-limit headers.

use std::future::Future;
use std::sync::Arc;

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{web, HttpRequest, HttpResponse, ResponseError as _};

use crate::providers::{AccessToken, GitHub, ProviderError};
use crate::web::cookie::removal_cookie;
use crate::web::error::ApiError;
use crate::web::extract::SignedIn;
use crate::web::refuse::enter;
use crate::web::state::AppState;

/// The proxy's own prefix, as the browser spells it.
pub const PREFIX: &str = "/api/github/";
/// Longest query string forwarded.
const MAX_QUERY: usize = 2048;

/// GitHub, when the session is a GitHub one; otherwise 404, and GitHub hears nothing
/// (another provider's token must never be sent there).
fn github_of(state: &AppState, signed_in: &SignedIn) -> Result<Arc<GitHub>, ApiError> {
    state
        .auth
        .github_for(signed_in.user())
        .cloned()
        .ok_or(ApiError::NotFound)
}

/// Calls `github` with the session's token (refreshed first if due). When the session
/// ended on the way (the grant was revoked at GitHub, or its renewal refused), the error
/// answer also makes the browser drop the cookie.
async fn with_github<T, F, Fut>(
    state: &AppState,
    signed_in: &SignedIn,
    github: &Arc<GitHub>,
    call: F,
) -> Result<T, HttpResponse>
where
    F: Fn(Arc<GitHub>, AccessToken) -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let result = state
        .auth
        .tokens
        .with_token(&signed_in.session, |token| call(github.clone(), token))
        .await;
    result.map_err(|e| {
        let e = ApiError::from(e);
        let mut response = e.error_response();
        if matches!(e, ApiError::Unauthenticated | ApiError::SessionExpired) {
            let _ = response.add_cookie(&removal_cookie());
        }
        response
    })
}

#[utoipa::path(get, path = "/api/me/repos", tag = "github", security(("session" = [])),
    responses(
        (status = 200, description = "The person's GitHub repositories", body = Vec<shared::api::Repo>),
        (status = 401, description = "`unauthenticated`, `session_expired`", body = shared::api::ErrorBody),
        (status = 404, description = "`not_found` (not a GitHub session)", body = shared::api::ErrorBody),
        (status = 429, description = "`rate_limited`", body = shared::api::ErrorBody),
        (status = 503, description = "`provider_unavailable`", body = shared::api::ErrorBody)))]
#[tracing::instrument(name = "repos", skip_all)]
pub async fn repos(
    req: HttpRequest,
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let github = github_of(&state, &signed_in)?;
    let _call = enter(&req, &state, &state.limits.github, &signed_in.session).await?;
    Ok(
        match with_github(&state, &signed_in, &github, |github, token| async move {
            github.repos(&token).await
        })
        .await
        {
            Ok(repos) => HttpResponse::Ok().json(repos),
            Err(response) => response,
        },
    )
}

#[utoipa::path(get, path = "/api/github/{path}", tag = "github", security(("session" = [])),
    params(("path" = String, Path, description = "A path of GitHub's REST API on the allow-list (`GITHUB_PROXY_ALLOW`)")),
    responses(
        (status = 200, description = "GitHub's answer, with `ETag`, `Link` (rewritten to this proxy) and the rate-limit headers"),
        (status = 401, description = "`unauthenticated`, `session_expired`", body = shared::api::ErrorBody),
        (status = 404, description = "`not_found` (path not allowed, or not a GitHub session)", body = shared::api::ErrorBody),
        (status = 429, description = "`rate_limited`", body = shared::api::ErrorBody),
        (status = 503, description = "`provider_unavailable`", body = shared::api::ErrorBody)))]
#[tracing::instrument(name = "github_proxy", skip_all)]
pub async fn proxy(
    req: HttpRequest,
    signed_in: SignedIn,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let github = github_of(&state, &signed_in)?;
    let _call = enter(&req, &state, &state.limits.github, &signed_in.session).await?;
    // The raw path, not the router's decoded one: a path that needs decoding to match is
    // refused, so no spelling can reach anything but what the allow-list names.
    let path = req
        .uri()
        .path()
        .strip_prefix(PREFIX)
        .filter(|p| allowed(&state.proxy_allow, p))
        .ok_or(ApiError::NotFound)?;
    let query = req.uri().query().unwrap_or("");
    if query.len() > MAX_QUERY || !query.bytes().all(|b| b.is_ascii_graphic()) {
        return Err(ApiError::InvalidRequest(
            "The query string is not acceptable.".into(),
        ));
    }
    let target = if query.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{query}")
    };
    let if_none_match = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .map(|v| v.as_bytes());
    let answer = match with_github(&state, &signed_in, &github, |github, token| {
        let target = &target;
        async move { github.api_get(&token, target, if_none_match).await }
    })
    .await
    {
        Ok(answer) => answer,
        Err(response) => return Ok(response),
    };
    let status = StatusCode::from_u16(answer.status.as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut response = HttpResponse::build(status);
    let api_base = github.api_url().as_str().trim_end_matches('/').to_owned() + "/";
    for (name, value) in answer.headers {
        let value = if name == reqwest::header::LINK {
            match value.to_str() {
                Ok(link) => match HeaderValue::from_str(&link.replace(&api_base, PREFIX)) {
                    Ok(v) => v,
                    Err(_) => continue,
                },
                Err(_) => continue,
            }
        } else {
            match HeaderValue::from_bytes(value.as_bytes()) {
                Ok(v) => v,
                Err(_) => continue,
            }
        };
        if let Ok(name) = header::HeaderName::from_bytes(name.as_str().as_bytes()) {
            response.insert_header((name, value));
        }
    }
    Ok(response.body(answer.body))
}

/// True when `path` is plain segments (letters, digits, `-`, `_`, `.`; no empty, `.` or
/// `..` segment, no percent-encoding) and matches a pattern segment by segment, `*`
/// standing for exactly one segment.
///
/// A pattern for any repository (`repos/*/*/…`) also allows its twin by numeric id,
/// `repositories/{digits}/…`: GitHub's pagination links for repository lists use that
/// spelling, so refusing it would make page 2 a 404. A pattern naming one repository has
/// no twin (the id is not known here), so its later pages stay refused.
fn allowed(patterns: &[String], path: &str) -> bool {
    let segments: Vec<&str> = path.split('/').collect();
    let plain = segments.iter().all(|s| {
        !s.is_empty()
            && *s != "."
            && *s != ".."
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    });
    let matches = |parts: &[&str], segments: &[&str]| {
        parts.len() == segments.len()
            && parts
                .iter()
                .zip(segments)
                .all(|(p, s)| *p == "*" || p.eq_ignore_ascii_case(s))
    };
    let by_id = match segments.as_slice() {
        ["repositories", id, rest @ ..] if id.bytes().all(|b| b.is_ascii_digit()) => Some(rest),
        _ => None,
    };
    plain
        && patterns.iter().any(|pattern| {
            let parts: Vec<&str> = pattern.split('/').collect();
            matches(&parts, &segments)
                || match (parts.as_slice(), by_id) {
                    (["repos", "*", "*", tail @ ..], Some(rest)) => matches(tail, rest),
                    _ => false,
                }
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DEFAULT_PROXY_ALLOW;

    fn defaults() -> Vec<String> {
        DEFAULT_PROXY_ALLOW.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn allowed_paths_match_segment_by_segment() {
        let allow = defaults();
        for ok in [
            "user",
            "user/repos",
            "repos/octocat/Hello-World",
            "repos/a/b/issues",
            "repos/a.b/c_d/pulls",
            "repositories/1296269",
            "repositories/1296269/issues",
            "repositories/1296269/pulls",
        ] {
            assert!(allowed(&allow, ok), "{ok}");
        }
        for refused in [
            "",
            "user/",
            "/user",
            "users/octocat",
            "repos/octocat",
            "repos/a/b/c",
            "repos/a/b/issues/1",
            "repos/a/../user",
            "repos/./b/issues",
            "repos/a%2Fb/c",
            "repos/a/b%2Fissues",
            "user%2Frepos",
            "user//repos",
            "applications/x/token",
            "repos/a/b/collaborators",
            "repositories",
            "repositories/x1/issues",
            "repositories/1296269/collaborators",
            "repositories/1296269/issues/1",
            "repositories/-1/issues",
        ] {
            assert!(!allowed(&allow, refused), "{refused}");
        }
    }

    #[test]
    fn a_pattern_naming_one_repository_has_no_twin_by_id() {
        let allow = vec!["repos/octocat/Hello-World/issues".to_owned()];
        assert!(allowed(&allow, "repos/octocat/Hello-World/issues"));
        assert!(!allowed(&allow, "repositories/1296269/issues"));
    }
}
