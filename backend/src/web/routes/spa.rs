//! Serves the SPA: its files from memory, and the SPA fallback (any other path that is
//! not a file gets `index.html`, so deep links work).

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::{web, HttpRequest, HttpResponse};

use crate::web::static_assets::{StaticAssets, INDEX};

/// GET/HEAD for anything outside `/api` and the health checks.
pub async fn serve(req: HttpRequest, assets: Option<web::Data<StaticAssets>>) -> HttpResponse {
    let Some(assets) = assets else {
        return not_found();
    };
    if !matches!(*req.method(), Method::GET | Method::HEAD) {
        return HttpResponse::MethodNotAllowed()
            .insert_header((header::ALLOW, "GET, HEAD"))
            .finish();
    }
    let path = req.path().trim_start_matches('/');
    let (asset, is_index) = match assets.get(path) {
        Some(asset) if path != INDEX => (asset, false),
        // A file-looking path that does not exist is a real 404, not the app.
        None if path
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.')) =>
        {
            return not_found()
        }
        _ => match assets.get(INDEX) {
            Some(index) => (index, true),
            None => return not_found(),
        },
    };
    let mut response = HttpResponse::Ok();
    response
        .insert_header((header::CONTENT_TYPE, asset.content_type.clone()))
        .insert_header((header::CACHE_CONTROL, asset.cache_control.clone()))
        .insert_header((header::ETAG, asset.etag.clone()));
    if is_index {
        response.insert_header((header::CONTENT_SECURITY_POLICY, assets.csp.clone()));
    }
    let matches_etag = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .is_some_and(|v| v.as_bytes() == asset.etag.as_bytes());
    if matches_etag {
        return response.status(StatusCode::NOT_MODIFIED).finish();
    }
    let accepts_gzip = req
        .headers()
        .get(header::ACCEPT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|e| e.trim().starts_with("gzip")));
    let body = match &asset.gzip {
        Some(gz) => {
            response.insert_header((header::VARY, HeaderValue::from_static("accept-encoding")));
            if accepts_gzip {
                response
                    .insert_header((header::CONTENT_ENCODING, HeaderValue::from_static("gzip")));
                gz.clone()
            } else {
                asset.body.clone()
            }
        }
        None => asset.body.clone(),
    };
    if req.method() == Method::HEAD {
        return response.finish();
    }
    response.body(body)
}

fn not_found() -> HttpResponse {
    HttpResponse::NotFound()
        .content_type("text/plain; charset=utf-8")
        .body("Not found")
}
