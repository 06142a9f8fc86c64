//! Fixture users and repositories, shaped like GitHub's REST answers.

use serde_json::{json, Value};

/// A person who can "sign in" on the emulator's authorize page.
#[derive(Debug, Clone, Copy)]
pub struct FixtureUser {
    pub login: &'static str,
    pub id: i64,
    pub name: Option<&'static str>,
    /// Public profile email; `None` like a GitHub user who hides it.
    pub email: Option<&'static str>,
    /// Addresses `/user/emails` returns: (email, primary, verified).
    pub emails: &'static [(&'static str, bool, bool)],
    pub repos: &'static [FixtureRepo],
    /// Organisations they are an active member of (tests can change this).
    pub orgs: &'static [&'static str],
    /// Teams, as (organisation, team slug).
    pub teams: &'static [(&'static str, &'static str)],
}

/// One repository of a fixture user.
#[derive(Debug, Clone, Copy)]
pub struct FixtureRepo {
    pub id: i64,
    pub name: &'static str,
    pub description: Option<&'static str>,
    pub private: bool,
    pub stars: i64,
    pub updated_at: &'static str,
}

/// `octocat` has a public email; `hubot` has none and only an unverified address, which
/// is how the "no public email" path is exercised.
pub const FIXTURE_USERS: &[FixtureUser] = &[
    FixtureUser {
        login: "octocat",
        id: 583231,
        name: Some("The Octocat"),
        email: Some("octocat@github.com"),
        emails: &[("octocat@github.com", true, true)],
        repos: &[
            FixtureRepo {
                id: 1296269,
                name: "Hello-World",
                description: Some("My first repository on GitHub!"),
                private: false,
                stars: 2800,
                updated_at: "2026-11-20T10:00:00Z",
            },
            FixtureRepo {
                id: 1300192,
                name: "Spoon-Knife",
                description: Some("This repo is for demonstration purposes only."),
                private: false,
                stars: 12900,
                updated_at: "2026-11-18T09:30:00Z",
            },
            FixtureRepo {
                id: 18221276,
                name: "git-consortium",
                description: None,
                private: true,
                stars: 0,
                updated_at: "2026-10-02T16:45:00Z",
            },
        ],
        orgs: &["github", "octo-org"],
        teams: &[("github", "justice-league"), ("octo-org", "octo-team")],
    },
    FixtureUser {
        login: "hubot",
        id: 480938,
        name: None,
        email: None,
        emails: &[("hubot@example.com", true, false)],
        repos: &[FixtureRepo {
            id: 424242,
            name: "chatops",
            description: Some("Scripts <b>not</b> to be rendered as HTML"),
            private: false,
            stars: 42,
            updated_at: "2026-09-12T08:00:00Z",
        }],
        orgs: &["hubot-org"],
        teams: &[("hubot-org", "robots")],
    },
];

pub fn find(login: &str) -> Option<&'static FixtureUser> {
    FIXTURE_USERS
        .iter()
        .find(|u| u.login == login)
        .or_else(|| synthetic(login))
}

/// Logins `load-0` to `load-999999`: people made up on first use, so a load test can sign
/// in many distinct people (one person's sessions are capped by the BFF). They have no
/// email, repositories, organisations or teams. Each is made once and kept for the
/// emulator's life.
fn synthetic(login: &str) -> Option<&'static FixtureUser> {
    use std::collections::HashMap;
    use std::sync::{Mutex, OnceLock};
    let n: u32 = login.strip_prefix("load-")?.parse().ok()?;
    if n >= 1_000_000 || login != format!("load-{n}") {
        return None;
    }
    static MADE: OnceLock<Mutex<HashMap<u32, &'static FixtureUser>>> = OnceLock::new();
    let mut made = MADE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    Some(*made.entry(n).or_insert_with(|| {
        Box::leak(Box::new(FixtureUser {
            login: Box::leak(login.to_owned().into_boxed_str()),
            id: 50_000_000 + i64::from(n),
            name: None,
            email: None,
            emails: &[],
            repos: &[],
            orgs: &[],
            teams: &[],
        }))
    }))
}

