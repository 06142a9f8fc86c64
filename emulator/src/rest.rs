//! The REST API subset: `/user`, `/user/emails`, `/user/repos`, token revocation.

use actix_web::http::header;
use actix_web::{web, HttpRequest, HttpResponse, HttpResponseBuilder};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::Deserialize;
use serde_json::json;

use crate::faults::{self, Endpoint};
use crate::fixtures::{self, FixtureUser};
use crate::state::EmulatorState;

const DOCS: &str = "https://docs.github.com/rest";

fn with_rate_headers(mut builder: HttpResponseBuilder) -> HttpResponseBuilder {
    builder
        .insert_header(("x-ratelimit-limit", "5000"))
        .insert_header(("x-ratelimit-remaining", "4999"))
        .insert_header(("x-ratelimit-reset", "1900000000"))
        .insert_header(("x-github-media-type", "github.v3; format=json"));
    builder
}

fn bad_credentials() -> HttpResponse {
    HttpResponse::Unauthorized()
        .json(json!({"message": "Bad credentials", "documentation_url": DOCS}))
}

/// Common preamble: injected fault, User-Agent rule, bearer token -> fixture user.
async fn authenticate(
    req: &HttpRequest,
    state: &EmulatorState,
    endpoint: Endpoint,
) -> Result<&'static FixtureUser, HttpResponse> {
    state.count_api_request(req.headers().contains_key(header::COOKIE));
    if let Some(response) = faults::apply(state.fault(endpoint)).await {
        return Err(response);
    }
    if !req.headers().contains_key(header::USER_AGENT) {
        return Err(HttpResponse::Forbidden().json(json!({
            "message": "Request forbidden by administrative rules. Please make sure your request has a User-Agent header.",
            "documentation_url": DOCS,
        })));
    }
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("token "))
        })
        .ok_or_else(|| {
            HttpResponse::Unauthorized()
                .json(json!({"message": "Requires authentication", "documentation_url": DOCS}))
        })?;
    state
        .token_owner(token)
        .and_then(fixtures::find)
        .ok_or_else(bad_credentials)
}

pub async fn user(req: HttpRequest, state: web::Data<EmulatorState>) -> HttpResponse {
    match authenticate(&req, &state, Endpoint::User).await {
        Ok(user) => {
            let mut json = fixtures::user_json(user, &state.base_url);
            json["login"] = state.shown_login(user.login).into();
            with_rate_headers(HttpResponse::Ok()).json(json)
        }
        Err(response) => response,
    }
}

pub async fn emails(req: HttpRequest, state: web::Data<EmulatorState>) -> HttpResponse {
    match authenticate(&req, &state, Endpoint::Emails).await {
        Ok(user) => with_rate_headers(HttpResponse::Ok()).json(fixtures::emails_json(user)),
        Err(response) => response,
    }
}

#[derive(Deserialize)]
pub struct ReposQuery {
    per_page: Option<usize>,
    page: Option<usize>,
}

/// `/user/repos`, paginated like GitHub: `per_page`, `page`, and a `Link` header with
/// `next`/`last` (absolute URLs on the API base) when there are more pages.
pub async fn repos(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    query: Option<web::Query<ReposQuery>>,
) -> HttpResponse {
    let per_page = query
        .as_ref()
        .and_then(|q| q.per_page)
        .unwrap_or(30)
        .clamp(1, 100);
    let page = query.as_ref().and_then(|q| q.page).unwrap_or(1).max(1);
    let user = match authenticate(&req, &state, Endpoint::Repos).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let pages = user.repos.len().div_ceil(per_page).max(1);
    let mut response = with_rate_headers(HttpResponse::Ok());
    if page < pages {
        let link = |n: usize, rel: &str| {
            format!(
                "<{}/api/v3/user/repos?per_page={per_page}&page={n}>; rel=\"{rel}\"",
                state.base_url
            )
        };
        response.insert_header((
            "link",
            format!("{}, {}", link(page + 1, "next"), link(pages, "last")),
        ));
    }
    let etag = format!("\"repos-{}-{per_page}-{page}\"", user.login);
    if req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == etag.as_bytes())
    {
        return response
            .status(actix_web::http::StatusCode::NOT_MODIFIED)
            .finish();
    }
    response
        .insert_header((header::ETAG, etag))
        .json(fixtures::repos_json(user, &state.base_url, per_page, page))
}

