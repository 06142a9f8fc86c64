//! The SPA build, in four plain steps and no bundler: cargo compiles the `.wasm`
//! (profile `wasm-release`), `wasm-bindgen` writes its JavaScript glue, `wasm-opt`
//! shrinks the module, and this file writes `dist/`: every asset under a name that
//! carries a hash of its bytes (the backend caches those forever), and `index.html`
//! with preload links, Subresource Integrity hashes and the small inline loader whose
//! hash the backend's CSP allows.
//!
//! Why not Trunk: compiling it took 3 to 4 of the 10 minutes a fresh machine waited for
//! its first page, to run these same four steps. The page `frontend/index.html` is the
//! template; the build adds the asset links before `</head>`. Skipped when nothing
//! changed since the last build.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256, Sha384};

use crate::steps::{self, root};
use crate::tools::WASM_TARGET;

/// Inputs of the SPA build; `dist/` is rebuilt when any is newer than it.
const INPUTS: &[&str] = &[
    "frontend",
    "shared",
    "Cargo.lock",
    "Cargo.toml",
    "xtask/src/frontend.rs",
];

/// The Cargo profile of the SPA (in the workspace's Cargo.toml: size over speed).
const PROFILE: &str = "wasm-release";

/// `wasm-opt` after `-Oz`: the features Rust's wasm32 target emits (binaryen refuses a
/// module using a feature it was not told of), and `--converge` (a few KB smaller).
const WASM_OPT_FLAGS: &[&str] = &[
    "--converge",
    "--enable-bulk-memory",
    "--enable-reference-types",
    "--enable-nontrapping-float-to-int",
    "--enable-sign-ext",
    "--enable-multivalue",
    "--enable-mutable-globals",
];

/// Builds `dist/` now.
pub fn build() -> Result<(), String> {
    start()?.finish()
}

/// The SPA's cargo build, started in the background (`None` when `dist/` is up to date).
/// It has a target folder of its own (`target/spa`), so it runs beside builds of the
/// backend instead of waiting for their lock; it shares nothing with them anyway (another
/// target and profile). Needs only the wasm target, not wasm-bindgen: [`Build::finish`]
/// does, once the caller has installed it.
pub struct Build(Option<steps::Background>);

pub fn start() -> Result<Build, String> {
    if up_to_date(&root().join("dist")) {
        println!("    ok: dist/ is up to date");
        return Ok(Build(None));
    }
    let target = spa_target_dir().display().to_string();
    let cargo = steps::Background::cargo(
        "the SPA's cargo build (wasm-release)",
        &wasm_build("frontend", &target),
        &[],
        "spa",
    )?;
    Ok(Build(Some(cargo)))
}

impl Build {
    /// Waits for cargo, then wasm-bindgen, wasm-opt and `dist/`.
    pub fn finish(self) -> Result<(), String> {
        let Some(cargo) = self.0 else {
            return Ok(());
        };
        cargo.wait()?;
        write_dist()
    }
}

fn write_dist() -> Result<(), String> {
    write_app(&App {
        package: "frontend",
        stem: "frontend",
        dist: root().join("dist"),
        padding: None,
    })
}

/// Where the page-load benchmark's bare wasm app is written (see [`build_bare_app`]).
const BARE_APP_DIR: &str = "target/bench-bare-app";

/// Builds the page-load benchmark's bare wasm app (`bench/bare-app`: it only puts up the
/// sign-in section) into [`BARE_APP_DIR`], through the same steps and with the same page
/// as the SPA, its module padded with the SPA's in `dist/` (so it downloads as much).
/// Needs `dist/`.
pub fn build_bare_app() -> Result<PathBuf, String> {
    let target = spa_target_dir().display().to_string();
    steps::cargo(&wasm_build("bench-bare-app", &target))?;
    let spa_module = std::fs::read_dir(root().join("dist"))
        .map_err(|e| format!("cannot read dist/: {e}"))?
        .filter_map(Result::ok)
        .map(|entry| entry.path())
        .find(|path| path.extension().is_some_and(|ext| ext == "wasm"))
        .ok_or("no .wasm in dist/: build the SPA first")?;
    let dist = root().join(BARE_APP_DIR);
    write_app(&App {
        package: "bench-bare-app",
        stem: "bare-app",
        dist: dist.clone(),
        padding: Some(read(&spa_module)?),
    })?;
    Ok(dist)
}

/// The arguments of `cargo` that build `package`'s binary of the same name for the
/// browser, in the SPA's profile and target folder.
fn wasm_build<'a>(package: &'a str, target_dir: &'a str) -> [&'a str; 11] {
    [
        "build",
        "-p",
        package,
        "--bin",
        package,
        "--target",
        WASM_TARGET,
        "--profile",
        PROFILE,
        "--target-dir",
        target_dir,
    ]
}

