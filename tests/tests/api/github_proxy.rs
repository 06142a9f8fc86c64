//! `GET /api/github/{path}`: GitHub's answer with the token attached server-side, for
//! allow-listed paths only; nothing else reaches GitHub, and no cookie ever does.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::{assert_error, raw_http, spawn_app, spawn_app_with, status_of, Options};

#[tokio::test]
async fn an_allowed_path_gets_githubs_answer_with_safe_headers_only() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    let response = app.browser.get("/api/github/user/repos?per_page=2").await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    let link = headers["link"].to_str().unwrap();
    assert_eq!(
        link,
        "</api/github/user/repos?per_page=2&page=2>; rel=\"next\", </api/github/user/repos?per_page=2&page=2>; rel=\"last\"",
        "Link URLs point at the proxy"
    );
    assert_eq!(headers["x-ratelimit-limit"], "5000");
    assert!(headers["content-type"]
        .to_str()
        .unwrap()
        .starts_with("application/json"));
    assert!(
        !headers.contains_key("x-github-media-type"),
        "only listed headers come back"
    );
    assert_eq!(headers["cache-control"], "no-store");
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let repos: Value = response.json().await.unwrap();
    assert_eq!(repos.as_array().unwrap().len(), 2);
    assert_eq!(repos[0]["full_name"], "octocat/Hello-World");

    // The next page, by following the rewritten link.
    let page2: Value = app
        .browser
        .get("/api/github/user/repos?per_page=2&page=2")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page2[0]["name"], "git-consortium");

    // A conditional request is passed on, and GitHub's 304 comes back.
    let cached = app.browser.send(
        app.browser
            .raw()
            .get(app.url("/api/github/user/repos?per_page=2"))
            .header("if-none-match", &etag),
    );
    assert_eq!(cached.await.status(), 304);

    let repo: Value = app
        .browser
        .get("/api/github/repos/octocat/Hello-World")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(repo["stargazers_count"], 2800);
    let missing = app
        .browser
        .get("/api/github/repos/octocat/no-such-repo")
        .await;
    assert_eq!(
        missing.status(),
        404,
        "GitHub's own 404 comes back as it is"
    );
}

/// GitHub's pagination links for a repository's lists name it by id
/// (`/repositories/1296269/issues?page=2`); following them through the proxy reaches the
/// last page.
#[tokio::test]
async fn a_repositorys_issues_and_pulls_page_to_the_end_through_the_proxy() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    for (kind, expected) in [("issues", 7), ("pulls", 4)] {
        let mut next = Some(format!(
            "/api/github/repos/octocat/Hello-World/{kind}?per_page=2"
        ));
        let mut numbers = Vec::new();
        let mut pages = 0;
        while let Some(url) = next.take() {
            pages += 1;
            assert!(pages <= 10, "paging ends");
            let response = app.browser.get(&url).await;
            assert_eq!(response.status(), 200, "{url}");
            next = response
                .headers()
                .get("link")
                .map(|l| l.to_str().unwrap().to_owned())
                .and_then(|link| next_link(&link));
            if let Some(next) = &next {
                assert!(
                    next.starts_with("/api/github/repositories/1296269/"),
                    "{next}"
                );
            }
            let items: Value = response.json().await.unwrap();
            numbers.extend(
                items
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["number"].as_u64().unwrap()),
            );
        }
        let all: Vec<u64> = (1..=expected).rev().collect();
        assert_eq!(numbers, all, "every {kind} once, newest first");
        assert_eq!(pages, (expected as usize).div_ceil(2));
    }
}

/// The `rel="next"` URL of a `Link` header.
fn next_link(link: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (url, rel) = part.split_once(';')?;
        (rel.trim() == "rel=\"next\"").then(|| {
            url.trim()
                .trim_start_matches('<')
                .trim_end_matches('>')
                .to_owned()
        })
    })
}

