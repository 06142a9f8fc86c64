//! SECURITY.md's tables, checked: every test a row gives as proof is a test somewhere in
//! the workspace, and every file a row names exists. A renamed test or a moved module
//! otherwise leaves a row pointing at nothing, and the page claims a proof that no
//! longer runs.
//!
//! The rule is textual: in a table row, the last cell is the proof, and every
//! back-quoted `snake_case` name in it (one with an underscore) must be a function
//! marked as a test (`#[test]`, `#[tokio::test]`, `#[wasm_bindgen_test]`, ...). In the
//! other cells, every back-quoted path that starts with a workspace folder must exist.

use std::collections::BTreeSet;
use std::path::Path;

/// Folders whose Rust files may hold the cited tests, and with which cited paths start.
pub const FOLDERS: &[&str] = &[
    "backend", "shared", "frontend", "tests", "emulator", "testkit", "xtask", "bench",
];

/// The names of every test function in `text` (a Rust file).
pub fn tests_in(text: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut marked = false;
    for line in text.lines().map(str::trim) {
        if line.starts_with("#[") {
            marked |= line.contains("test]") || line.contains("test(");
            continue;
        }
        if line.starts_with("//") || line.is_empty() {
            continue;
        }
        if let Some(name) = fn_name(line) {
            if marked {
                found.push(name.to_owned());
            }
        }
        marked = false;
    }
    found
}

/// The function a line declares, if it declares one.
fn fn_name(line: &str) -> Option<&str> {
    let at = line.find("fn ")?;
    let before = &line[..at];
    let modifiers = before
        .split_whitespace()
        .all(|w| matches!(w, "pub" | "async" | "unsafe" | "const") || w.starts_with("pub("));
    if !modifiers {
        return None;
    }
    let rest = &line[at + 3..];
    let end = rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))?;
    Some(&rest[..end])
}

/// Back-quoted spans of `cell`.
fn quoted(cell: &str) -> impl Iterator<Item = &str> {
    cell.split('`').skip(1).step_by(2)
}

fn looks_like_test_name(s: &str) -> bool {
    s.contains('_')
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// What is wrong with `markdown`'s citations, given the workspace's test names and a way
/// to ask whether a path exists. One line per problem, naming the line of the page.
pub fn check(
    markdown: &str,
    tests: &BTreeSet<String>,
    exists: impl Fn(&str) -> bool,
) -> Vec<String> {
    let mut problems = Vec::new();
    for (number, line) in markdown.lines().enumerate() {
        let line = line.trim();
        if !line.starts_with('|') || line.starts_with("|---") {
            continue;
        }
        let cells: Vec<&str> = line.trim_matches('|').split('|').collect();
        let Some((proof, rest)) = cells.split_last() else {
            continue;
        };
        for name in quoted(proof).filter(|s| looks_like_test_name(s)) {
            if !tests.contains(name) {
                problems.push(format!(
                    "SECURITY.md:{}: `{name}` is not a test in the workspace",
                    number + 1
                ));
            }
        }
        for path in rest.iter().flat_map(|cell| quoted(cell)).filter(|s| {
            FOLDERS
                .iter()
                .any(|f| s.strip_prefix(f).is_some_and(|r| r.starts_with('/')))
        }) {
            if !exists(path) {
                problems.push(format!(
                    "SECURITY.md:{}: `{path}` does not exist",
                    number + 1
                ));
            }
        }
    }
    problems
}

/// Every test name in the Rust files under `dir` (skipping `target`).
pub fn collect_tests(dir: &Path, into: &mut BTreeSet<String>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "target") {
                continue;
            }
            collect_tests(&path, into)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            into.extend(tests_in(&text));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_functions_marked_as_tests_count() {
        let text = "
            #[test]
            fn plain() {}
            #[tokio::test]
            /// doc
            async fn with_runtime() {}
            #[wasm_bindgen_test]
            pub async fn in_browser() {}
            #[derive(Debug)]
            struct S;
            fn helper() {}
            #[cfg(test)]
            mod tests {}
            #[test]
            #[ignore]
            fn ignored_still_a_test() {}
            #[actix_web::test(flavor = \"x\")]
            async fn with_arguments() {}
        ";
        assert_eq!(
            tests_in(text),
            [
                "plain",
                "with_runtime",
                "in_browser",
                "ignored_still_a_test",
                "with_arguments"
            ]
        );
    }

    #[test]
    fn a_missing_test_or_file_is_named_with_its_line() {
        let page = "# Security\n\
            | requirement | where | proof (test) |\n\
            |---|---|---|\n\
            | cookie `Secure` | `backend/src/web/cookie.rs` | `the_cookie_is_secure`, `gone_test` (with `alg: none`) |\n\
            | other | `backend/src/moved.rs`, `$PUBLIC_URL/callback` | - |\n\
            Prose with `not_a_row` is not checked.\n";
        let tests: BTreeSet<String> = ["the_cookie_is_secure".to_owned()].into();
        let problems = check(page, &tests, |p| p == "backend/src/web/cookie.rs");
        assert_eq!(
            problems,
            [
                "SECURITY.md:4: `gone_test` is not a test in the workspace",
                "SECURITY.md:5: `backend/src/moved.rs` does not exist",
            ]
        );
    }
}
