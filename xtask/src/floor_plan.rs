//! The backend's floor plan, checked: rooms (the top-level modules of `backend/src`)
//! import only rooms on a lower floor, never around a circle; only `web` and `app` name
//! actix; only `store` names a database driver; and inside a room, its parts (the files
//! and folders under the room's `mod.rs`) import each other without a circle. A room's
//! `mod.rs` is its front door: its parts may use what it re-exports, and it declares them.
//!
//! A small lexer rather than a Rust parser: it drops comments, strings and character
//! literals, then reads every `crate::`, `super::` and `self::` path (braced `use`
//! groups included) and every path that starts with a crate name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Floors, lowest first. A room imports rooms on lower floors; on its own floor only
/// where no circle forms.
pub const FLOORS: &[&[&str]] = &[
    &[
        "clock",
        "config",
        "crypto",
        "device",
        "metrics",
        "per_thread",
        "telemetry",
    ],
    &["store"],
    &["users", "audit"],
    &["session", "providers"],
    &["auth"],
    &["web"],
    &["app"],
];

/// External crates only some rooms may name.
const FENCED: &[(&str, &[&str])] = &[
    ("actix_web", &["web", "app"]),
    ("actix_http", &["web", "app"]),
    ("actix_server", &["web", "app"]),
    ("actix_ws", &["web", "app"]),
    ("sqlx", &["store"]),
    ("rusqlite", &["store"]),
    ("redis", &["store"]),
];

/// One file of the tree: its module path and its text.
pub struct Source {
    pub file: PathBuf,
    pub module: Vec<String>,
    pub text: String,
}

/// Reads every `.rs` file under `src` (the crate root is `lib.rs`; `main.rs` is left
/// out: it is the program, outside the plan).
pub fn read_tree(src: &Path) -> Result<Vec<Source>, String> {
    let mut sources = Vec::new();
    walk(src, src, &mut sources)?;
    sources.sort_by(|a, b| a.file.cmp(&b.file));
    Ok(sources)
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<Source>) -> Result<(), String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for entry in entries {
        let path = entry.map_err(|e| e.to_string())?.path();
        if path.is_dir() {
            walk(root, &path, out)?;
        } else if path.extension().is_some_and(|e| e == "rs") {
            let relative = path.strip_prefix(root).map_err(|e| e.to_string())?;
            if relative == Path::new("main.rs") {
                continue;
            }
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            out.push(Source {
                module: module_of(relative),
                file: path,
                text,
            });
        }
    }
    Ok(())
}

/// `a/b.rs` is `a::b`, `a/mod.rs` is `a`, `lib.rs` the crate root.
fn module_of(relative: &Path) -> Vec<String> {
    let mut parts: Vec<String> = relative
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_owned());
    }
    parts
}