/// A wasm app built the SPA's way.
struct App {
    /// Its cargo package, whose binary has the same name.
    package: &'static str,
    /// The start of its files' names.
    stem: &'static str,
    /// The folder written (emptied first).
    dist: PathBuf,
    /// Bytes carried in the module as a custom section, which engines skip: the bare
    /// app's module downloads as large as the SPA's and compiles as small as it is.
    padding: Option<Vec<u8>>,
}

/// wasm-bindgen, wasm-opt, then `app.dist`: the hashed assets and `index.html`.
fn write_app(app: &App) -> Result<(), String> {
    let compiled = spa_target_dir()
        .join(WASM_TARGET)
        .join(PROFILE)
        .join(format!("{}.wasm", app.package));
    let name = format!("{}-{}", app.stem, short_hash(&read(&compiled)?));

    // wasm-bindgen writes `<stem>.js` and `<stem>_bg.wasm`; they are renamed below.
    // (Given the hashed name, the same module came out 2 KB larger after wasm-opt.)
    let stage = spa_target_dir().join(format!("stage-{}", app.stem));
    let _ = std::fs::remove_dir_all(&stage);
    std::fs::create_dir_all(&stage)
        .map_err(|e| format!("cannot create {}: {e}", stage.display()))?;
    steps::run(
        "wasm-bindgen",
        &[
            "--target",
            "web",
            "--no-typescript",
            "--out-dir",
            &stage.display().to_string(),
            "--out-name",
            app.stem,
            &compiled.display().to_string(),
        ],
    )?;
    let optimised = stage.join("optimised.wasm");
    let mut wasm_opt = vec!["-Oz"];
    wasm_opt.extend_from_slice(WASM_OPT_FLAGS);
    let input = stage
        .join(format!("{}_bg.wasm", app.stem))
        .display()
        .to_string();
    let output = optimised.display().to_string();
    wasm_opt.extend_from_slice(&[input.as_str(), "-o", output.as_str()]);
    steps::run("wasm-opt", &wasm_opt)?;
    let mut module = read(&optimised)?;
    if let Some(padding) = &app.padding {
        with_custom_section(&mut module, "padding", padding);
    }

    let assets = [
        Asset::hashed(root().join("frontend/favicon.svg"), "favicon", "svg")?,
        Asset::hashed(root().join("frontend/style.css"), "style", "css")?,
        Asset::named(
            format!("{name}.js"),
            read(&stage.join(format!("{}.js", app.stem)))?,
        ),
        Asset::named(format!("{name}_bg.wasm"), module),
    ];
    let template = std::fs::read_to_string(root().join("frontend/index.html"))
        .map_err(|e| format!("cannot read frontend/index.html: {e}"))?;
    let page = page(&template, &assets[0], &assets[1], &assets[2], &assets[3])?;

    let dist = &app.dist;
    let shown = dist.strip_prefix(root()).unwrap_or(dist).display();
    let _ = std::fs::remove_dir_all(dist);
    std::fs::create_dir_all(dist).map_err(|e| format!("cannot create {shown}/: {e}"))?;
    for asset in &assets {
        write(&dist.join(&asset.file), &asset.bytes)?;
    }
    // Written last: its time stamp says the whole folder is complete.
    write(&dist.join("index.html"), page.as_bytes())?;
    println!(
        "    {shown}/: {} and index.html",
        assets.map(|a| a.file).join(", ")
    );
    Ok(())
}

/// Appends a custom section (id 0: a name, then any bytes) to a wasm module.
fn with_custom_section(module: &mut Vec<u8>, name: &str, bytes: &[u8]) {
    let mut content = leb128(name.len());
    content.extend_from_slice(name.as_bytes());
    content.extend_from_slice(bytes);
    module.push(0);
    module.extend(leb128(content.len()));
    module.extend(content);
}

/// `n` as unsigned LEB128, the way wasm writes sizes.
fn leb128(mut n: usize) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return out;
        }
        out.push(byte | 0x80);
    }
}

/// One file of `dist/`.
struct Asset {
    file: String,
    bytes: Vec<u8>,
}

impl Asset {
    /// `source` copied as `<stem>-<hash>.<ext>`.
    fn hashed(source: PathBuf, stem: &str, ext: &str) -> Result<Self, String> {
        let bytes = read(&source)?;
        Ok(Self {
            file: format!("{stem}-{}.{ext}", short_hash(&bytes)),
            bytes,
        })
    }

    fn named(file: String, bytes: Vec<u8>) -> Self {
        Self { file, bytes }
    }

    /// The Subresource Integrity value of the bytes.
    fn integrity(&self) -> String {
        format!("sha384-{}", STANDARD.encode(Sha384::digest(&self.bytes)))
    }
}

