//! The built SPA (`cargo xtask spa`), held in memory: gzip made once at start-up, long caching for
//! hashed assets, `no-cache` for `index.html`, and the CSP that goes with it.
//!
//! The page starts the app with an inline `<script type="module">`; the CSP allows exactly
//! that script by its SHA-256 hash, computed here from the built file, never
//! `'unsafe-inline'`.
//!
//! `index.html` is served with the answer of `GET /api/auth/providers` written into it, as
//! a JSON data block (`<script type="application/json" id="providers">`, which no browser
//! runs): the sign-in page shows its buttons without a request first. That answer is
//! configuration, fixed for the life of the process, so the page stays one cached file.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::Path;

use actix_web::http::header::HeaderValue;
use actix_web::web;
use anyhow::Context;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use sha2::{Digest, Sha256};
use shared::api::PROVIDERS_ELEMENT_ID;

pub const INDEX: &str = "index.html";
const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Files smaller than this are not worth compressing.
const MIN_GZIP: usize = 1024;

pub struct Asset {
    pub body: web::Bytes,
    pub gzip: Option<web::Bytes>,
    /// The header values are made once, here: one built from text in the handler would be
    /// checked (and, from a `&str`, copied) on every response.
    pub content_type: HeaderValue,
    pub cache_control: HeaderValue,
    pub etag: HeaderValue,
}

/// The built SPA, in memory.
pub struct StaticAssets {
    files: HashMap<String, Asset>,
    /// The CSP sent with `index.html` (made once, as [`Asset`]'s header values).
    pub csp: HeaderValue,
}

impl StaticAssets {
    /// Loads every file of `dir` (`dist/`). `extra_img_src` lists origins avatars
    /// may come from; `providers` is `GET /api/auth/providers`'s JSON, written into
    /// `index.html`.
    pub fn load(dir: &Path, extra_img_src: &[String], providers: &[u8]) -> anyhow::Result<Self> {
        let mut files = HashMap::new();
        load_dir(dir, "", &mut files)?;
        let index = files.get(INDEX).with_context(|| {
            format!(
                "STATIC_DIR {} has no index.html (build the SPA first: cargo xtask spa)",
                dir.display()
            )
        })?;
        let html = std::str::from_utf8(&index.body).context("index.html is not UTF-8")?;
        let html = with_providers(html, providers)?;
        let csp = HeaderValue::from_str(&spa_csp(&html, extra_img_src))
            .context("the CSP is not a valid header value")?;
        files.insert(INDEX.to_owned(), asset(INDEX, html.into_bytes())?);
        Ok(Self { files, csp })
    }

    pub fn get(&self, path: &str) -> Option<&Asset> {
        self.files.get(path)
    }
}

fn load_dir(dir: &Path, prefix: &str, files: &mut HashMap<String, Asset>) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(dir)
        .with_context(|| format!("Failed to read STATIC_DIR {}", dir.display()))?
    {
        let entry = entry?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with('.') {
            continue;
        }
        let path = entry.path();
        let key = format!("{prefix}{name}");
        if entry.file_type()?.is_dir() {
            load_dir(&path, &format!("{key}/"), files)?;
            continue;
        }
        let body =
            std::fs::read(&path).with_context(|| format!("Failed to read {}", path.display()))?;
        files.insert(key, asset(&name, body)?);
    }
    Ok(())
}

/// The file `name` with `body`: its gzip, ETag and header values, made once.
fn asset(name: &str, body: Vec<u8>) -> anyhow::Result<Asset> {
    let content_type = content_type(name);
    let compressible = !content_type.starts_with("image/") || content_type == "image/svg+xml";
    let gzip = (compressible && body.len() >= MIN_GZIP)
        .then(|| gzip(&body))
        .transpose()?;
    let cache_control = if is_hashed(name) {
        IMMUTABLE
    } else {
        "no-cache"
    };
    let etag = HeaderValue::from_str(&format!("\"{}\"", &hex(&Sha256::digest(&body))[..16]))
        .context("an ETag is not a valid header value")?;
    Ok(Asset {
        body: body.into(),
        gzip: gzip.map(Into::into),
        content_type: HeaderValue::from_static(content_type),
        cache_control: HeaderValue::from_static(cache_control),
        etag,
    })
}

