//! An OpenID Connect issuer of the tests' own that signs whatever a test asks: the way to
//! hand the BFF ID tokens and logout tokens no honest provider would issue. It serves a
//! discovery document, a JWKS with an Ed25519 and a P-256 key, a token endpoint that
//! answers with the next ID token a test queued, and userinfo.

use std::net::TcpListener;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use actix_web::dev::ServerHandle;
use actix_web::{web, App, HttpResponse, HttpServer};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use ring::rand::SystemRandom;
use ring::signature::{
    EcdsaKeyPair, Ed25519KeyPair, KeyPair as _, ECDSA_P256_SHA256_FIXED_SIGNING,
};
use serde_json::{json, Value};

/// A signing key: its PKCS#8 form (for `jsonwebtoken`) and its public JWK.
pub struct Key {
    pub kid: String,
    pub alg: Algorithm,
    pkcs8: Vec<u8>,
    pub jwk: Value,
    /// The raw public key, for the "HMAC keyed with the public key" attack.
    pub public: Vec<u8>,
}

impl Key {
    pub fn ed25519(kid: &str) -> Self {
        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&SystemRandom::new()).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let public = pair.public_key().as_ref().to_vec();
        let jwk = json!({
            "kty": "OKP", "crv": "Ed25519", "x": URL_SAFE_NO_PAD.encode(&public),
            "kid": kid, "alg": "EdDSA", "use": "sig",
        });
        Self {
            kid: kid.into(),
            alg: Algorithm::EdDSA,
            pkcs8: pkcs8.as_ref().to_vec(),
            jwk,
            public,
        }
    }

    pub fn p256(kid: &str) -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        // Uncompressed point: 0x04, X, Y.
        let public = pair.public_key().as_ref().to_vec();
        let jwk = json!({
            "kty": "EC", "crv": "P-256",
            "x": URL_SAFE_NO_PAD.encode(&public[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&public[33..]),
            "kid": kid, "alg": "ES256", "use": "sig",
        });
        Self {
            kid: kid.into(),
            alg: Algorithm::ES256,
            pkcs8: pkcs8.as_ref().to_vec(),
            jwk,
            public,
        }
    }

    /// `claims` signed with this key, the header naming `kid`.
    pub fn sign_as(&self, kid: &str, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(kid.into());
        let key = match self.alg {
            Algorithm::EdDSA => EncodingKey::from_ed_der(&self.pkcs8),
            _ => EncodingKey::from_ec_der(&self.pkcs8),
        };
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }

    pub fn sign(&self, claims: &Value) -> String {
        self.sign_as(&self.kid, claims)
    }

    /// `claims` signed with this key, the header saying `typ`.
    pub fn sign_typed(&self, typ: &str, claims: &Value) -> String {
        let mut header = Header::new(self.alg);
        header.kid = Some(self.kid.clone());
        header.typ = Some(typ.into());
        let key = match self.alg {
            Algorithm::EdDSA => EncodingKey::from_ed_der(&self.pkcs8),
            _ => EncodingKey::from_ec_der(&self.pkcs8),
        };
        jsonwebtoken::encode(&header, claims, &key).unwrap()
    }
}

struct State {
    issuer: String,
    /// What the discovery document claims the issuer is.
    claimed_issuer: Mutex<String>,
    published: Mutex<Vec<Value>>,
    next_id_token: Mutex<Option<String>>,
    jwks_fetches: AtomicUsize,
    /// Every access token the token endpoint handed out.
    access_tokens: Mutex<Vec<String>>,
    /// Every token the BFF asked to revoke (RFC 7009).
    revoked: Mutex<Vec<String>>,
}

pub struct TestIssuer {
    pub url: String,
    /// Published from the start.
    pub ed25519: Key,
    pub p256: Key,
    state: Arc<State>,
    handle: ServerHandle,
}