/// Checks the plan; each problem is one line naming the file and line.
pub fn check(sources: &[Source]) -> Vec<String> {
    // The parts of each room: every module one level below it (a file, or a folder).
    let parts: BTreeSet<(String, String)> = sources
        .iter()
        .filter(|s| s.module.len() >= 2)
        .map(|s| (s.module[0].clone(), s.module[1].clone()))
        .collect();
    let floor_of = |room: &str| FLOORS.iter().position(|f| f.contains(&room));
    let mut problems = Vec::new();
    let mut room_edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut part_edges: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    let mut first_seen: BTreeMap<(String, String), String> = BTreeMap::new();

    for source in sources {
        let Some(room) = source.module.first().cloned() else {
            continue; // lib.rs: declares the rooms.
        };
        let place = |line: usize| format!("{}:{line}", source.file.display());
        if floor_of(&room).is_none() {
            problems.push(format!(
                "{}: room `{room}` is on no floor of the plan (xtask/src/floor_plan.rs)",
                place(1)
            ));
            continue;
        }
        let tokens = lex(&source.text);
        for reference in references(&tokens) {
            match reference.kind {
                Kind::External(name) => {
                    if let Some((_, allowed)) = FENCED.iter().find(|(c, _)| *c == name) {
                        if !allowed.contains(&room.as_str()) {
                            problems.push(format!(
                                "{}: room `{room}` names `{name}`, which only {} may",
                                place(reference.line),
                                allowed.join(" and ")
                            ));
                        }
                    }
                }
                Kind::Internal(path) => {
                    let here = [source.module.clone(), reference.inline].concat();
                    let target = resolve(&here, &path);
                    let Some(to_room) = target.first() else {
                        continue;
                    };
                    if *to_room != room {
                        let (from, to) = (floor_of(&room), floor_of(to_room));
                        match (from, to) {
                            (Some(f), Some(t)) if t > f => problems.push(format!(
                                "{}: room `{room}` imports `{to_room}`, a room above it (`{}`)",
                                place(reference.line),
                                target.join("::")
                            )),
                            (_, None) => problems.push(format!(
                                "{}: `{}` names no room of the plan",
                                place(reference.line),
                                target.join("::")
                            )),
                            _ => {}
                        }
                        if room_edges
                            .entry(room.clone())
                            .or_default()
                            .insert(to_room.clone())
                        {
                            first_seen
                                .insert((room.clone(), to_room.clone()), place(reference.line));
                        }
                        continue;
                    }
                    // Inside the room: between its parts, the front door left out.
                    let part = |module: &[String]| {
                        module
                            .get(1)
                            .filter(|p| parts.contains(&(room.clone(), (*p).clone())))
                            .cloned()
                    };
                    if let (Some(from), Some(to)) = (part(&source.module), part(&target)) {
                        if from != to {
                            part_edges
                                .entry((room.clone(), from.clone()))
                                .or_default()
                                .insert(to.clone());
                            first_seen
                                .entry((format!("{room}::{from}"), format!("{room}::{to}")))
                                .or_insert_with(|| place(reference.line));
                        }
                    }
                }
            }
        }
    }

    for circle in circles(&room_edges) {
        let at = first_seen
            .get(&(circle[0].clone(), circle[1].clone()))
            .cloned()
            .unwrap_or_default();
        problems.push(format!(
            "{at}: rooms import each other in a circle: {}",
            circle.join(" -> ")
        ));
    }
    let mut by_room: BTreeMap<String, BTreeMap<String, BTreeSet<String>>> = BTreeMap::new();
    for ((room, from), to) in part_edges {
        by_room.entry(room.clone()).or_default().insert(
            format!("{room}::{from}"),
            to.into_iter().map(|t| format!("{room}::{t}")).collect(),
        );
    }
    for edges in by_room.values() {
        for circle in circles(edges) {
            let at = first_seen
                .get(&(circle[0].clone(), circle[1].clone()))
                .cloned()
                .unwrap_or_default();
            problems.push(format!(
                "{at}: files import each other in a circle: {}",
                circle.join(" -> ")
            ));
        }
    }
    problems.sort();
    problems
}

/// Every circle of the graph, once each, as `a -> b -> ... -> a`.
fn circles(edges: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    let mut found: Vec<Vec<String>> = Vec::new();
    let mut seen_sets: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    for start in edges.keys() {
        let mut stack = vec![(start.clone(), vec![start.clone()])];
        while let Some((node, path)) = stack.pop() {
            for next in edges.get(&node).into_iter().flatten() {
                if next == start {
                    let members: BTreeSet<String> = path.iter().cloned().collect();
                    if seen_sets.insert(members) {
                        let mut circle = path.clone();
                        circle.push(start.clone());
                        found.push(circle);
                    }
                } else if !path.contains(next) && next > start {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next.clone(), longer));
                }
            }
        }
    }
    found
}

/// `path` (as written in `module`) as a path from the crate root.
fn resolve(module: &[String], path: &[String]) -> Vec<String> {
    let mut base: Vec<String> = match path.first().map(String::as_str) {
        Some("crate") => Vec::new(),
        _ => module.to_vec(),
    };
    let mut rest = path.iter().peekable();
    if rest.peek().is_some_and(|p| *p == "crate") {
        rest.next();
    }
    for segment in rest {
        match segment.as_str() {
            "super" => {
                base.pop();
            }
            "self" => {}
            other => base.push(other.to_owned()),
        }
    }
    base
}

enum Kind {
    /// `crate::…`, `super::…`, `self::…`, as segments.
    Internal(Vec<String>),
    /// A path that starts with an external crate's name.
    External(String),
}