/// `html` with `json` as the data block the SPA reads its sign-in options from, at the
/// end of `<head>`. Every `<` becomes `\u003c` (the same JSON), so no name in the
/// configuration can close the block early.
fn with_providers(html: &str, json: &[u8]) -> anyhow::Result<String> {
    let json = std::str::from_utf8(json).context("the providers' JSON is not UTF-8")?;
    let at = html
        .find("</head>")
        .context("index.html has no </head> to put the sign-in options before")?;
    let block = format!(
        "<script type=\"application/json\" id=\"{PROVIDERS_ELEMENT_ID}\">{}</script>\n",
        json.replace('<', "\\u003c")
    );
    Ok(format!("{}{block}{}", &html[..at], &html[at..]))
}

fn gzip(body: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(body)?;
    Ok(encoder.finish()?)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The build names files `name-<hash>.ext`; those never change, so cache them forever.
fn is_hashed(name: &str) -> bool {
    let stem = name.split('.').next().unwrap_or("");
    let stem = stem.strip_suffix("_bg").unwrap_or(stem);
    stem.rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() >= 12 && hash.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" | "webmanifest" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The SPA's CSP: scripts only from us plus the exact inline loader(s) the page has.
pub fn spa_csp(index_html: &str, extra_img_src: &[String]) -> String {
    let hashes: String = inline_scripts(index_html)
        .map(|script| {
            format!(
                " 'sha256-{}'",
                STANDARD.encode(Sha256::digest(script.as_bytes()))
            )
        })
        .collect();
    let img: String = extra_img_src.iter().map(|o| format!(" {o}")).collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         img-src 'self' https://avatars.githubusercontent.com{img}; connect-src 'self'; \
         font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// Bodies of the `<script>` elements a browser runs inline: without a `src` attribute,
/// and not JSON data blocks (which the CSP has no need to allow).
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attrs, after) = rest.split_once('>')?;
        if attrs.contains("src=") || attrs.contains("application/json") {
            return None;
        }
        Some(after.split_once("</script>")?.0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csp_allows_exactly_the_inline_loader() {
        let html = "<head><script type=\"module\">import init from '/a.js';</script><script src=\"/x.js\"></script></head>";
        let csp = spa_csp(html, &[]);
        let expected = STANDARD.encode(Sha256::digest(b"import init from '/a.js';"));
        assert!(csp.contains(&format!("'sha256-{expected}'")), "{csp}");
        assert_eq!(csp.matches("'sha256-").count(), 1);
        assert!(!csp.contains("unsafe-inline"));
        assert!(csp.contains("frame-ancestors 'none'"));
    }

    #[test]
    fn the_sign_in_options_go_into_the_head_and_cannot_close_their_block() {
        let html = "<html><head><title>t</title></head><body><script>x</script></body></html>";
        let json = br#"{"providers":[{"id":"x","name":"</script><script>alert(1)//"}]}"#;
        let page = with_providers(html, json).unwrap();
        let head = page.split("</head>").next().unwrap();
        let block = head
            .split_once(r#"<script type="application/json" id="providers">"#)
            .expect("the block is in the head")
            .1;
        let (content, _) = block.split_once("</script>").unwrap();
        assert!(!content.contains('<'), "{content}");
        let parsed: serde_json::Value = serde_json::from_str(content).unwrap();
        assert_eq!(
            parsed["providers"][0]["name"], "</script><script>alert(1)//",
            "the same JSON once parsed"
        );
        assert_eq!(page.matches("</script>").count(), 2);
        assert!(with_providers("<html><body></body></html>", b"{}").is_err());
    }

    #[test]
    fn the_csp_leaves_json_data_blocks_out() {
        let html = with_providers(
            "<head><script type=\"module\">import init from '/a.js';</script></head>",
            b"{}",
        )
        .unwrap();
        assert_eq!(spa_csp(&html, &[]).matches("'sha256-").count(), 1);
    }

    #[test]
    fn hashed_names_are_recognised() {
        assert!(is_hashed("frontend-5f90bd49c8d6787_bg.wasm"));
        assert!(is_hashed("frontend-5f90bd49c8d6787.js"));
        assert!(is_hashed("style-cf1a268286f9cfc.css"));
        assert!(is_hashed("frontend-735f94e21bf54bd4_bg.wasm"));
        assert!(!is_hashed("index.html"));
        assert!(!is_hashed("robots.txt"));
        assert!(!is_hashed("my-app.js"));
    }
}
