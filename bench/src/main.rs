//! The benchmark runner behind `cargo xtask bench`. Every scenario runs against the product
//! and a baseline in the same run, alternating, five rounds ([`ROUNDS`]), and reports medians.
//!
//! Usage: `bench <dist-dir> <BENCHMARKS.md> [criterion-output]`, after `cargo build --release`
//! of backend, emulator and bench (xtask does that). `BENCH_ONLY=me,signin` runs only the
//! named scenarios (to profile one while it runs) and prints their results without
//! touching BENCHMARKS.md.

mod apis;
mod cores;
mod instructions;
mod pageload;
mod peer;
mod procs;
mod report;
mod signin;
mod wrk;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use procs::{
    free_port, spawn_backend, spawn_baseline, spawn_baseline_as, start_emulator, wait_healthy,
    BackendEnv, Proc,
};
use report::Report;
use signin::Target;
use testkit::servers;

/// Rounds of every scenario, alternating product and baseline; tables show medians,
/// with each ratio's min and max.
const ROUNDS: usize = 5;
const SIGN_IN_CONCURRENCY: usize = 16;
const SIGN_IN_SECONDS: u64 = 5;
const SESSION_COUNTS: [usize; 2] = [10_000, 100_000];
const STARTS: usize = 5;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let dist = PathBuf::from(
        args.first()
            .context("usage: bench <dist> <out.md> [criterion.txt]")?,
    );
    let out = PathBuf::from(args.get(1).context("no output file")?);
    let micro = args.get(2).map(PathBuf::from);
    let bin = std::env::current_exe()?.parent().unwrap().to_path_buf();
    let work = bin.join("bench-work");
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work)?;

    let only = std::env::var("BENCH_ONLY").ok().map(|keys| {
        keys.split(',')
            .map(|k| k.trim().to_owned())
            .collect::<Vec<_>>()
    });
    let wanted = |key: &str| {
        only.as_ref()
            .is_none_or(|keys| keys.iter().any(|k| k == key))
    };
    let mut report = Report::new();
    let wasm = find_wasm(&dist)?;

    // The product in production mode, against the emulator in its own process.
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let callback = format!("http://localhost:{port}/callback");
    let (client_id, secret) = (
        "bench-client".to_owned(),
        "bench-secret-0123456789".to_owned(),
    );
    let (_emulator, emulator_url) = start_emulator(&bin, &client_id, &secret, &callback)?;
    let env = BackendEnv {
        bin: bin.clone(),
        data_dir: work.join("data-main"),
        static_dir: dist.clone(),
        emulator_url: emulator_url.clone(),
        client_id: client_id.clone(),
        secret: secret.clone(),
        token_key: "q2nF0o5V6c8m1Zr3XbJt7kYp9wLs4HdE2uGa6iNe8xM=".into(),
        log: work.join("backend.log"),
        rust_log: None,
        extra: Vec::new(),
        callgrind: None,
    };
    let product = spawn_backend(&env, port)?;
    wait_healthy(port, Instant::now()).await?;

    // One signed-in session for the read scenario, and the bytes the baseline must send.
    let http = signin::client();
    let (_, cookie) =
        signin::one(&http, &Target::Product { base: base.clone() }, "octocat").await?;
    let cookie = cookie.context("sign-in gave no cookie")?;
    let bodies = work.join("baseline-bodies");
    std::fs::create_dir_all(&bodies)?;
    let me = http
        .get(format!("{base}/api/me"))
        .header("cookie", &cookie)
        .send()
        .await?;
    write_headers(&bodies.join("me.headers"), me.headers())?;
    let me = me.bytes().await?;
    let signed_out = http.get(format!("{base}/api/me")).send().await?;
    write_headers(&bodies.join("signed-out.headers"), signed_out.headers())?;
    let signed_out = signed_out.bytes().await?;
    let index = http.get(format!("{base}/")).send().await?;
    write_headers(&bodies.join("index.headers"), index.headers())?;
    let index = index.bytes().await?;
    std::fs::write(bodies.join("me.json"), &me)?;
    std::fs::write(bodies.join("signed-out.json"), &signed_out)?;
    std::fs::write(bodies.join("index.html"), &index)?;
    std::fs::write(bodies.join("page.html"), pageload::STATIC_PAGE)?;
    std::fs::write(bodies.join("page-sized.html"), pageload::STATIC_PAGE_SIZED)?;
    std::fs::write(
        bodies.join("app.wasm.gz"),
        gzip(&std::fs::read(dist.join(&wasm))?)?,
    )?;
    let baseline_port = free_port();
    let baseline = spawn_baseline(&bin, &bodies, baseline_port)?;
    wait_healthy(baseline_port, Instant::now()).await?;
    let bare = format!("http://127.0.0.1:{baseline_port}");
    // The same product with logging off, on the same database, to measure what the
    // request span and log filter cost.
    let quiet_port = free_port();
    let quiet_env = BackendEnv {
        rust_log: Some("warn".into()),
        log: work.join("backend-quiet.log"),
        ..env.clone()
    };
    let quiet = spawn_backend(&quiet_env, quiet_port)?;
    wait_healthy(quiet_port, Instant::now()).await?;
    let quiet_base = format!("http://127.0.0.1:{quiet_port}");
    // The same product with metrics on (METRICS_ADDR), to measure what recording costs.
    // Every instance names the main one's origin, which the emulator has registered.
    let public_url = ("PUBLIC_URL".to_owned(), format!("http://localhost:{port}"));
    let metrics_env = BackendEnv {
        log: work.join("backend-metrics.log"),
        extra: vec![
            public_url.clone(),
            ("METRICS_ADDR".into(), free_port().to_string()),
        ],
        ..env.clone()
    };
    let (metrics_proc, metrics_base, metrics_cookie) = signed_in_instance(&metrics_env).await?;
    // The product on SQLite with the session cache off: every read from the database,
    // as a deployment that turns the cache off for strict cross-instance sign-out pays.
    let sqlite_uncached_env = BackendEnv {
        data_dir: work.join("data-uncached"),
        log: work.join("backend-uncached.log"),
        extra: vec![
            public_url.clone(),
            ("SESSION_CACHE_ENTRIES".into(), "0".into()),
        ],
        ..env.clone()
    };
    let (sqlite_uncached_proc, sqlite_uncached_base, sqlite_uncached_cookie) =
        signed_in_instance(&sqlite_uncached_env).await?;

    // Several-instance stores: sessions in Redis, users in PostgreSQL (throw-away
    // servers of our own), with the session cache following Redis invalidations, and
    // without any cache.
    let redis = servers::RedisServer::start();
    let postgres = servers::PostgresServer::start();
    let database_url = postgres.new_database().await;
    let redis_env = BackendEnv {
        data_dir: work.join("data-redis"),
        log: work.join("backend-redis.log"),
        extra: vec![
            public_url.clone(),
            ("SESSION_STORE".into(), redis.url()),
            ("DATABASE_URL".into(), database_url.clone()),
        ],
        ..env.clone()
    };
    let (redis_proc, redis_base, redis_cookie) = signed_in_instance(&redis_env).await?;
    let mut uncached_env = BackendEnv {
        log: work.join("backend-redis-uncached.log"),
        ..redis_env.clone()
    };
    uncached_env
        .extra
        .push(("SESSION_CACHE_ENTRIES".into(), "0".into()));
    let (uncached_proc, uncached_base, _) = signed_in_instance(&uncached_env).await?;

    // HTTP scenarios, alternating product and baseline.
    let cookie_header = format!("Cookie: {cookie}");
    let metrics_cookie = format!("Cookie: {metrics_cookie}");
    let redis_cookie = format!("Cookie: {redis_cookie}");
    let sqlite_uncached_cookie = format!("Cookie: {sqlite_uncached_cookie}");
    // Key, title, the product's process (its CPU time is read), product URL, baseline URL,
    // request headers.
    type Scenario<'a> = (&'a str, &'a str, &'a Proc, String, String, Vec<&'a str>);
    let scenarios: [Scenario; 9] = [
        (
            "me",
            "Session read: GET /api/me, signed in",
            &product,
            format!("{base}/api/me"),
            format!("{bare}/api/me"),
            vec![cookie_header.as_str()],
        ),
        (
            "me_quiet",
            "Session read with logging off (RUST_LOG=warn): GET /api/me",
            &quiet,
            format!("{quiet_base}/api/me"),
            format!("{bare}/api/me"),
            vec![cookie_header.as_str()],
        ),
        (
            "me_metrics",
            "Session read with metrics on (METRICS_ADDR): GET /api/me",
            &metrics_proc,
            format!("{metrics_base}/api/me"),
            format!("{bare}/api/me"),
            vec![metrics_cookie.as_str()],
        ),
        (
            "me_uncached",
            "Session read on SQLite, no session cache (SESSION_CACHE_ENTRIES=0): GET /api/me",
            &sqlite_uncached_proc,
            format!("{sqlite_uncached_base}/api/me"),
            format!("{bare}/api/me"),
            vec![sqlite_uncached_cookie.as_str()],
        ),
        (
            "me_redis",
            "Session read on Redis + PostgreSQL, cache invalidated through Redis: GET /api/me",
            &redis_proc,
            format!("{redis_base}/api/me"),
            format!("{bare}/api/me"),
            vec![redis_cookie.as_str()],
        ),
        (
            "me_redis_uncached",
            "Session read on Redis + PostgreSQL, no session cache: GET /api/me",
            &uncached_proc,
            format!("{uncached_base}/api/me"),
            format!("{bare}/api/me"),
            vec![redis_cookie.as_str()],
        ),
        (
            "signed_out",
            "Signed out: GET /api/me, no cookie (401)",
            &product,
            format!("{base}/api/me"),
            format!("{bare}/signed-out"),
            vec![],
        ),
        (
            "index",
            "Static: GET / (index.html)",
            &product,
            format!("{base}/"),
            format!("{bare}/"),
            vec![],
        ),
        (
            "wasm",
            "Static: GET the .wasm, gzip",
            &product,
            format!("{base}/{wasm}"),
            format!("{bare}/app.wasm"),
            vec!["Accept-Encoding: gzip"],
        ),
    ];
    for (key, title, server, product_url, baseline_url, headers) in &scenarios {
        if !wanted(key) {
            continue;
        }
        eprintln!("bench: {title}");
        let mut ours = Vec::new();
        let mut theirs = Vec::new();
        for _ in 0..ROUNDS {
            ours.push(wrk::measure(product_url, headers, server)?);
            theirs.push(wrk::measure(baseline_url, headers, &baseline)?);
        }
        report.http(key, title, &ours, &theirs);
    }
    drop(quiet);
    drop(metrics_proc);
    drop(sqlite_uncached_proc);
    drop(uncached_proc);

    // The Node peer: the Express BFF a team would write instead, in memory and on Redis.
    if wanted("peer") {
        eprintln!("bench: the Node peer (Express 5 + express-session)");
        let root = std::env::current_dir()?;
        let me_json = bodies.join("me.json");
        let memory_port = free_port();
        let _memory = peer::spawn(&root, memory_port, &me_json, "memory", None)?;
        wait_healthy(memory_port, Instant::now()).await?;
        let redis_port = free_port();
        let _on_redis = peer::spawn(&root, redis_port, &me_json, "redis", Some(&redis.url()))?;
        wait_healthy(redis_port, Instant::now()).await?;
        let memory_url = format!("http://127.0.0.1:{memory_port}");
        let redis_url = format!("http://127.0.0.1:{redis_port}");
        let memory_cookie = peer::sign_in(&memory_url).await?;
        let redis_cookie = peer::sign_in(&redis_url).await?;
        let (mut ours, mut memory, mut on_redis, mut bare_me) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..ROUNDS {
            ours.push(wrk::run(
                &format!("{base}/api/me"),
                &[cookie_header.as_str()],
            )?);
            memory.push(wrk::run(
                &format!("{memory_url}/api/me"),
                &[memory_cookie.as_str()],
            )?);
            on_redis.push(wrk::run(
                &format!("{redis_url}/api/me"),
                &[redis_cookie.as_str()],
            )?);
            bare_me.push(wrk::run(
                &format!("{bare}/api/me"),
                &[cookie_header.as_str()],
            )?);
        }
        report.peer(&ours, &memory, &on_redis, &bare_me);
    }

    // Upstream APIs: the same small upstream behind the BFF (identity token), behind a
    // bare actix-web reverse proxy, and called directly.
    if wanted("api") || wanted("api_upload") || wanted("websocket") {
        eprintln!("bench: upstream API");
        let upstream_port = free_port();
        let _upstream = apis::spawn(&bin, "upstream", &[&upstream_port.to_string(), "1"])?;
        wait_healthy(upstream_port, Instant::now()).await?;
        let upstream = format!("http://127.0.0.1:{upstream_port}");
        let proxy_port = free_port();
        let proxy = apis::spawn(
            &bin,
            "bare_proxy",
            &[&proxy_port.to_string(), &upstream, "2"],
        )?;
        wait_healthy(proxy_port, Instant::now()).await?;
        let api_env = BackendEnv {
            log: work.join("backend-api.log"),
            extra: vec![
                public_url.clone(),
                (
                    "CONFIG_FILE".into(),
                    apis::config(&work, &upstream)?.display().to_string(),
                ),
            ],
            ..env.clone()
        };
        let (api_proc, api_base, api_cookie) = signed_in_instance(&api_env).await?;
        let api_cookie_header = format!("Cookie: {api_cookie}");
        if wanted("api") {
            let (mut ours, mut bare, mut direct) = (Vec::new(), Vec::new(), Vec::new());
            // The proxies' own CPU per request (the upstream's is the same for both).
            for _ in 0..ROUNDS {
                ours.push(wrk::measure(
                    &format!("{api_base}/api/bench/item"),
                    &[api_cookie_header.as_str()],
                    &api_proc,
                )?);
                bare.push(wrk::measure(
                    &format!("http://127.0.0.1:{proxy_port}/item"),
                    &[],
                    &proxy,
                )?);
                direct.push(wrk::run(&format!("{upstream}/item"), &[])?);
            }
            report.http(
                "api",
                "Upstream API: GET /api/bench/item through the BFF (identity token attached) vs a bare actix-web reverse proxy",
                &ours,
                &bare,
            );
            report.http(
                "api_direct",
                "Upstream API: the same GET through the BFF vs the upstream called directly",
                &ours,
                &direct,
            );
        }
        if wanted("api_upload") {
            let (grown_kib, each) = apis::upload_growth(
                &api_proc,
                &format!("{api_base}/api/bench/upload"),
                &api_cookie,
            )
            .await?;
            report.upload(grown_kib, each);
        }
        if wanted("websocket") {
            let ws = |base: &str| base.replacen("http://", "ws://", 1);
            let origin = public_url.1.clone();
            let (mut ours, mut bare, mut direct) = (Vec::new(), Vec::new(), Vec::new());
            for _ in 0..ROUNDS {
                ours.extend(
                    apis::round_trips(
                        &format!("{}/api/bench/ws", ws(&api_base)),
                        &[("cookie", api_cookie.clone()), ("origin", origin.clone())],
                    )
                    .await?,
                );
                bare.extend(
                    apis::round_trips(&format!("ws://127.0.0.1:{proxy_port}/ws"), &[]).await?,
                );
                direct.extend(apis::round_trips(&format!("{}/ws", ws(&upstream)), &[]).await?);
            }
            report.websocket(&ours, &bare, &direct);
        }
        drop(api_proc);
    }

    if wanted("instructions") {
        eprintln!("bench: instructions per request (callgrind)");
        let counted_env = BackendEnv {
            extra: vec![public_url.clone()],
            ..env.clone()
        };
        report.instructions(&count_instructions(&counted_env, &bin, &bodies, &work).await?);
    }

    if wanted("pageload") {
        eprintln!("bench: page load in Chromium");
        // The public origin the emulator has registered, as the browser tests use it.
        let baseline = format!("http://localhost:{baseline_port}");
        // The bare wasm app (`BENCH_BARE_APP`, built by `cargo xtask bench`) on a backend
        // of its own, configured as the product is but for the SPA it serves.
        let bare_app = match std::env::var_os("BENCH_BARE_APP") {
            Some(dir) => {
                let bare_app_port = free_port();
                let bare_app_env = BackendEnv {
                    data_dir: work.join("data-bare-app"),
                    static_dir: PathBuf::from(dir),
                    log: work.join("backend-bare-app.log"),
                    ..env.clone()
                };
                let proc = spawn_backend(&bare_app_env, bare_app_port)?;
                wait_healthy(bare_app_port, Instant::now()).await?;
                Some((proc, format!("http://localhost:{bare_app_port}/")))
            }
            None => None,
        };
        let pages = pageload::BaselinePages {
            page: format!("{baseline}/page"),
            sized: format!("{baseline}/page-sized"),
            sized_same_headers: format!("{baseline}/page-sized-same-headers"),
            bare_app: bare_app.as_ref().map(|(_, url)| url.clone()),
        };
        let loads = pageload::run(&format!("http://localhost:{port}"), &pages).await?;
        drop(bare_app);
        report.page_load(&loads);
    }

    // Sign-in throughput, with the provider round trips alone as the baseline.
    eprintln!("bench: sign-in throughput");
    let provider = Target::Provider {
        emulator: emulator_url.clone(),
        client_id: client_id.clone(),
        secret: secret.clone(),
        callback,
    };
    if wanted("signin") {
        let (ours, theirs) = sign_in_rounds(&base, &provider).await?;
        report.sign_in("signin", "Sign-in throughput", &ours, &theirs);
    }
    let signed_in_store = report::store_bytes(&env.data_dir.join("bff.sqlite3")).await?;
    drop(product);

    if wanted("signin_redis") {
        eprintln!("bench: sign-in throughput on Redis + PostgreSQL");
        let (ours, theirs) = sign_in_rounds(&redis_base, &provider).await?;
        report.sign_in(
            "signin_redis",
            "Sign-in throughput on Redis (sessions) + PostgreSQL (users)",
            &ours,
            &theirs,
        );
    }
    drop(redis_proc);
    drop(postgres);
    drop(redis);

    if only.is_some() {
        // A partial run: print what was measured, leave the record alone.
        report.print_summary();
        return Ok(());
    }

    // Memory and store space with many live sessions (a fresh instance).
    eprintln!("bench: memory");
    let mem_env = BackendEnv {
        data_dir: work.join("data-memory"),
        log: work.join("backend-memory.log"),
        ..env
    };
    let mem_port = free_port();
    let mem = spawn_backend(&mem_env, mem_port)?;
    wait_healthy(mem_port, Instant::now()).await?;
    let mem_base = format!("http://127.0.0.1:{mem_port}");
    let _ = http
        .get(format!("{mem_base}/api/auth/providers"))
        .send()
        .await?;
    let idle_kib = mem.rss_kib()?;
    let empty_store = report::store_bytes(&mem_env.data_dir.join("bff.sqlite3")).await?;
    let mut rows = Vec::new();
    let mut created = 0;
    for target in SESSION_COUNTS {
        created += report::create_sessions(&mem_base, target - created).await?;
        let store = report::store_bytes(&mem_env.data_dir.join("bff.sqlite3")).await?;
        rows.push((target, mem.rss_kib()?, store));
    }
    report.memory(idle_kib, empty_store, &rows, signed_in_store);
    drop(mem);

    // Start-up: exec to the first 200 on /healthz.
    eprintln!("bench: start-up");
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..STARTS {
        let p = free_port();
        let started = Instant::now();
        let proc = spawn_backend(&mem_env, p)?;
        ours.push(wait_healthy(p, started).await?);
        drop(proc);
        let p = free_port();
        let started = Instant::now();
        let proc = spawn_baseline(&bin, &bodies, p)?;
        theirs.push(wait_healthy(p, started).await?);
        drop(proc);
    }
    report.startup(&ours, &theirs);

    report.bundle(&dist, &wasm)?;
    if let Some(path) = micro {
        report.micro(&std::fs::read_to_string(path)?);
    }
    report.write(&out)?;
    report.print_summary();
    Ok(())
}

