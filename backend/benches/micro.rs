//! Micro-benchmarks of the per-request building blocks: PKCE, token sealing, session store.

use std::hint::black_box;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

use backend::crypto::KeyRing;
use backend::session::SessionId;
use backend::store::sqlite::SqliteSessions;
use backend::store::{Record, SessionRecords};
use criterion::{criterion_group, criterion_main, Criterion};
use shared::pkce::{self, CodeVerifier};

fn pkce_benches(c: &mut Criterion) {
    c.bench_function("pkce/generate_verifier_and_challenge", |b| {
        b.iter(|| {
            let v = CodeVerifier::generate().unwrap();
            black_box(v.challenge())
        })
    });
    let v = CodeVerifier::generate().unwrap();
    let challenge = v.challenge();
    c.bench_function("pkce/validate_and_verify", |b| {
        b.iter(|| {
            pkce::validate(black_box(v.secret())).unwrap();
            black_box(pkce::verify_s256(v.secret(), &challenge))
        })
    });
}

fn crypto_benches(c: &mut Criterion) {
    let ring = KeyRing::parse(&KeyRing::generate_key()).unwrap();
    let token = "gho_16C7e42F292c6912E7710c838347Ae178B4a";
    c.bench_function("token/seal", |b| {
        b.iter(|| black_box(ring.seal("access_token", "session-public-id", token)))
    });
    let sealed = ring.seal("access_token", "session-public-id", token);
    c.bench_function("token/open", |b| {
        b.iter(|| {
            black_box(
                ring.open("access_token", "session-public-id", &sealed)
                    .unwrap(),
            )
        })
    });
}

fn store_benches(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("bench.sqlite3").display());
    let db = rt.block_on(backend::store::sqlite::connect(&url)).unwrap();
    let record = Record {
        public_id: "Qk9ZrW1c2Vx0aXJtYWRl".into(),
        person: Some("github:583231".into()),
        provider_sid: None,
        data: r#"{"user":{"id":1,"provider":"github","provider_user_id":"583231","login":"octocat","name":"The Octocat","email":"octocat@github.com","avatar_url":"https://avatars.githubusercontent.com/u/583231?v=4","profile_url":"https://github.com/octocat"},"tokens":{"access":"v2.0a1b2c3d.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"},"device":"Chrome on Linux"}"#.into(),
        version: 1,
        created_at: 1,
        last_seen: 1,
        expires_at: i64::MAX,
    };
    let stores: [(&str, Arc<dyn SessionRecords>); 1] =
        [("sqlite", Arc::new(SqliteSessions::new(db)))];
    for (name, store) in stores {
        let key = SessionId::generate().key();
        rt.block_on(store.insert(&key, &record)).unwrap();
        let version = AtomicI64::new(1);
        c.bench_function(&format!("session_store/{name}/put"), |b| {
            b.to_async(&rt).iter(|| async {
                // A conditional update, as every session write is.
                let expected = version.fetch_add(1, Ordering::Relaxed);
                let next = Record {
                    version: expected + 1,
                    ..record.clone()
                };
                assert!(store.update(&key, &next, expected).await.unwrap());
            })
        });
        c.bench_function(&format!("session_store/{name}/get"), |b| {
            b.to_async(&rt)
                .iter(|| async { black_box(store.load(&key).await.unwrap()) })
        });
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(500))
        .measurement_time(std::time::Duration::from_secs(2))
        .sample_size(30);
    targets = pkce_benches, crypto_benches, store_benches
}
criterion_main!(benches);