#[tokio::test]
async fn anything_not_allowed_is_404_and_never_reaches_github() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    let cookie = app.browser.session_cookie().unwrap();
    let (before, _) = app.control().api_requests();
    for path in [
        "/api/github/user/emails",
        "/api/github/applications/x/token",
        "/api/github/repos/octocat/Hello-World/collaborators",
        "/api/github/repos/octocat/../../user/emails",
        "/api/github/repos/octocat/Hello-World%2F..%2F..%2Fuser%2Femails",
        "/api/github/user%2Frepos",
        "/api/github/user//repos",
        "/api/github/./user",
        "/api/github/",
        "/api/github",
        "/api/github/%75ser",
    ] {
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {}={cookie}\r\nConnection: close\r\n\r\n",
            backend::web::cookie::COOKIE_NAME
        );
        let answer = raw_http(app.port(), request.as_bytes()).await;
        assert_eq!(status_of(&answer), 404, "{path}: {answer}");
        assert!(
            answer.contains("\"error\":\"not_found\""),
            "{path}: {answer}"
        );
    }
    // Writes are not proxied either.
    for method in ["POST", "PUT", "PATCH", "DELETE"] {
        let request = app
            .browser
            .raw()
            .request(method.parse().unwrap(), app.url("/api/github/user"))
            .header("x-csrf", "1")
            .header("content-type", "application/json")
            .body("{}");
        let response = app.browser.send(request).await;
        assert_error(response, 404, "not_found").await;
    }
    assert_eq!(
        app.control().api_requests().0,
        before,
        "nothing reached GitHub"
    );
}

#[tokio::test]
async fn the_browsers_cookies_never_go_upstream() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    let request = app.browser.raw().get(app.url("/api/github/user")).header(
        "cookie",
        format!(
            "{}={}; other=1",
            backend::web::cookie::COOKIE_NAME,
            app.browser.session_cookie().unwrap()
        ),
    );
    let response = request.send().await.unwrap();
    assert_eq!(response.status(), 200);
    let user: Value = response.json().await.unwrap();
    assert_eq!(user["login"], "octocat");
    let (requests, with_cookies) = app.control().api_requests();
    assert!(requests > 0);
    assert_eq!(with_cookies, 0);
}

#[tokio::test]
async fn the_proxy_needs_a_session_and_refreshes_tokens_transparently() {
    let app = spawn_app_with(Options {
        expiring_tokens: true,
        ..Options::default()
    })
    .await;
    assert_error(
        app.browser.get("/api/github/user").await,
        401,
        "unauthenticated",
    )
    .await;
    app.browser.sign_in_as("octocat").await;
    app.advance_clocks(Duration::from_secs(8 * 3600 - 60));
    let user: Value = app
        .browser
        .get("/api/github/user")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(user["login"], "octocat");
    assert_eq!(app.control().refresh_grants(), 1);
}

#[tokio::test]
async fn a_revoked_grant_seen_through_the_proxy_ends_the_session() {
    let app = spawn_app().await;
    app.browser.sign_in_as("octocat").await;
    app.control().revoke_all_tokens();
    assert_error(
        app.browser.get("/api/github/user").await,
        401,
        "unauthenticated",
    )
    .await;
    assert_error(app.browser.get("/api/me").await, 401, "unauthenticated").await;
}

#[tokio::test]
async fn one_session_cannot_call_github_without_limit() {
    let app = spawn_app_with(Options {
        github_calls_per_min: Some(5),
        ..Options::default()
    })
    .await;
    app.browser.sign_in_as("octocat").await;
    for _ in 0..5 {
        assert_eq!(app.browser.get("/api/github/user").await.status(), 200);
    }
    let limited = app.browser.get("/api/me/repos").await;
    assert!(limited.headers().contains_key("retry-after"));
    assert_error(limited, 429, "rate_limited").await;
    // Another person's session has its own allowance.
    let other = app.new_browser();
    other.sign_in_as("hubot").await;
    assert_eq!(other.get("/api/github/user").await.status(), 200);
}

#[tokio::test]
async fn one_session_cannot_hold_many_github_calls_at_once() {
    let app = spawn_app_with(Options {
        github_calls_at_once: Some(2),
        ..Options::default()
    })
    .await;
    app.browser.sign_in_as("octocat").await;
    app.control().set_fault(
        emulator::Endpoint::Repos,
        emulator::Fault::Delay(Duration::from_millis(400)),
    );
    let calls = (0..6).map(|_| app.browser.get("/api/me/repos"));
    let statuses: Vec<u16> = futures_util::future::join_all(calls)
        .await
        .iter()
        .map(|r| r.status().as_u16())
        .collect();
    let served = statuses.iter().filter(|s| **s == 200).count();
    let refused = statuses.iter().filter(|s| **s == 429).count();
    assert_eq!((served, refused), (2, 4), "{statuses:?}");
    assert_eq!(app.browser.get("/api/me/repos").await.status(), 200);
}