/// Instructions per request under callgrind for the product (a signed-in read, the
/// signed-out 401, `index.html`), the bare handler answering the same bodies, and the
/// bare handler answering with the product's headers too.
async fn count_instructions(
    env: &BackendEnv,
    bin: &Path,
    bodies: &Path,
    work: &Path,
) -> anyhow::Result<Vec<instructions::Row>> {
    let dumps = work.join("callgrind");
    let _ = std::fs::remove_dir_all(&dumps);
    std::fs::create_dir_all(&dumps)?;
    let counted_env = BackendEnv {
        data_dir: work.join("data-callgrind"),
        log: work.join("backend-callgrind.log"),
        callgrind: Some(dumps.join("product")),
        ..env.clone()
    };
    // The processes live to the end of this function; `Counted` names them by pid.
    let (mut ours_proc, base, cookie) = signed_in_instance(&counted_env).await?;
    let ours = instructions::Counted {
        pid: ours_proc.child().context("the product stopped")?.id(),
        out: dumps.join("product"),
    };
    let (_bare_proc, theirs, bare_base) =
        counted_baseline(bin, bodies, &dumps, "bare", false).await?;
    let (_same_proc, same, same_base) = counted_baseline(bin, bodies, &dumps, "same", true).await?;
    let mut rows = Vec::new();
    for (key, what, path, bare_path, signed_in, status) in [
        (
            "me",
            "`GET /api/me`, signed in",
            "/api/me",
            "/api/me",
            true,
            200,
        ),
        (
            "signed_out",
            "`GET /api/me`, no cookie (401)",
            "/api/me",
            "/signed-out",
            false,
            401,
        ),
        ("index", "`GET /` (`index.html`)", "/", "/", false, 200),
    ] {
        let headers: &[(&str, &str)] = if signed_in {
            &[("cookie", cookie.as_str())]
        } else {
            &[]
        };
        let product = ours
            .per_request(&format!("{base}{path}"), headers, status)
            .await?;
        let baseline = theirs
            .per_request(&format!("{bare_base}{bare_path}"), &[], status)
            .await?;
        let same_bytes = same
            .per_request(&format!("{same_base}{bare_path}"), &[], status)
            .await?;
        rows.push(instructions::Row {
            key,
            what,
            product,
            bare: baseline,
            same_bytes,
        });
    }
    Ok(rows)
}