struct Reference {
    kind: Kind,
    line: usize,
    /// The inline modules (`mod tests { … }`) the reference sits in.
    inline: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
enum Token {
    Ident(String),
    /// `::`
    Path,
    Punct(char),
}

/// Identifiers, `::` and punctuation with their line, comments and literals dropped.
fn lex(text: &str) -> Vec<(Token, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let (mut i, mut line) = (0, 1);
    let at = |i: usize| chars.get(i).copied().unwrap_or('\0');
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\n' => {
                line += 1;
                i += 1;
            }
            '/' if at(i + 1) == '/' => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            '/' if at(i + 1) == '*' => {
                let mut depth = 0;
                while i < chars.len() {
                    if chars[i] == '/' && at(i + 1) == '*' {
                        depth += 1;
                        i += 2;
                    } else if chars[i] == '*' && at(i + 1) == '/' {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        line += usize::from(chars[i] == '\n');
                        i += 1;
                    }
                }
            }
            'r' if at(i + 1) == '"' || (at(i + 1) == '#' && matches!(at(i + 2), '"' | '#')) => {
                // A raw string: r"…", r#"…"#.
                let mut hashes = 0;
                i += 1;
                while at(i) == '#' {
                    hashes += 1;
                    i += 1;
                }
                i += 1;
                loop {
                    if i >= chars.len() {
                        break;
                    }
                    if chars[i] == '"' && (0..hashes).all(|h| at(i + 1 + h) == '#') {
                        i += 1 + hashes;
                        break;
                    }
                    line += usize::from(chars[i] == '\n');
                    i += 1;
                }
            }
            '"' => {
                i += 1;
                while i < chars.len() && chars[i] != '"' {
                    if chars[i] == '\\' {
                        i += 1;
                    }
                    line += usize::from(at(i) == '\n');
                    i += 1;
                }
                i += 1;
            }
            '\'' => {
                // A character literal ('a', '\n', '\u{1F600}') or a lifetime ('a).
                if at(i + 1) == '\\' {
                    i += 2;
                    while i < chars.len() && chars[i] != '\'' {
                        i += 1;
                    }
                    i += 1;
                } else if at(i + 2) == '\'' {
                    i += 3;
                } else {
                    i += 1;
                    while at(i).is_alphanumeric() || at(i) == '_' {
                        i += 1;
                    }
                }
            }
            ':' if at(i + 1) == ':' => {
                tokens.push((Token::Path, line));
                i += 2;
            }
            c if c.is_alphabetic() || c == '_' => {
                let start = i;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                tokens.push((Token::Ident(word), line));
            }
            c if c.is_whitespace() => i += 1,
            c => {
                tokens.push((Token::Punct(c), line));
                i += 1;
            }
        }
    }
    tokens
}

/// Every path reference in `tokens`.
fn references(tokens: &[(Token, usize)]) -> Vec<Reference> {
    let mut found = Vec::new();
    // Inline modules open around the current token, with the brace depth inside each.
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0;
    let mut i = 0;
    while i < tokens.len() {
        let after_path = i > 0 && tokens[i - 1].0 == Token::Path;
        match &tokens[i] {
            (Token::Punct('{'), _) => depth += 1,
            (Token::Punct('}'), _) => {
                if inline.last().is_some_and(|(_, d)| *d == depth) {
                    inline.pop();
                }
                depth -= 1;
            }
            (Token::Ident(word), line) => {
                if word == "mod" {
                    if let (Some((Token::Ident(name), _)), Some((Token::Punct('{'), _))) =
                        (tokens.get(i + 1), tokens.get(i + 2))
                    {
                        inline.push((name.clone(), depth + 1));
                    }
                }
                let starts_path = tokens.get(i + 1).is_some_and(|(t, _)| *t == Token::Path);
                let is_use = i > 0 && tokens[i - 1].0 == Token::Ident("use".into());
                if !after_path && matches!(word.as_str(), "crate" | "super" | "self") && starts_path
                {
                    let mut paths = Vec::new();
                    i = read_path(tokens, i, Vec::new(), &mut paths);
                    let context: Vec<String> = inline.iter().map(|(n, _)| n.clone()).collect();
                    found.extend(paths.into_iter().map(|path| Reference {
                        kind: Kind::Internal(path),
                        line: *line,
                        inline: context.clone(),
                    }));
                    continue;
                }
                if !after_path && (starts_path || is_use) && FENCED.iter().any(|(c, _)| c == word) {
                    found.push(Reference {
                        kind: Kind::External(word.clone()),
                        line: *line,
                        inline: Vec::new(),
                    });
                }
            }
            _ => {}
        }
        i += 1;
    }
    found
}