impl TestIssuer {
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let ed25519 = Key::ed25519("ed-1");
        let p256 = Key::p256("ec-1");
        let state = Arc::new(State {
            issuer: url.clone(),
            claimed_issuer: Mutex::new(url.clone()),
            published: Mutex::new(vec![ed25519.jwk.clone(), p256.jwk.clone()]),
            next_id_token: Mutex::new(None),
            jwks_fetches: AtomicUsize::new(0),
            access_tokens: Mutex::new(Vec::new()),
            revoked: Mutex::new(Vec::new()),
        });
        let data = web::Data::from(state.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .route(
                    "/.well-known/openid-configuration",
                    web::get().to(discovery),
                )
                .route("/jwks", web::get().to(jwks))
                .route("/token", web::post().to(token))
                .route("/userinfo", web::get().to(userinfo))
                .route("/revoke", web::post().to(revoke))
        })
        .workers(1)
        .disable_signals()
        .listen(listener)
        .unwrap()
        .run();
        let handle = server.handle();
        tokio::spawn(server);
        Self {
            url,
            ed25519,
            p256,
            state,
            handle,
        }
    }

    /// The token endpoint's next answer carries this ID token.
    pub fn answer_with(&self, id_token: String) {
        *self.state.next_id_token.lock().unwrap() = Some(id_token);
    }

    /// Adds a key to the published set (a key rotation).
    pub fn publish(&self, key: &Key) {
        self.state.published.lock().unwrap().push(key.jwk.clone());
    }

    /// Makes the discovery document name another issuer than its own URL.
    pub fn claim_issuer(&self, issuer: &str) {
        *self.state.claimed_issuer.lock().unwrap() = issuer.into();
    }

    /// Every access token handed out so far (tests look for them where none may be).
    pub fn access_tokens(&self) -> Vec<String> {
        self.state.access_tokens.lock().unwrap().clone()
    }

    /// True when every access token handed out so far was revoked.
    pub fn every_access_token_revoked(&self) -> bool {
        let revoked = self.state.revoked.lock().unwrap();
        self.access_tokens().iter().all(|t| revoked.contains(t))
    }

    pub fn jwks_fetches(&self) -> usize {
        self.state.jwks_fetches.load(Ordering::SeqCst)
    }
}

impl Drop for TestIssuer {
    fn drop(&mut self) {
        drop(self.handle.stop(false));
    }
}

async fn discovery(state: web::Data<State>) -> HttpResponse {
    let url = &state.issuer;
    HttpResponse::Ok().json(json!({
        "issuer": *state.claimed_issuer.lock().unwrap(),
        "authorization_endpoint": format!("{url}/authorize"),
        "token_endpoint": format!("{url}/token"),
        "jwks_uri": format!("{url}/jwks"),
        "userinfo_endpoint": format!("{url}/userinfo"),
        "end_session_endpoint": format!("{url}/logout"),
        "revocation_endpoint": format!("{url}/revoke"),
        "authorization_response_iss_parameter_supported": true,
        "code_challenge_methods_supported": ["S256"],
        "id_token_signing_alg_values_supported": ["EdDSA", "ES256"],
        "backchannel_logout_supported": true,
    }))
}

async fn jwks(state: web::Data<State>) -> HttpResponse {
    state.jwks_fetches.fetch_add(1, Ordering::SeqCst);
    HttpResponse::Ok().json(json!({ "keys": *state.published.lock().unwrap() }))
}

/// Answers a code exchange with the queued ID token; a refresh with a new access token
/// (and the queued ID token, if a test queued one). Refresh tokens are issued with every
/// answer and not checked: the tests of refresh are about what comes back.
async fn token(state: web::Data<State>, form: web::Form<Vec<(String, String)>>) -> HttpResponse {
    let refreshing = form
        .iter()
        .any(|(k, v)| k == "grant_type" && v == "refresh_token");
    let id_token = state.next_id_token.lock().unwrap().take();
    if id_token.is_none() && !refreshing {
        return HttpResponse::BadRequest().json(json!({"error": "invalid_grant"}));
    }
    let access_token = format!("at-{}", URL_SAFE_NO_PAD.encode(rand_bytes()));
    state
        .access_tokens
        .lock()
        .unwrap()
        .push(access_token.clone());
    let mut answer = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "expires_in": 3600,
        "refresh_token": format!("rt-{}", URL_SAFE_NO_PAD.encode(rand_bytes())),
    });
    if let Some(id_token) = id_token {
        answer["id_token"] = json!(id_token);
    }
    HttpResponse::Ok().json(answer)
}

async fn revoke(state: web::Data<State>, form: web::Form<Vec<(String, String)>>) -> HttpResponse {
    if let Some((_, token)) = form.iter().find(|(name, _)| name == "token") {
        state.revoked.lock().unwrap().push(token.clone());
    }
    HttpResponse::Ok().finish()
}

async fn userinfo() -> HttpResponse {
    HttpResponse::Ok().json(json!({"sub": "alice", "name": "Alice", "email": "alice@example.com"}))
}

fn rand_bytes() -> [u8; 16] {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0; 16];
    SystemRandom::new().fill(&mut bytes).unwrap();
    bytes
}

/// A JWT with `alg: none`: no signature at all.
pub fn unsigned(kid: &str, claims: &Value) -> String {
    let header = json!({"alg": "none", "kid": kid, "typ": "JWT"});
    format!(
        "{}.{}.",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    )
}

/// An HS256 JWT keyed with `secret` (the classic attack: the public key as an HMAC key).
pub fn hmac_signed(kid: &str, secret: &[u8], claims: &Value) -> String {
    let mut header = Header::new(Algorithm::HS256);
    header.kid = Some(kid.into());
    jsonwebtoken::encode(&header, claims, &EncodingKey::from_secret(secret)).unwrap()
}