/// The bare handler under callgrind on a free port, its dumps named `name` in `dumps`
/// (with the product's headers too when `same_headers`): the process, its counter and its
/// base URL.
async fn counted_baseline(
    bin: &Path,
    bodies: &Path,
    dumps: &Path,
    name: &str,
    same_headers: bool,
) -> anyhow::Result<(procs::Proc, instructions::Counted, String)> {
    let port = free_port();
    let out = dumps.join(name);
    let mut proc = spawn_baseline_as(bin, bodies, port, Some(&out), same_headers)?;
    wait_healthy(port, Instant::now()).await?;
    let counted = instructions::Counted {
        pid: proc.child().context("the bare handler stopped")?.id(),
        out,
    };
    Ok((proc, counted, format!("http://127.0.0.1:{port}")))
}

/// Starts a product instance with `env` on a free port and signs one person in: the
/// process, its base URL and the session cookie.
async fn signed_in_instance(env: &BackendEnv) -> anyhow::Result<(procs::Proc, String, String)> {
    let port = free_port();
    let proc = spawn_backend(env, port)?;
    wait_healthy(port, Instant::now()).await?;
    let base = format!("http://127.0.0.1:{port}");
    let (_, cookie) = signin::one(
        &signin::client(),
        &Target::Product { base: base.clone() },
        "octocat",
    )
    .await?;
    Ok((proc, base, cookie.context("sign-in gave no cookie")?))
}