/// `GET /repos/{owner}/{repo}`: a fixture repository, visible to any signed-in user
/// unless it is private to someone else.
pub async fn repo(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    path: web::Path<(String, String)>,
) -> HttpResponse {
    let viewer = match authenticate(&req, &state, Endpoint::Repos).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let (owner, name) = path.into_inner();
    match fixtures::find_repo(&owner, &name) {
        Some((user, repo)) if !repo.private || user.login == viewer.login => with_rate_headers(
            HttpResponse::Ok(),
        )
        .json(fixtures::repo_json(user, repo, &state.base_url)),
        _ => not_found().await,
    }
}

/// `GET /repos/{owner}/{repo}/{issues|pulls}` and `GET /repositories/{id}/{…}`: a
/// repository's issues or pull requests, newest first, paginated like GitHub: its `Link`
/// URLs name the repository by id (`/repositories/1296269/issues?page=2`).
pub async fn repo_items(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    path: web::Path<(String, String, String)>,
    query: Option<web::Query<PageQuery>>,
) -> HttpResponse {
    let viewer = match authenticate(&req, &state, Endpoint::Repos).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let (owner_or_id, name, kind) = path.into_inner();
    let found = match name.as_str() {
        // `/repositories/{id}/{kind}` is routed here with an empty name.
        "" => owner_or_id.parse().ok().and_then(fixtures::find_repo_by_id),
        _ => fixtures::find_repo(&owner_or_id, &name),
    };
    let (user, repo) = match found {
        Some((user, repo)) if !repo.private || user.login == viewer.login => (user, repo),
        _ => return not_found().await,
    };
    let total = match kind.as_str() {
        "issues" => fixtures::ISSUES_PER_REPO,
        "pulls" => fixtures::PULLS_PER_REPO,
        _ => return not_found().await,
    };
    let per_page = query
        .as_ref()
        .and_then(|q| q.per_page)
        .unwrap_or(30)
        .clamp(1, 100);
    let page = query.as_ref().and_then(|q| q.page).unwrap_or(1).max(1);
    let pages = total.div_ceil(per_page).max(1);
    let numbers: Vec<usize> = (1..=total).rev().collect();
    let items: Vec<_> = PageQuery::window(&query, &numbers)
        .into_iter()
        .map(|n| fixtures::issue_json(user, repo, &kind, n, &state.base_url))
        .collect();
    let mut response = with_rate_headers(HttpResponse::Ok());
    if page < pages {
        let link = |n: usize, rel: &str| {
            format!(
                "<{}/api/v3/repositories/{}/{kind}?per_page={per_page}&page={n}>; rel=\"{rel}\"",
                state.base_url, repo.id
            )
        };
        response.insert_header((
            "link",
            format!("{}, {}", link(page + 1, "next"), link(pages, "last")),
        ));
    }
    response.json(items)
}

/// `GET /repositories/{id}/{issues|pulls}`: as [`repo_items`], by id.
pub async fn repo_items_by_id(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    path: web::Path<(String, String)>,
    query: Option<web::Query<PageQuery>>,
) -> HttpResponse {
    let (id, kind) = path.into_inner();
    repo_items(
        req,
        state,
        web::Path::from((id, String::new(), kind)),
        query,
    )
    .await
}

#[derive(Deserialize)]
pub struct PageQuery {
    per_page: Option<usize>,
    page: Option<usize>,
}

impl PageQuery {
    fn window<T: Clone>(query: &Option<web::Query<Self>>, items: &[T]) -> Vec<T> {
        let per_page = query
            .as_ref()
            .and_then(|q| q.per_page)
            .unwrap_or(30)
            .clamp(1, 100);
        let page = query.as_ref().and_then(|q| q.page).unwrap_or(1).max(1);
        items
            .iter()
            .skip(per_page * (page - 1))
            .take(per_page)
            .cloned()
            .collect()
    }
}

/// `GET /user/orgs`: the organisations the token's owner belongs to.
pub async fn orgs(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    query: Option<web::Query<PageQuery>>,
) -> HttpResponse {
    match authenticate(&req, &state, Endpoint::Orgs).await {
        Ok(user) => {
            let orgs: Vec<_> = user
                .orgs
                .iter()
                .filter(|org| state.is_member(user.login, org))
                .map(|org| fixtures::org_json(org))
                .collect();
            with_rate_headers(HttpResponse::Ok()).json(PageQuery::window(&query, &orgs))
        }
        Err(response) => response,
    }
}