pub fn user_json(user: &FixtureUser, base_url: &str) -> Value {
    json!({
        "login": user.login,
        "id": user.id,
        "node_id": format!("MDQ6VXNlcj{}", user.id),
        "avatar_url": format!("{base_url}/avatars/{}.png", user.login),
        "html_url": format!("{base_url}/{}", user.login),
        "type": "User",
        "site_admin": false,
        "name": user.name,
        "company": null,
        "blog": "",
        "location": null,
        "email": user.email,
        "bio": null,
        "public_repos": user.repos.iter().filter(|r| !r.private).count(),
        "created_at": "2011-01-25T18:44:36Z",
    })
}

pub fn emails_json(user: &FixtureUser) -> Value {
    Value::Array(
        user.emails
            .iter()
            .map(|(email, primary, verified)| {
                json!({"email": email, "primary": primary, "verified": verified, "visibility": if *primary { Some("public") } else { None }})
            })
            .collect(),
    )
}

/// One page of `/user/repos` (pages count from 1).
pub fn repos_json(user: &FixtureUser, base_url: &str, per_page: usize, page: usize) -> Value {
    Value::Array(
        user.repos
            .iter()
            .skip(per_page * page.saturating_sub(1))
            .take(per_page)
            .map(|r| repo_json(user, r, base_url))
            .collect(),
    )
}

pub fn repo_json(user: &FixtureUser, r: &FixtureRepo, base_url: &str) -> Value {
    json!({
        "id": r.id,
        "name": r.name,
        "full_name": format!("{}/{}", user.login, r.name),
        "html_url": format!("{base_url}/{}/{}", user.login, r.name),
        "description": r.description,
        "private": r.private,
        "fork": false,
        "stargazers_count": r.stars,
        "updated_at": r.updated_at,
        "owner": {"login": user.login, "id": user.id},
    })
}

/// The repository `owner/name`, if a fixture user has it.
pub fn find_repo(owner: &str, name: &str) -> Option<(&'static FixtureUser, &'static FixtureRepo)> {
    let user = find(owner)?;
    user.repos
        .iter()
        .find(|r| r.name == name)
        .map(|r| (user, r))
}

/// The fixture repository with GitHub's numeric id `id`.
pub fn find_repo_by_id(id: i64) -> Option<(&'static FixtureUser, &'static FixtureRepo)> {
    FIXTURE_USERS
        .iter()
        .find_map(|u| u.repos.iter().find(|r| r.id == id).map(|r| (u, r)))
}

/// How many issues and pull requests each fixture repository has: enough for a few pages
/// at a small `per_page`.
pub const ISSUES_PER_REPO: usize = 7;
pub const PULLS_PER_REPO: usize = 4;

/// Issue or pull request `number` of repository `r` (`kind` is `issues` or `pulls`).
pub fn issue_json(
    user: &FixtureUser,
    r: &FixtureRepo,
    kind: &str,
    number: usize,
    base_url: &str,
) -> Value {
    let path = if kind == "pulls" { "pull" } else { "issues" };
    json!({
        "number": number,
        "title": format!("{} {number} of {}", if kind == "pulls" { "Change" } else { "Issue" }, r.name),
        "state": "open",
        "html_url": format!("{base_url}/{}/{}/{path}/{number}", user.login, r.name),
        "user": {"login": user.login, "id": user.id},
    })
}

pub fn org_json(org: &str) -> Value {
    json!({
        "login": org,
        "id": org.bytes().fold(1000u64, |acc, b| acc * 31 + u64::from(b)) % 10_000_000,
        "url": format!("https://api.github.com/orgs/{org}"),
        "description": null,
    })
}

pub fn team_json(org: &str, slug: &str) -> Value {
    json!({
        "slug": slug,
        "name": slug.replace('-', " "),
        "organization": {"login": org},
    })
}