/// The product's answer headers, for the baseline that sends the same: all but those its
/// server writes itself (date, length, type, encoding) and the request id, which it makes
/// fresh for each answer.
fn write_headers(path: &Path, headers: &reqwest::header::HeaderMap) -> anyhow::Result<()> {
    let mut lines = String::new();
    for (name, value) in headers {
        if matches!(
            name.as_str(),
            "date" | "content-length" | "content-type" | "content-encoding" | "x-request-id"
        ) {
            continue;
        }
        lines.push_str(&format!("{name}: {}\n", value.to_str()?));
    }
    Ok(std::fs::write(path, lines)?)
}

fn find_wasm(dist: &Path) -> anyhow::Result<String> {
    std::fs::read_dir(dist)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .find(|n| n.ends_with(".wasm"))
        .context("no .wasm in dist/: build the SPA first")
}

pub fn gzip(bytes: &[u8]) -> anyhow::Result<Vec<u8>> {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    e.write_all(bytes)?;
    Ok(e.finish()?)
}

/// [`ROUNDS`] sign-in runs against the product at `base`, each followed by one against
/// the provider alone.
async fn sign_in_rounds(
    base: &str,
    provider: &Target,
) -> anyhow::Result<(Vec<signin::SignIns>, Vec<signin::SignIns>)> {
    let window = Duration::from_secs(SIGN_IN_SECONDS);
    let mut ours = Vec::new();
    let mut theirs = Vec::new();
    for _ in 0..ROUNDS {
        let product = Target::Product {
            base: base.to_owned(),
        };
        ours.push(signin::run(product, SIGN_IN_CONCURRENCY, window).await?);
        theirs.push(signin::run(provider.clone(), SIGN_IN_CONCURRENCY, window).await?);
    }
    Ok((ours, theirs))
}
