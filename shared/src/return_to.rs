//! The `return_to` rule: a same-origin path or nothing (no open redirects). The BFF and
//! the SPA both use this one rule, as the [`ReturnTo`] type, for every navigation target
//! they did not make.

use serde::{Deserialize, Serialize};

/// Where to go after sign-in when no acceptable `return_to` was given.
pub const DEFAULT_RETURN_TO: &str = "/";

/// Longest `return_to` kept; longer values fall back to `/`.
const MAX_LEN: usize = 2048;
/// Layers of percent-encoding looked through: a value may be decoded once by the query
/// parser and again by a router before it reaches the browser's URL parser.
const DECODE_ROUNDS: usize = 3;

/// A navigation target that passed the rule when it was made: a safe same-origin path,
/// or `/`. Deserializing one applies the rule too, so no unchecked value can become one.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct ReturnTo(String);

impl ReturnTo {
    /// `candidate` if it is a safe same-origin path, otherwise `/`.
    pub fn new(candidate: Option<&str>) -> Self {
        Self(sanitize(candidate))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for `/`, what any refused value becomes.
    pub fn is_default(&self) -> bool {
        self.0 == DEFAULT_RETURN_TO
    }
}

impl From<String> for ReturnTo {
    fn from(candidate: String) -> Self {
        if is_safe(&candidate) {
            Self(candidate)
        } else {
            Self(DEFAULT_RETURN_TO.to_owned())
        }
    }
}

impl From<ReturnTo> for String {
    fn from(value: ReturnTo) -> Self {
        value.0
    }
}

/// True when the SPA may send the browser to `url`, a page of another origin the BFF
/// named (an identity provider's logout page): `https:` only, or plain `http:` to a
/// loopback host (the development setups). Never `javascript:`, `data:` or another
/// scheme, whoever sent it.
pub fn is_followable(url: &str) -> bool {
    if url.len() > MAX_LEN || url.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return false;
    }
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty() && !rest.starts_with('/');
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    if authority.contains('@') {
        return false;
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => authority.split(':').next().unwrap_or(""),
    };
    host.eq_ignore_ascii_case("localhost") || host == "::1" || host.starts_with("127.")
}

/// Returns `candidate` if it is a safe same-origin path, otherwise `/`.
///
/// Safe means, for the value as given and for each percent-decoding of it: starts with
/// exactly one `/`, contains no backslash (browsers treat `\` as `/`, so `/\evil.com` is
/// protocol-relative), no control characters or whitespace (browsers strip tabs and
/// newlines, so `/\t/evil.com` becomes `//evil.com`), and is not absurdly long.
pub fn sanitize(candidate: Option<&str>) -> String {
    match candidate {
        Some(path) if is_safe(path) => path.to_owned(),
        _ => DEFAULT_RETURN_TO.to_owned(),
    }
}

fn is_safe(path: &str) -> bool {
    if path.len() > MAX_LEN {
        return false;
    }
    if path.chars().any(char::is_whitespace) {
        return false;
    }
    let mut current = path.to_owned();
    for _ in 0..DECODE_ROUNDS {
        if !is_plain_safe(&current) {
            return false;
        }
        match percent_decode(&current) {
            Some(decoded) if decoded != current => current = decoded,
            Some(_) => return true,
            // Decodes to bytes that are not UTF-8: nothing a path of ours contains.
            None => return false,
        }
    }
    is_plain_safe(&current)
}

/// The checks every decoding must pass. (An encoded space is fine once decoded; raw
/// whitespace is refused above.)
fn is_plain_safe(path: &str) -> bool {
    path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(char::is_control)
}

/// `%XX` sequences decoded; malformed ones left as they are. `None` when the result is
/// not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            (b'%', Some(&h), Some(&l)) if hex(h).is_some() && hex(l).is_some() => {
                out.push((hex(h)? * 16 + hex(l)?) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::{is_followable, sanitize, ReturnTo};

    #[test]
    fn only_https_or_loopback_pages_are_followed() {
        for ok in [
            "https://idp.example.com/logout?client_id=a",
            "http://localhost:4000/session/end",
            "http://127.0.0.1:4000/session/end",
            "http://[::1]:4000/x",
        ] {
            assert!(is_followable(ok), "{ok}");
        }
        for bad in [
            "http://idp.example.com/logout",
            "http://localhost.evil.example/",
            "http://127.0.0.1@evil.example/",
            "javascript:alert(1)",
            "data:text/html,x",
            "https:///evil",
            "//evil.example",
            "/relative",
            "https://idp.example.com/\nlogout",
            " https://idp.example.com/",
        ] {
            assert!(!is_followable(bad), "{bad}");
        }
    }

    #[test]
    fn a_deserialized_return_to_has_passed_the_rule() {
        let kept: ReturnTo = serde_json::from_str(r#""/dashboard?x=1""#).unwrap();
        assert_eq!(kept.as_str(), "/dashboard?x=1");
        let refused: ReturnTo = serde_json::from_str(r#""//evil.example""#).unwrap();
        assert!(refused.is_default());
        assert_eq!(serde_json::to_string(&kept).unwrap(), r#""/dashboard?x=1""#);
    }

    #[test]
    fn same_origin_paths_are_kept() {
        for ok in [
            "/",
            "/dashboard",
            "/dashboard?tab=repos#top",
            "/a/b-c_d.e~f",
            "/search?q=a%20b",
            "/100%",
        ] {
            assert_eq!(sanitize(Some(ok)), ok);
        }
    }

    #[test]
    fn anything_else_becomes_root() {
        for bad in [
            "https://evil.com",
            "//evil.com",
            "/\\evil.com",
            "\\\\evil.com",
            "javascript:alert(1)",
            "evil.com",
            "",
            "/\tevil",
            "/ /evil.com",
            "/%2F/evil.com",
            "/%2f%2fevil.com",
            "/%5cevil.com",
            "/%5Cevil.example",
            "/%09/evil.example",
            "/%0a/evil.example",
            "/%252F%252Fevil.example",
            "/%255Cevil.example",
            "/%25252F/evil.example",
            "/%ff",
            " /dashboard",
            "http:/evil.com",
        ] {
            assert_eq!(sanitize(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(sanitize(None), "/");
        assert_eq!(sanitize(Some(&format!("/{}", "a".repeat(5000)))), "/");
    }
}
