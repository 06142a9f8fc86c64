//! The emulator's HTML: the consent page and its error page, escaped by hand (five characters).

use actix_web::http::StatusCode;
use actix_web::HttpResponse;

use crate::fixtures::FIXTURE_USERS;

/// Reverses [`escape`].
fn unescape(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The hidden fields of a consent page as served, for scripts that submit the form the
/// way a browser would (tests, benchmarks). Names and values come back unescaped.
pub fn hidden_fields(page: &str) -> Vec<(String, String)> {
    page.split("<input type=\"hidden\" ")
        .skip(1)
        .filter_map(|rest| {
            let name = rest.strip_prefix("name=\"")?.split('"').next()?;
            let value = rest.split("value=\"").nth(1)?.split('"').next()?;
            Some((name.to_owned(), unescape(value)))
        })
        .collect()
}

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,Segoe UI,sans-serif;background:#f6f8fa;color:#1f2328;margin:0;padding:24px}\
main{max-width:420px;margin:40px auto;background:#fff;border:1px solid #d0d7de;border-radius:12px;padding:24px}\
h1{font-size:20px;margin:0 0 8px}.badge{display:inline-block;background:#fff8c5;border:1px solid #d4a72c;border-radius:999px;padding:2px 10px;font-size:12px;margin-bottom:12px}\
ul{padding-left:20px}label{display:block;padding:8px;border:1px solid #d0d7de;border-radius:8px;margin:6px 0}\
.buttons{display:flex;gap:8px;margin-top:16px}button{flex:1;padding:10px;border-radius:8px;border:1px solid #d0d7de;font-size:15px;cursor:pointer}\
button[value=approve]{background:#1f883d;color:#fff;border-color:#1f883d}";

fn page(status: StatusCode, title: &str, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action *; frame-ancestors 'none'"))
        .insert_header(("cache-control", "no-store"))
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>{}</title><style>{STYLE}</style></head><body><main>{body}</main></body></html>",
            escape(title)
        ))
}

/// The page shown for a request that must not redirect anywhere (bad client or redirect URI).
pub fn error_page(message: &str) -> HttpResponse {
    page(
        StatusCode::BAD_REQUEST,
        "Authorization error",
        &format!(
            "<span class=\"badge\">GitHub emulator</span><h1>Authorization error</h1><p id=\"error\">{}</p>",
            escape(message)
        ),
    )
}

/// Fields carried through the consent form unchanged.
pub struct ConsentForm<'a> {
    pub app_name: &'a str,
    pub hidden: &'a [(&'static str, &'a str)],
    pub scopes: &'a str,
    pub suggested_login: Option<&'a str>,
}

/// The consent page: app name, scopes, a user choice and "Authorize" / "Cancel".
pub fn consent_page(form: &ConsentForm<'_>) -> HttpResponse {
    let hidden: String = form
        .hidden
        .iter()
        .map(|(name, value)| {
            format!(
                "<input type=\"hidden\" name=\"{name}\" value=\"{}\">",
                escape(value)
            )
        })
        .collect();
    let scopes: String = form
        .scopes
        .split([' ', ','])
        .filter(|s| !s.is_empty())
        .map(|s| format!("<li><code>{}</code></li>", escape(s)))
        .collect();
    let selected = form.suggested_login.unwrap_or(FIXTURE_USERS[0].login);
    let users: String = FIXTURE_USERS
        .iter()
        .map(|u| {
            let checked = if u.login == selected { " checked" } else { "" };
            format!(
                "<label><input type=\"radio\" name=\"login\" value=\"{0}\"{checked}> {0}</label>",
                escape(u.login)
            )
        })
        .collect();
    page(
        StatusCode::OK,
        &format!("Authorize {}", form.app_name),
        &format!(
            "<span class=\"badge\">GitHub emulator: development provider</span>\
             <h1>Authorize {app}</h1>\
             <p>{app} wants to access your account.</p>\
             <form method=\"post\" action=\"/login/oauth/authorize\">{hidden}\
             <p>Requested scopes:</p><ul>{scopes}</ul>\
             <fieldset style=\"border:0;padding:0\"><legend>Sign in as</legend>{users}</fieldset>\
             <div class=\"buttons\"><button type=\"submit\" name=\"decision\" value=\"deny\">Cancel</button>\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Authorize</button></div></form>",
            app = escape(form.app_name),
        ),
    )
}

/// `GET /avatars/{login}.png`: a generated picture (an initial on a colour), like GitHub's
/// identicons, so avatars render in development without reaching the internet.
pub async fn avatar(file: actix_web::web::Path<String>) -> HttpResponse {
    let login = file.split('.').next().unwrap_or("");
    let initial = login.chars().next().unwrap_or('?').to_ascii_uppercase();
    let hue = login
        .bytes()
        .fold(0u32, |h, b| h.wrapping_mul(31).wrapping_add(b as u32))
        % 360;
    HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header(("cache-control", "public, max-age=3600"))
        .body(format!(
            "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 64 64\"><rect width=\"64\" height=\"64\" fill=\"hsl({hue},55%,45%)\"/><text x=\"32\" y=\"42\" font-family=\"sans-serif\" font-size=\"30\" text-anchor=\"middle\" fill=\"#fff\">{}</text></svg>",
            escape(&initial.to_string())
        ))
}

/// `GET /`: says what this server is.
pub async fn index() -> HttpResponse {
    page(
        StatusCode::OK,
        "GitHub emulator",
        "<h1>GitHub emulator</h1><p>A stand-in for github.com used in development and tests.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_fields_round_trip_through_the_page() {
        let page = consent_page(&ConsentForm {
            app_name: "App",
            hidden: &[("state", "a\"b<c>&'d"), ("scope", "read:user")],
            scopes: "read:user",
            suggested_login: None,
        });
        let body = actix_web::body::MessageBody::try_into_bytes(page.into_body()).unwrap();
        let fields = hidden_fields(std::str::from_utf8(&body).unwrap());
        assert_eq!(
            fields,
            [
                ("state".to_owned(), "a\"b<c>&'d".to_owned()),
                ("scope".to_owned(), "read:user".to_owned())
            ]
        );
    }

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;"
        );
    }
}
