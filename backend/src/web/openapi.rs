//! The OpenAPI 3.1 document of the built-in JSON API, generated from the annotations on
//! the handlers (`#[utoipa::path]`) and the API types' schemas (`shared`, feature
//! `openapi`), so it cannot drift from the code: a test compares its routes with the
//! route table, and the committed `docs/openapi.json` with this. Served at
//! `GET /api/openapi.json` and printed by `backend openapi`.
//!
//! Two rules apply to every operation and are added here rather than repeated on each:
//! the session cookie as the security scheme, and the `X-CSRF: 1` header on every unsafe
//! method a browser calls (the server-to-server routes are exempt, by their own scope).

use std::sync::OnceLock;

use actix_web::http::header;
use actix_web::HttpResponse;
use utoipa::openapi::path::{Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::openapi::{ObjectBuilder, Required, Type};
use utoipa::{Modify, OpenApi};

use super::routes::{auth, backchannel, github, health, identity, me, sessions, webhooks};

/// The tag of routes other servers call: they are outside the CSRF rule.
const SERVER_TO_SERVER: &str = "server to server";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Repo Desk BFF",
        description = "The backend-for-frontend's JSON API. The session is an HttpOnly cookie the browser sends by itself; \
every unsafe request a browser makes needs `X-CSRF: 1` and a JSON body (`Content-Type: application/json`). \
Errors are `{\"error\": CODE, \"message\": sentence}`. Upstream and local APIs configured by a deployment \
(`/api/{prefix}/...`) are not part of this document; `GET /api/auth/providers` lists their prefixes."
    ),
    paths(
        auth::providers,
        auth::login,
        auth::callback,
        auth::session,
        auth::logout,
        backchannel::logout,
        me::me,
        github::repos,
        github::proxy,
        sessions::list,
        sessions::end,
        sessions::activity,
        webhooks::github,
        health::live,
        health::ready,
        identity::jwks,
        serve,
    ),
    components(schemas(shared::ErrorCode, shared::api::AuditKind, shared::api::SignOutReason)),
    modifiers(&SessionCookie, &CsrfHeader),
    tags(
        (name = "sign-in", description = "Sign-in with PKCE made in the browser"),
        (name = "session", description = "The signed-in person and their sessions"),
        (name = "github", description = "What only a GitHub session offers"),
        (name = "server to server", description = "Called by providers, not browsers: a signature is their check"),
        (name = "operations", description = "Health, readiness, identity keys, this document"),
    )
)]
struct ApiDoc;

/// The session cookie as the security scheme.
struct SessionCookie;

impl Modify for SessionCookie {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = openapi.components.as_mut() {
            components.add_security_scheme(
                "session",
                SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                    shared::api::SESSION_COOKIE,
                    "Set by `POST /api/auth/callback`; HttpOnly, Secure, SameSite=Strict. The browser sends it by itself.",
                ))),
            );
        }
    }
}

/// `X-CSRF: 1` on every unsafe method a browser calls.
struct CsrfHeader;

impl Modify for CsrfHeader {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        for item in openapi.paths.paths.values_mut() {
            for operation in [
                item.post.as_mut(),
                item.put.as_mut(),
                item.patch.as_mut(),
                item.delete.as_mut(),
            ]
            .into_iter()
            .flatten()
            {
                let from_a_server = operation
                    .tags
                    .as_ref()
                    .is_some_and(|tags| tags.iter().any(|t| t == SERVER_TO_SERVER));
                if !from_a_server {
                    add_csrf_header(operation);
                }
            }
        }
    }
}

fn add_csrf_header(operation: &mut Operation) {
    let header: Parameter = ParameterBuilder::new()
        .name(shared::api::CSRF_HEADER)
        .parameter_in(ParameterIn::Header)
        .required(Required::True)
        .description(Some(
            "Always `1`: a custom header no cross-site form can send (RFC 10017 §6.1.3.3.2).",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .enum_values(Some(["1"])),
        ))
        .build();
    operation
        .parameters
        .get_or_insert_with(Vec::new)
        .push(header);
}

/// The document as pretty-printed JSON (made once).
pub fn document() -> &'static str {
    static DOCUMENT: OnceLock<String> = OnceLock::new();
    DOCUMENT.get_or_init(|| {
        let mut text = ApiDoc::openapi()
            .to_pretty_json()
            .expect("the OpenAPI document serialises");
        text.push('\n');
        text
    })
}

#[utoipa::path(get, path = "/api/openapi.json", tag = "operations",
    responses((status = 200, description = "This document (OpenAPI 3.1)")))]
pub async fn serve() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CONTENT_TYPE, "application/json"))
        .body(document())
}
