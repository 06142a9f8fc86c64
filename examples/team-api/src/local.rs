//! The example local API, mounted in the BFF's own process at `/api/greetings`: each
//! signed-in person can leave themselves a short greeting and read it back. It shows
//! what a handler gets from the BFF: the person ([`SignedIn`]), the CSRF rule on `POST`
//! (a write without `X-CSRF: 1` never reaches it), and the JSON error shape
//! ([`ApiError`]).
//!
//! Kept in memory: a real one would use its own database.

use std::collections::HashMap;
use std::sync::Mutex;

use actix_web::{web, HttpResponse};
use backend::web::body::read_json;
use backend::web::extract::SignedIn;
use backend::web::{ApiError, LocalApi};
use serde::Deserialize;

/// Longest greeting, in characters.
const LONGEST: usize = 140;

#[derive(Default)]
struct Greetings(Mutex<HashMap<String, String>>);

#[derive(Deserialize)]
struct NewGreeting {
    text: String,
}

/// `/api/greetings`: `GET` the person's greeting, `POST {"text"}` to change it.
pub fn api() -> LocalApi {
    let greetings = web::Data::new(Greetings::default());
    LocalApi::new("greetings", move |cfg| {
        cfg.app_data(greetings.clone())
            .route("", web::get().to(read))
            .route("", web::post().to(write));
    })
}

fn person(signed_in: &SignedIn) -> String {
    let user = signed_in.user();
    format!("{}:{}", user.provider, user.provider_user_id)
}

async fn read(
    signed_in: SignedIn,
    greetings: web::Data<Greetings>,
) -> Result<HttpResponse, ApiError> {
    let text = greetings
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .get(&person(&signed_in))
        .cloned()
        .unwrap_or_else(|| format!("Hello, {}!", signed_in.user().login));
    Ok(HttpResponse::Ok().json(serde_json::json!({ "text": text })))
}

async fn write(
    req: actix_web::HttpRequest,
    payload: web::Payload,
    signed_in: SignedIn,
    greetings: web::Data<Greetings>,
) -> Result<HttpResponse, ApiError> {
    let new: NewGreeting = read_json(&req, payload).await?;
    let text = new.text.trim();
    if text.is_empty() || text.chars().count() > LONGEST {
        return Err(ApiError::InvalidRequest(format!(
            "A greeting is 1 to {LONGEST} characters."
        )));
    }
    greetings
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(person(&signed_in), text.to_owned());
    Ok(HttpResponse::Ok().json(serde_json::json!({ "text": text })))
}