/// Reads the path starting at `i` (after `prefix`), groups included; returns the index
/// after it.
fn read_path(
    tokens: &[(Token, usize)],
    mut i: usize,
    mut prefix: Vec<String>,
    found: &mut Vec<Vec<String>>,
) -> usize {
    loop {
        match tokens.get(i) {
            Some((Token::Ident(word), _)) => {
                prefix.push(word.clone());
                i += 1;
                if tokens.get(i).is_some_and(|(t, _)| *t == Token::Path) {
                    i += 1;
                    continue;
                }
                found.push(prefix);
                return i;
            }
            Some((Token::Punct('{'), _)) => {
                i += 1;
                loop {
                    match tokens.get(i) {
                        Some((Token::Punct('}'), _)) => return i + 1,
                        Some((Token::Punct(','), _)) => i += 1,
                        Some((Token::Ident(_), _)) => {
                            i = read_path(tokens, i, prefix.clone(), found);
                            // `as name`
                            if tokens
                                .get(i)
                                .is_some_and(|(t, _)| *t == Token::Ident("as".into()))
                            {
                                i += 2;
                            }
                        }
                        Some((Token::Punct('*'), _)) => {
                            found.push(prefix.clone());
                            i += 1;
                        }
                        None => return i,
                        Some(_) => i += 1,
                    }
                }
            }
            _ => {
                if !prefix.is_empty() {
                    found.push(prefix);
                }
                return i;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[(&str, &str)]) -> Vec<Source> {
        files
            .iter()
            .map(|(path, text)| Source {
                file: PathBuf::from(path),
                module: module_of(Path::new(path)),
                text: text.to_string(),
            })
            .collect()
    }

    #[test]
    fn a_tree_that_keeps_the_plan_passes() {
        let problems = check(&tree(&[
            ("lib.rs", "pub mod web; pub mod session; pub mod store;"),
            (
                "web/mod.rs",
                "use actix_web::HttpResponse;\nuse crate::session::{Sessions, Found as F};",
            ),
            (
                "web/routes/me.rs",
                "use crate::web::extract::SignedIn; use super::super::error::ApiError;",
            ),
            (
                "web/extract.rs",
                "use super::error::ApiError; // crate::app::X in a comment",
            ),
            (
                "web/error.rs",
                "use crate::store::StoreError; const S: &str = \"crate::app::Y\";",
            ),
            (
                "session/mod.rs",
                "use crate::store::{self, Record};\nfn f<'a>(x: &'a str) -> char { 'x' }",
            ),
            (
                "store/mod.rs",
                "use sqlx::Row; use redis::Script; pub fn f() { crate::store::g(); }",
            ),
        ]));
        assert_eq!(problems, Vec::<String>::new());
    }

    #[test]
    fn an_import_from_a_room_above_is_refused() {
        let problems = check(&tree(&[
            ("session/mod.rs", "fn f() {}"),
            ("session/id.rs", "use crate::web::cookie::COOKIE;"),
            ("web/cookie.rs", "pub const COOKIE: &str = \"\";"),
        ]));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].starts_with("session/id.rs:1: room `session` imports `web`"));
    }

    #[test]
    fn a_driver_or_actix_outside_its_rooms_is_refused() {
        let problems = check(&tree(&[
            ("session/mod.rs", "fn f() {\n let x = sqlx::query(\"\"); }"),
            ("auth/mod.rs", "use actix_web::HttpRequest;"),
            (
                "store/mod.rs",
                "use crate::store::redis::Redis; use sqlx::Row;",
            ),
            ("store/redis.rs", "pub struct Redis;"),
        ]));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(problems[0].starts_with("auth/mod.rs:1: room `auth` names `actix_web`"));
        assert!(problems[1].starts_with("session/mod.rs:2: room `session` names `sqlx`"));
    }

    #[test]
    fn circles_between_rooms_and_between_files_are_refused() {
        let problems = check(&tree(&[
            ("users/mod.rs", "use crate::audit::Event;"),
            ("audit/mod.rs", "use crate::users::Users;"),
            ("web/csrf.rs", "use super::routes::webhooks::MAX;"),
            ("web/routes/webhooks.rs", "use crate::web::body::read;"),
            ("web/body.rs", "use crate::web::csrf::is_json;"),
            ("web/mod.rs", "pub mod csrf; pub mod body; pub mod routes;"),
        ]));
        assert_eq!(problems.len(), 2, "{problems:?}");
        assert!(
            problems[0].contains("rooms import each other in a circle: audit -> users -> audit")
        );
        assert!(problems[1].contains("files import each other in a circle: web::body -> web::csrf -> web::routes -> web::body"));
    }

    #[test]
    fn super_inside_an_inline_module_is_the_file_itself() {
        let problems = check(&tree(&[
            (
                "clock.rs",
                "pub fn now() {}\n#[cfg(test)]\nmod tests {\n use super::now;\n}",
            ),
            (
                "web/limit.rs",
                "mod tests { use super::*; use super::super::error::E; }",
            ),
            ("web/error.rs", "pub struct E;"),
        ]));
        assert_eq!(problems, Vec::<String>::new());
    }

    #[test]
    fn the_front_door_may_be_used_by_its_parts() {
        let problems = check(&tree(&[
            (
                "session/mod.rs",
                "mod cache; use self::cache::Cache; pub struct Session;",
            ),
            ("session/cache.rs", "use super::Session;"),
        ]));
        assert_eq!(problems, Vec::<String>::new());
    }

    #[test]
    fn the_backend_keeps_its_plan() {
        let src = crate::steps::root().join("backend/src");
        let problems = check(&read_tree(&src).unwrap());
        assert!(problems.is_empty(), "{}", problems.join("\n"));
    }
}
