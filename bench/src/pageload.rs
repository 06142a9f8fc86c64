//! Page load in headless Chromium, the Debian Chromium the browser tests drive (no browser
//! is downloaded). Each load is read from the page's own Performance timeline: the SPA
//! marks `app:sign-in-ready` when its sign-in buttons are on screen and
//! `app:dashboard-ready` when the dashboard is. The baseline is a static page with the
//! same visible text, served by the bare handler, that marks the same moment; and, when
//! `cargo xtask bench` built it, a bare wasm app loaded the way the SPA is.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::bail;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};
use testkit::chromium::{capabilities, stop_browsers_of, ChromeDriver};

/// The baselines: static pages on the bare handler, and the bare wasm app.
pub struct BaselinePages {
    /// [`STATIC_PAGE`].
    pub page: String,
    /// [`STATIC_PAGE_SIZED`].
    pub sized: String,
    /// [`STATIC_PAGE_SIZED`] with the product's document headers (among them
    /// `Cross-Origin-Opener-Policy`).
    pub sized_same_headers: String,
    /// The bare wasm app (`bench/bare-app`: plain DOM calls, no framework), served by a
    /// backend of its own with the SPA's page, loader, headers and download size, when
    /// `cargo xtask bench` built it (`BENCH_BARE_APP`): what any wasm app pays here.
    pub bare_app: Option<String>,
}

/// Loads per measurement; the report shows medians.
pub const LOADS: usize = 10;

pub const SIGN_IN_READY: &str = "app:sign-in-ready";
pub const DASHBOARD_READY: &str = "app:dashboard-ready";

/// The baseline page: the sign-in page's visible text, no script but the mark.
pub const STATIC_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Repo Desk</title></head><body><header><a href=\"/\">Repo Desk</a></header><main>\
<section><h1>Sign in</h1><p>See your profile, your repositories and your sessions in one \
place.</p><button>Sign in with GitHub</button></section></main>\
<script>performance.mark('app:sign-in-ready')</script></body></html>";

/// The baseline of the same size: the same static page, which also downloads the app's
/// `.wasm` (gzip, as the product serves it) before it marks. What separates the product
/// from it is the SPA's own work: compiling and starting the module, the providers
/// round trip, rendering.
pub const STATIC_PAGE_SIZED: &str =
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Repo Desk</title><link rel=\"preload\" href=\"/app.wasm\" as=\"fetch\" crossorigin>\
</head><body><header><a href=\"/\">Repo Desk</a></header><main>\
<section><h1>Sign in</h1><p>See your profile, your repositories and your sessions in one \
place.</p><button>Sign in with GitHub</button></section></main>\
<script>fetch('/app.wasm').then(r => r.arrayBuffer())\
.then(() => performance.mark('app:sign-in-ready'))</script></body></html>";

/// How long a running browser is left on `about:blank` before its cold load: long enough
/// for its start-up work to be over, so the load has the machine to itself.
const SETTLE: Duration = Duration::from_secs(1);

/// Waits for the mark, then reads the timeline: the mark's time, first contentful paint,
/// and bytes over the network (0 for what came from the cache).
const READ: &str = r#"
const [name, done] = [arguments[0], arguments[arguments.length - 1]];
const started = performance.now();
(function check() {
  const mark = performance.getEntriesByName(name, 'mark')[0];
  if (!mark) {
    if (performance.now() - started > 15000) return done(null);
    return setTimeout(check, 2);
  }
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = performance.getEntriesByName('first-contentful-paint')[0];
  const bytes = performance.getEntriesByType('resource')
    .reduce((sum, r) => sum + r.transferSize, nav ? nav.transferSize : 0);
  const timeline = performance.getEntriesByType('resource')
    .map(r => `${r.name.replace(location.origin, '')} ${r.startTime.toFixed(1)}-${r.responseEnd.toFixed(1)}`)
    .concat(performance.getEntriesByType('mark').map(m => `mark ${m.name} ${m.startTime.toFixed(1)}`))
    .concat(nav ? [`document ${nav.responseEnd.toFixed(1)} interactive ${nav.domInteractive.toFixed(1)}`] : [])
    .join('; ');
  done({ ready: mark.startTime, fcp: paint ? paint.startTime : mark.startTime, bytes, timeline });
})();
"#;

/// One page load.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub ready_ms: f64,
    pub fcp_ms: f64,
    pub bytes: f64,
}

/// Everything measured.
#[derive(Default)]
pub struct PageLoads {
    pub cold: Vec<Load>,
    pub warm: Vec<Load>,
    pub dashboard: Vec<Load>,
    pub baseline_cold: Vec<Load>,
    pub baseline_warm: Vec<Load>,
    /// Cold loads of [`STATIC_PAGE_SIZED`].
    pub sized_cold: Vec<Load>,
    /// The same, served with the product's document headers.
    pub sized_same_cold: Vec<Load>,
    /// Cold cache, in a browser that has been running for [`SETTLE`]: the product, the
    /// same-size page, and the same-size page with the product's document headers.
    pub running: Vec<Load>,
    pub running_sized: Vec<Load>,
    pub running_sized_same: Vec<Load>,
    /// Cold loads of the bare wasm app (none without it): in a fresh browser, in a
    /// running one.
    pub bare_app_cold: Vec<Load>,
    pub bare_app_running: Vec<Load>,
}

