//! The OpenAPI document of the JSON API: generated from the handlers, it names every
//! route of the route table and no other, marks the cookie and the CSRF header, and the
//! committed `docs/openapi.json` is the generated one.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::workspace;
use crate::helpers::spawn_app;

/// (method, path) of every route `backend/src/web/mod.rs` registers, read from its text:
/// `web::resource("/full/path")` with its `.route(web::post()...)`, `.route("/x",
/// web::get()...)` inside the `/api` scope (the health routes and `/.well-known` sit at
/// the root), and `.route("/x", ...)` inside another `web::scope("/prefix")`.
fn route_table() -> BTreeSet<(String, String)> {
    let text = std::fs::read_to_string(workspace().join("backend/src/web/mod.rs")).unwrap();
    let quoted = |line: &str| line.split('"').nth(1).map(str::to_owned);
    let method = |line: &str| {
        ["get", "post", "put", "patch", "delete"]
            .into_iter()
            .find(|m| {
                line.contains(&format!("web::{m}()")) || line.contains(&format!("method::{m}()"))
            })
            .map(str::to_uppercase)
    };
    let spelled = |path: String| path.replace("{path:.*}", "{path}");
    let mut routes = BTreeSet::new();
    let mut resource: Option<String> = None;
    let mut scope: Option<String> = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("web::scope(") {
            scope = quoted(line).filter(|p| !p.is_empty() && p != "/api");
        } else if line.starts_with("web::resource(") {
            resource = quoted(line);
        } else if line.starts_with(".route(web::") || line.starts_with(".route(method::") {
            if let (Some(path), Some(method)) = (&resource, method(line)) {
                routes.insert((method, path.clone()));
            }
        } else if line.starts_with(".route(\"") {
            let (Some(path), Some(method)) = (quoted(line), method(line)) else {
                continue;
            };
            let root = path.starts_with("/healthz")
                || path.starts_with("/readyz")
                || path.starts_with("/.well-known");
            let full = match &scope {
                Some(prefix) => format!("{prefix}{path}"),
                None if root => path,
                None => format!("/api{path}"),
            };
            routes.insert((method, spelled(full)));
        }
    }
    routes
}

fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    let mut routes = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item.get(method).is_some() {
                routes.insert((method.to_uppercase(), path.clone()));
            }
        }
    }
    routes
}

#[tokio::test]
async fn the_document_names_every_route_and_no_other() {
    let app = spawn_app().await;
    let response = app.browser.get("/api/openapi.json").await;
    assert_eq!(response.status(), 200);
    let doc: Value = response.json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    let table = route_table();
    assert!(table.len() >= 17, "the route table was read: {table:?}");
    assert_eq!(
        documented(&doc),
        table,
        "the document and the route table differ"
    );

    let csrf = |path: &str, method: &str| {
        doc["paths"][path][method]["parameters"]
            .as_array()
            .is_some_and(|ps| {
                ps.iter()
                    .any(|p| p["name"] == "x-csrf" && p["in"] == "header" && p["required"] == true)
            })
    };
    assert!(csrf("/api/auth/login", "post"));
    assert!(csrf("/api/auth/logout", "post"));
    assert!(csrf("/api/me/sessions/{id}", "delete"));
    assert!(
        !csrf("/api/webhooks/github", "post"),
        "server to server: no CSRF rule"
    );
    assert!(!csrf("/api/me", "get"));
    let scheme = &doc["components"]["securitySchemes"]["session"];
    assert_eq!(scheme["type"], "apiKey");
    assert_eq!(scheme["in"], "cookie");
    assert_eq!(scheme["name"], shared::api::SESSION_COOKIE);
    assert_eq!(
        doc["paths"]["/api/me"]["get"]["security"][0]["session"],
        serde_json::json!([])
    );
    let codes = doc["components"]["schemas"]["ErrorCode"]["enum"]
        .as_array()
        .unwrap();
    for code in [
        "unauthenticated",
        "csrf_failed",
        "upstream_timeout",
        "rate_limited",
    ] {
        assert!(codes.iter().any(|c| c == code), "{code}");
    }
    assert!(doc["paths"]["/api/me"]["get"]["responses"]["401"].is_object());
}

#[test]
fn the_committed_document_is_the_generated_one() {
    let committed =
        std::fs::read_to_string(workspace().join("docs/openapi.json")).unwrap_or_default();
    assert!(
        committed == backend::web::openapi::document(),
        "docs/openapi.json differs from the document the code generates: run `cargo xtask openapi` and commit it"
    );
}
