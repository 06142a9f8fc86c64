//! The example upstream service. Every route wants `Authorization: Bearer <identity
//! token>` from the BFF and verifies it offline: an EdDSA signature by a key of the
//! BFF's JWK Set, the issuer (the BFF's public URL), this service's audience, and expiry.
//! A token signed by a key id it has not seen makes it fetch the key set again (at most
//! every ten seconds), so the BFF's key rotation needs nothing from it.
//!
//! - `GET /whoami`: what the token says: `{"sub","sid","login","name","provider","expires_in"}`.
//! - `GET /events`: Server-Sent Events, one `tick` a second, for as long as the browser
//!   listens (or the BFF ends the stream because the session ended).
//! - `GET /ws`: a WebSocket that greets, sends a tick every two seconds and echoes what it
//!   is sent.

use std::net::TcpListener;
use std::sync::Arc;
use std::time::{Duration, Instant};

use actix_web::dev::Server;
use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use futures_util::StreamExt as _;
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::{Deserialize, Serialize};
use tokio::sync::RwLock;

/// Who this service is to the BFF, and where the BFF's keys are.
#[derive(Clone, Debug)]
pub struct Config {
    /// `{BFF}/.well-known/jwks.json`.
    pub jwks_url: String,
    /// The BFF's public URL: the tokens' `iss`.
    pub issuer: String,
    /// This service's audience: the `aud` the BFF puts in its tokens for it.
    pub audience: String,
    /// Time between event-stream ticks.
    pub tick: Duration,
}

/// What the BFF's identity token says.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub sid: String,
    pub login: String,
    pub provider: String,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    pub exp: i64,
}

/// Verifies identity tokens against the BFF's key set.
pub struct Verifier {
    config: Config,
    http: reqwest::Client,
    keys: RwLock<(JwkSet, Option<Instant>)>,
}

/// How often the key set is fetched again for an unknown key id, at most.
const REFETCH_AT_MOST_EVERY: Duration = Duration::from_secs(10);

impl Verifier {
    pub fn new(config: Config) -> Self {
        Self {
            config,
            http: reqwest::Client::new(),
            keys: RwLock::new((JwkSet { keys: Vec::new() }, None)),
        }
    }

    /// The claims of `authorization` (`Bearer <token>`), or why not.
    pub async fn verify(&self, authorization: Option<&str>) -> Result<Claims, String> {
        let token = authorization
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or("no bearer token")?;
        let header = jsonwebtoken::decode_header(token).map_err(|e| e.to_string())?;
        if header.alg != Algorithm::EdDSA {
            return Err("not an EdDSA token".into());
        }
        let kid = header.kid.ok_or("no key id")?;
        let key = self.key(&kid).await?;
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[&self.config.issuer]);
        validation.set_audience(&[&self.config.audience]);
        validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        jsonwebtoken::decode::<Claims>(token, &key, &validation)
            .map(|data| data.claims)
            .map_err(|e| e.to_string())
    }

    async fn key(&self, kid: &str) -> Result<DecodingKey, String> {
        {
            let keys = self.keys.read().await;
            if let Some(jwk) = keys.0.find(kid) {
                return DecodingKey::from_jwk(jwk).map_err(|e| e.to_string());
            }
            if keys
                .1
                .is_some_and(|at| at.elapsed() < REFETCH_AT_MOST_EVERY)
            {
                return Err("unknown key id".into());
            }
        }
        let set: JwkSet = self
            .http
            .get(&self.config.jwks_url)
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("the key set could not be fetched: {e}"))?
            .json()
            .await
            .map_err(|e| format!("the key set is not JSON: {e}"))?;
        let mut keys = self.keys.write().await;
        *keys = (set, Some(Instant::now()));
        let jwk = keys.0.find(kid).ok_or("unknown key id")?;
        DecodingKey::from_jwk(jwk).map_err(|e| e.to_string())
    }
}

/// Starts the service on `listener`.
pub fn serve(listener: TcpListener, config: Config) -> std::io::Result<Server> {
    let tick = config.tick;
    let verifier = web::Data::new(Verifier::new(config));
    let server = HttpServer::new(move || {
        App::new()
            .app_data(verifier.clone())
            .app_data(web::Data::new(tick))
            .route("/whoami", web::get().to(whoami))
            .route("/events", web::get().to(events))
            .route("/ws", web::get().to(socket))
    })
    .workers(1)
    .listen(listener)?
    .run();
    Ok(server)
}

async fn caller(req: &HttpRequest, verifier: &Verifier) -> Result<Claims, HttpResponse> {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    verifier.verify(authorization).await.map_err(|reason| {
        HttpResponse::Unauthorized().json(serde_json::json!({
            "error": "unauthenticated",
            "message": format!("The identity token was refused: {reason}."),
        }))
    })
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

async fn whoami(req: HttpRequest, verifier: web::Data<Verifier>) -> HttpResponse {
    match caller(&req, &verifier).await {
        Ok(claims) => HttpResponse::Ok().json(serde_json::json!({
            "sub": claims.sub,
            "sid": claims.sid,
            "login": claims.login,
            "name": claims.name,
            "provider": claims.provider,
            "expires_in": claims.exp - now(),
        })),
        Err(refusal) => refusal,
    }
}

async fn events(
    req: HttpRequest,
    verifier: web::Data<Verifier>,
    tick: web::Data<Duration>,
) -> HttpResponse {
    let claims = match caller(&req, &verifier).await {
        Ok(claims) => claims,
        Err(refusal) => return refusal,
    };
    let login = Arc::new(claims.login);
    let every = **tick;
    let stream = futures_util::stream::unfold(0u64, move |n| {
        let login = login.clone();
        async move {
            if n > 0 {
                tokio::time::sleep(every).await;
            }
            let data = serde_json::json!({ "n": n + 1, "login": *login });
            let event = format!("event: tick\ndata: {data}\n\n");
            Some((Ok::<_, std::io::Error>(Bytes::from(event)), n + 1))
        }
    });
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .streaming(stream)
}

async fn socket(
    req: HttpRequest,
    body: web::Payload,
    verifier: web::Data<Verifier>,
) -> actix_web::Result<HttpResponse> {
    let claims = match caller(&req, &verifier).await {
        Ok(claims) => claims,
        Err(refusal) => return Ok(refusal),
    };
    let (response, mut session, messages) = actix_ws::handle(&req, body)?;
    let mut messages = messages.aggregate_continuations();
    actix_web::rt::spawn(async move {
        let greeting = serde_json::json!({ "hello": claims.login }).to_string();
        if session.text(greeting).await.is_err() {
            return;
        }
        let mut ticks = tokio::time::interval(Duration::from_secs(2));
        ticks.tick().await;
        let mut n = 0u64;
        loop {
            tokio::select! {
                _ = ticks.tick() => {
                    n += 1;
                    if session.text(serde_json::json!({ "tick": n }).to_string()).await.is_err() {
                        return;
                    }
                }
                message = messages.next() => match message {
                    Some(Ok(actix_ws::AggregatedMessage::Text(text))) => {
                        let echo = serde_json::json!({ "echo": text.to_string() }).to_string();
                        if session.text(echo).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(actix_ws::AggregatedMessage::Ping(bytes))) => {
                        if session.pong(&bytes).await.is_err() {
                            return;
                        }
                    }
                    Some(Ok(actix_ws::AggregatedMessage::Close(reason))) => {
                        let _ = session.close(reason).await;
                        return;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => return,
                }
            }
        }
    });
    Ok(response)
}
