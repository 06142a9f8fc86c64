//! The `return_to` rule: a same-origin path or nothing (no open redirects).

/// Where to go after sign-in when no acceptable `return_to` was given.
pub const DEFAULT_RETURN_TO: &str = "/";

/// Longest `return_to` kept; longer values fall back to `/`.
const MAX_LEN: usize = 2048;

/// Returns `candidate` if it is a safe same-origin path, otherwise `/`.
///
/// Safe means: starts with exactly one `/`, contains no backslash (browsers treat `\` as
/// `/`, so `/\evil.com` is protocol-relative), no control characters or whitespace, no
/// scheme, and is not absurdly long.
pub fn sanitize(candidate: Option<&str>) -> String {
    match candidate {
        Some(path) if is_safe(path) => path.to_owned(),
        _ => DEFAULT_RETURN_TO.to_owned(),
    }
}

fn is_safe(path: &str) -> bool {
    path.len() <= MAX_LEN
        && path.starts_with('/')
        && !path.starts_with("//")
        && !path.contains('\\')
        && !path.chars().any(|c| c.is_control() || c.is_whitespace())
        && !path.contains("/%2f")
        && !path.contains("/%2F")
        && !path.contains("%5c")
        && !path.contains("%5C")
}

#[cfg(test)]
mod tests {
    use super::sanitize;

    #[test]
    fn same_origin_paths_are_kept() {
        for ok in [
            "/",
            "/dashboard",
            "/dashboard?tab=repos#top",
            "/a/b-c_d.e~f",
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
            "/%5cevil.com",
            " /dashboard",
            "http:/evil.com",
        ] {
            assert_eq!(sanitize(Some(bad)), "/", "{bad:?}");
        }
        assert_eq!(sanitize(None), "/");
        assert_eq!(sanitize(Some(&format!("/{}", "a".repeat(5000)))), "/");
    }
}