/// `template` with the asset links added before `</head>`: the preloads first, so the
/// browser starts on the largest file (the `.wasm`) before it parses anything else; then
/// the icon, the stylesheet and the loader. The loader is inline (one request fewer);
/// the backend allows it in its CSP by hash.
fn page(
    template: &str,
    icon: &Asset,
    css: &Asset,
    js: &Asset,
    wasm: &Asset,
) -> Result<String, String> {
    let (head, rest) = template
        .split_once("</head>")
        .ok_or("frontend/index.html has no </head>")?;
    let links = format!(
        r#"    <link rel="preload" href="/{wasm_file}" as="fetch" type="application/wasm" crossorigin="anonymous" integrity="{wasm_sri}">
    <link rel="modulepreload" href="/{js_file}" crossorigin="anonymous" integrity="{js_sri}">
    <link rel="icon" href="/{icon_file}" type="image/svg+xml">
    <link rel="stylesheet" href="/{css_file}" integrity="{css_sri}">
    <script type="module">import init from '/{js_file}'; await init({{ module_or_path: '/{wasm_file}' }});</script>
"#,
        wasm_file = wasm.file,
        wasm_sri = wasm.integrity(),
        js_file = js.file,
        js_sri = js.integrity(),
        icon_file = icon.file,
        css_file = css.file,
        css_sri = css.integrity(),
    );
    Ok(format!("{head}{links}  </head>{rest}"))
}

/// 16 hex digits of the bytes' SHA-256: a name that changes whenever the file does.
fn short_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Passed to cargo as `--target-dir`, like the image's build folder: where the build
/// lands does not depend on `CARGO_TARGET_DIR`.
fn spa_target_dir() -> PathBuf {
    root().join("target/spa")
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn up_to_date(dist: &Path) -> bool {
    let Ok(built) = std::fs::metadata(dist.join("index.html")).and_then(|m| m.modified()) else {
        return false;
    };
    let newest = INPUTS
        .iter()
        .filter_map(|input| newest_mtime(&root().join(input)))
        .max();
    newest.is_some_and(|n| n <= built)
}

fn newest_mtime(path: &Path) -> Option<SystemTime> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_dir() {
        return meta.modified().ok();
    }
    std::fs::read_dir(path)
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|entry| newest_mtime(&entry.path()))
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asset(file: &str, bytes: &[u8]) -> Asset {
        Asset::named(file.into(), bytes.to_vec())
    }

    #[test]
    fn the_page_links_every_asset_with_its_integrity() {
        let template = "<html><head><title>t</title></head><body></body></html>";
        let wasm = asset("frontend-0123456789abcdef_bg.wasm", b"wasm");
        let page = page(
            template,
            &asset("favicon-aa.svg", b"svg"),
            &asset("style-bb.css", b"css"),
            &asset("frontend-0123456789abcdef.js", b"js"),
            &wasm,
        )
        .unwrap();
        assert!(page.starts_with("<html><head><title>t</title>"));
        assert!(page.ends_with("</head><body></body></html>"));
        assert!(page.contains(&format!("href=\"/frontend-0123456789abcdef_bg.wasm\" as=\"fetch\" type=\"application/wasm\" crossorigin=\"anonymous\" integrity=\"{}\"", wasm.integrity())));
        assert!(page.contains("import init from '/frontend-0123456789abcdef.js'; await init({ module_or_path: '/frontend-0123456789abcdef_bg.wasm' });"));
        assert!(
            page.contains("<link rel=\"stylesheet\" href=\"/style-bb.css\" integrity=\"sha384-")
        );
        // The preload comes before anything that could hold the parser up.
        assert!(page.find("rel=\"preload\"") < page.find("rel=\"stylesheet\""));
    }

    #[test]
    fn a_template_without_a_head_is_refused() {
        let a = asset("a", b"");
        assert!(page("<html></html>", &a, &a, &a, &a).is_err());
    }

    #[test]
    fn sizes_are_written_as_leb128() {
        assert_eq!(leb128(0), [0]);
        assert_eq!(leb128(127), [0x7f]);
        assert_eq!(leb128(128), [0x80, 0x01]);
        assert_eq!(leb128(624_485), [0xe5, 0x8e, 0x26]);
    }

    #[test]
    fn a_custom_section_follows_the_module() {
        let mut module = b"\0asm\x01\0\0\0".to_vec();
        with_custom_section(&mut module, "pad", &[7; 200]);
        // id 0, size (LEB128 of 1 + 3 + 200 = 204), the name's length and name, the bytes.
        assert_eq!(&module[8..14], &[0, 0xcc, 0x01, 3, b'p', b'a']);
        assert_eq!(module.len(), 8 + 3 + 204);
        assert!(module.ends_with(&[7; 200]));
    }

    #[test]
    fn hashes_name_the_bytes() {
        assert_eq!(short_hash(b"a").len(), 16);
        assert_ne!(short_hash(b"a"), short_hash(b"b"));
        assert_eq!(
            asset("x", b"").integrity(),
            "sha384-OLBgp1GsljhM2TJ+sbHjaiH9txEUvgdDTAzHv2P24donTt6/529l+9Ua0vFImLlb"
        );
    }
}
