//! Which paths an upstream API receives: only what lies under its prefix, however it is
//! spelled. The raw path (not the router's decoded one) is checked segment by segment,
//! and anything that could climb out of the upstream's base path once some server along
//! the way decodes it is refused: `.` and `..` segments in any spelling (`%2e%2e`), an
//! encoded `/` or `\` (`%2F`, `%5C`), a backslash, an empty segment (`//`), control
//! characters, a malformed escape. What passes is forwarded exactly as the browser sent
//! it.

/// The part of `raw_path` after `/api/{prefix}` (empty, or starting with `/`), if it is
/// safe to append to the upstream's base path.
pub fn rest_of<'a>(raw_path: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = raw_path
        .strip_prefix("/api/")?
        .strip_prefix(prefix)
        .filter(|r| r.is_empty() || r.starts_with('/'))?;
    if rest.is_empty() {
        return Some(rest);
    }
    let segments: Vec<&str> = rest[1..].split('/').collect();
    let last = segments.len() - 1;
    for (i, segment) in segments.iter().enumerate() {
        // A trailing slash is a path of its own to many servers; an empty segment
        // anywhere else is a spelling trick.
        if segment.is_empty() && i != last {
            return None;
        }
        let decoded = decode(segment)?;
        if decoded == b"." || decoded == b".." {
            return None;
        }
        if decoded
            .iter()
            .any(|b| matches!(b, b'/' | b'\\') || b.is_ascii_control())
        {
            return None;
        }
    }
    Some(rest)
}

/// `segment` with its percent-escapes decoded, or `None` for a malformed escape.
fn decode(segment: &str) -> Option<Vec<u8>> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let text = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(text, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Some(out)
}

/// The upstream URL for `rest` (from [`rest_of`]) and the browser's raw query.
///
/// Built from a copy of the parsed base rather than from a string parsed anew: the
/// configuration refuses a user, a query or a fragment in an upstream URL, so only the
/// path and the query change, and parsing the scheme and host (IDNA included) again on
/// every request was about 2.5% of the proxy's CPU time (BENCHMARKS.md). The path and
/// query are percent-encoded exactly as a fresh parse would encode them.
pub fn target(base: &url::Url, rest: &str, query: Option<&str>) -> url::Url {
    let mut url = base.clone();
    let base_path = base.path().trim_end_matches('/');
    url.set_path(&format!("{base_path}{rest}"));
    url.set_query(query.filter(|q| !q.is_empty()));
    url
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_lies_under_the_prefix_passes_as_sent() {
        for (path, rest) in [
            ("/api/notes", ""),
            ("/api/notes/", "/"),
            ("/api/notes/1", "/1"),
            ("/api/notes/a/b.json", "/a/b.json"),
            ("/api/notes/caf%C3%A9", "/caf%C3%A9"),
            ("/api/notes/a%20b", "/a%20b"),
            ("/api/notes/...", "/..."),
            ("/api/team/v1/x", "/x"),
        ] {
            let prefix = if path.starts_with("/api/team") {
                "team/v1"
            } else {
                "notes"
            };
            assert_eq!(rest_of(path, prefix), Some(rest), "{path}");
        }
    }

    #[test]
    fn every_way_out_of_the_prefix_is_refused() {
        for path in [
            "/api/notesx",
            "/api/notes/..",
            "/api/notes/../me",
            "/api/notes/./x",
            "/api/notes/%2e%2e/me",
            "/api/notes/%2E%2E",
            "/api/notes/.%2e/x",
            "/api/notes/%2e",
            "/api/notes/a%2Fb",
            "/api/notes/a%2fb",
            "/api/notes/a%5Cb",
            "/api/notes/a\\b",
            "/api/notes//x",
            "/api/notes/x//y",
            "/api/notes/a%00b",
            "/api/notes/a%0ab",
            "/api/notes/a%zz",
            "/api/notes/a%2",
            "/api/other/x",
            "/notes/x",
        ] {
            assert_eq!(rest_of(path, "notes"), None, "{path}");
        }
    }

    #[test]
    fn the_target_joins_the_base_path_the_rest_and_the_query() {
        let base = url::Url::parse("http://127.0.0.1:4000/v1/").unwrap();
        let at = |base: &url::Url, rest: &str, query: Option<&str>| {
            let url = target(base, rest, query);
            // The same URL a fresh parse of its text gives.
            assert_eq!(url::Url::parse(url.as_str()).unwrap(), url);
            url.to_string()
        };
        assert_eq!(at(&base, "/x", None), "http://127.0.0.1:4000/v1/x");
        assert_eq!(
            at(&base, "/x", Some("a=1&b=%20")),
            "http://127.0.0.1:4000/v1/x?a=1&b=%20"
        );
        assert_eq!(at(&base, "", None), "http://127.0.0.1:4000/v1");
        let root = url::Url::parse("https://notes.example.com").unwrap();
        assert_eq!(at(&root, "", Some("")), "https://notes.example.com/");
        assert_eq!(at(&root, "/a", None), "https://notes.example.com/a");
        assert_eq!(
            at(&root, "/caf%C3%A9/a%20b", Some("q=%22x%22")),
            "https://notes.example.com/caf%C3%A9/a%20b?q=%22x%22"
        );
    }
}