/// A browser with a profile of its own (an empty cache) on `driver`.
async fn browser(driver: &ChromeDriver, profile: &Path) -> anyhow::Result<Client> {
    Ok(
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities(profile))
            .connect(&driver.url())
            .await?,
    )
}

/// Opens `url` and reads the timeline once `mark` is set.
async fn load(client: &Client, url: &str, mark: &str) -> anyhow::Result<Load> {
    client.goto(url).await?;
    let value = client.execute_async(READ, vec![json!(mark)]).await?;
    let number = |key: &str| value.get(key).and_then(Value::as_f64);
    // `BENCH_TIMELINE=1`: when each file arrived, for finding where a load's time goes.
    if std::env::var_os("BENCH_TIMELINE").is_some() {
        eprintln!(
            "{url}: ready {:?} ms; {}",
            number("ready"),
            value.get("timeline").and_then(Value::as_str).unwrap_or("")
        );
    }
    match (number("ready"), number("fcp"), number("bytes")) {
        (Some(ready_ms), Some(fcp_ms), Some(bytes)) => Ok(Load {
            ready_ms,
            fcp_ms,
            bytes,
        }),
        _ => bail!("{url} never marked {mark}"),
    }
}

/// Where a cold load starts.
#[derive(Clone, Copy)]
enum Start {
    /// A browser started for the load: its own start-up runs on the same cores.
    Fresh,
    /// A browser left on `about:blank` for [`SETTLE`] first, as a person's browser is
    /// already running when they open the app.
    Running,
}

/// A load with an empty cache in a browser of its own, closed afterwards.
async fn cold_load(
    driver: &ChromeDriver,
    url: &str,
    mark: &str,
    start: Start,
) -> anyhow::Result<Load> {
    let profile = tempfile::tempdir()?;
    let client = browser(driver, profile.path()).await?;
    if let Start::Running = start {
        client.goto("about:blank").await?;
        tokio::time::sleep(SETTLE).await;
    }
    let result = load(&client, url, mark).await;
    client.close().await?;
    stop_browsers_of(profile.path());
    result
}

/// Signs in through the emulator's consent page in the browser.
async fn sign_in(client: &Client, base: &str) -> anyhow::Result<()> {
    client.goto(&format!("{base}/")).await?;
    let wait = Duration::from_secs(15);
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::XPath(
            "//button[normalize-space()='Sign in with GitHub']",
        ))
        .await?
        .click()
        .await?;
    client
        .wait()
        .at_most(wait)
        .for_element(Locator::Css("input[name=login][value=octocat]"))
        .await?
        .click()
        .await?;
    client
        .find(Locator::XPath("//button[normalize-space()='Authorize']"))
        .await?
        .click()
        .await?;
    let started = Instant::now();
    while client.current_url().await?.path() != "/dashboard" {
        if started.elapsed() > wait {
            bail!("the sign-in never reached the dashboard");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Ok(())
}

/// Measures the product at `base` (its public origin, `http://localhost:PORT`) and the
/// static pages at `pages`, alternating.
pub async fn run(base: &str, pages: &BaselinePages) -> anyhow::Result<PageLoads> {
    let driver = ChromeDriver::start().await?;
    let home = format!("{base}/");
    let mut loads = PageLoads::default();
    for _ in 0..LOADS {
        let mut round = vec![
            (&mut loads.cold, &home, Start::Fresh),
            (&mut loads.baseline_cold, &pages.page, Start::Fresh),
            (&mut loads.sized_cold, &pages.sized, Start::Fresh),
            (
                &mut loads.sized_same_cold,
                &pages.sized_same_headers,
                Start::Fresh,
            ),
            (&mut loads.running, &home, Start::Running),
            (&mut loads.running_sized, &pages.sized, Start::Running),
            (
                &mut loads.running_sized_same,
                &pages.sized_same_headers,
                Start::Running,
            ),
        ];
        if let Some(bare_app) = &pages.bare_app {
            round.push((&mut loads.bare_app_cold, bare_app, Start::Fresh));
            round.push((&mut loads.bare_app_running, bare_app, Start::Running));
        }
        for (list, url, start) in round {
            list.push(cold_load(&driver, url, SIGN_IN_READY, start).await?);
        }
    }

    let (ours, theirs) = (tempfile::tempdir()?, tempfile::tempdir()?);
    let product = browser(&driver, ours.path()).await?;
    let baseline = browser(&driver, theirs.path()).await?;
    // The first load fills each cache.
    load(&product, &home, SIGN_IN_READY).await?;
    load(&baseline, &pages.page, SIGN_IN_READY).await?;
    for _ in 0..LOADS {
        loads.warm.push(load(&product, &home, SIGN_IN_READY).await?);
        loads
            .baseline_warm
            .push(load(&baseline, &pages.page, SIGN_IN_READY).await?);
    }

    sign_in(&product, base).await?;
    let dashboard = format!("{base}/dashboard");
    for _ in 0..LOADS {
        loads
            .dashboard
            .push(load(&product, &dashboard, DASHBOARD_READY).await?);
    }
    product.close().await?;
    baseline.close().await?;
    stop_browsers_of(ours.path());
    stop_browsers_of(theirs.path());
    Ok(loads)
}