/// `GET /user/teams`: the token owner's teams (GitHub wants `read:org` for it).
pub async fn teams(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    query: Option<web::Query<PageQuery>>,
) -> HttpResponse {
    match authenticate(&req, &state, Endpoint::Orgs).await {
        Ok(user) => {
            let teams: Vec<_> = user
                .teams
                .iter()
                .filter(|(org, _)| state.is_member(user.login, org))
                .map(|(org, slug)| fixtures::team_json(org, slug))
                .collect();
            with_rate_headers(HttpResponse::Ok()).json(PageQuery::window(&query, &teams))
        }
        Err(response) => response,
    }
}

/// `GET /user/memberships/orgs/{org}`: 200 with the state when a member, 404 otherwise.
pub async fn membership(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    org: web::Path<String>,
) -> HttpResponse {
    let user = match authenticate(&req, &state, Endpoint::Orgs).await {
        Ok(user) => user,
        Err(response) => return response,
    };
    let org = org.into_inner();
    if state.is_member(user.login, &org) {
        with_rate_headers(HttpResponse::Ok()).json(json!({
            "state": "active",
            "role": "member",
            "organization": fixtures::org_json(&org),
            "user": {"login": user.login, "id": user.id},
        }))
    } else {
        not_found().await
    }
}

/// Anything the emulator does not serve, in GitHub's words (and counted, so tests can
/// tell that a request reached the provider at all).
pub async fn unknown(req: HttpRequest, state: web::Data<EmulatorState>) -> HttpResponse {
    state.count_api_request(req.headers().contains_key(header::COOKIE));
    not_found().await
}

/// GitHub's 404.
pub async fn not_found() -> HttpResponse {
    HttpResponse::NotFound().json(json!({"message": "Not Found", "documentation_url": DOCS}))
}

#[derive(Deserialize)]
pub struct RevokeBody {
    access_token: String,
}

/// `DELETE /applications/{client_id}/token` with Basic `client_id:client_secret`.
pub async fn revoke(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let body = match application_request(&req, &state, path, &body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    if state.revoke(&body.access_token) {
        HttpResponse::NoContent().finish()
    } else {
        not_found().await
    }
}

/// `DELETE /applications/{client_id}/grant`: the person's whole authorization of the app
/// ends; every token and refresh token of theirs dies.
pub async fn revoke_grant(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    let body = match application_request(&req, &state, path, &body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    match state.token_owner(&body.access_token) {
        Some(login) => {
            state.revoke_grant_of(login);
            HttpResponse::NoContent().finish()
        }
        None => not_found().await,
    }
}

/// `POST /applications/{client_id}/token` with Basic `client_id:client_secret`: GitHub's
/// "check a token". 200 with the token's owner while it is valid, 404 once it is not
/// (revoked, expired, or never issued).
pub async fn check_token(
    req: HttpRequest,
    state: web::Data<EmulatorState>,
    path: web::Path<String>,
    body: web::Bytes,
) -> HttpResponse {
    if let Some(response) = faults::apply(state.fault(Endpoint::CheckToken)).await {
        return response;
    }
    let body = match application_request(&req, &state, path, &body).await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let owner = state
        .token_owner(&body.access_token)
        .and_then(crate::fixtures::find);
    match owner {
        Some(user) => HttpResponse::Ok().json(json!({
            "token": body.access_token,
            "token_last_eight": body.access_token.chars().rev().take(8).collect::<String>(),
            "app": {"client_id": state.app.client_id, "name": state.app.name},
            "user": crate::fixtures::user_json(user, &state.base_url),
            "scopes": [],
        })),
        None => not_found().await,
    }
}

/// The common part of the `/applications/{client_id}/…` endpoints: fault, Basic auth
/// with the app's credentials, the body naming the token.
async fn application_request(
    req: &HttpRequest,
    state: &EmulatorState,
    path: web::Path<String>,
    body: &[u8],
) -> Result<RevokeBody, HttpResponse> {
    if let Some(response) = faults::apply(state.fault(Endpoint::Revoke)).await {
        return Err(response);
    }
    let app = &state.app;
    let expected = format!("{}:{}", app.client_id, app.client_secret);
    let authorized = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| STANDARD.decode(b).ok())
        .is_some_and(|raw| raw == expected.as_bytes());
    if !authorized || path.into_inner() != app.client_id {
        return Err(not_found().await);
    }
    serde_json::from_slice::<RevokeBody>(body).map_err(|_| {
        HttpResponse::UnprocessableEntity()
            .json(json!({"message": "Invalid request.", "documentation_url": DOCS}))
    })
}
