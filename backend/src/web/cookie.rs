//! The session cookie: its name, its attributes, and reading it from a request.

use actix_web::cookie::{time::Duration as CookieDuration, Cookie, SameSite};
use actix_web::HttpRequest;

use crate::session::{key_from_cookie, Issued, SessionKey};

pub use shared::api::SESSION_COOKIE as COOKIE_NAME;

/// The value of our cookie in the request, as sent. A direct scan of the `Cookie` header's
/// bytes: this runs on every request, and parsing every cookie into a list first costs
/// more than the rest of a session read. Whether the value is one of our ids is
/// [`key_from_cookie`]'s to say (it must be 43 base64url characters); another site's
/// cookie with bytes outside ASCII on the same header does not hide ours.
pub fn session_cookie(req: &HttpRequest) -> Option<&[u8]> {
    req.headers()
        .get_all(actix_web::http::header::COOKIE)
        .find_map(|v| cookie_value(v.as_bytes()))
}

/// Our cookie's value in one `Cookie` header: the pairs are found with `memchr`, which
/// skips a long header's other cookies many bytes at a time.
fn cookie_value(header: &[u8]) -> Option<&[u8]> {
    let mut rest = header;
    loop {
        let end = memchr::memchr(b';', rest).unwrap_or(rest.len());
        let value = rest[..end]
            .trim_ascii_start()
            .strip_prefix(COOKIE_NAME.as_bytes())
            .and_then(|after| after.strip_prefix(b"="));
        if let Some(value) = value {
            return Some(value.trim_ascii_end());
        }
        rest = rest.get(end + 1..)?;
    }
}

/// The store key the request's cookie names, if it holds one of our ids.
pub fn session_key(req: &HttpRequest) -> Option<SessionKey> {
    session_cookie(req).and_then(key_from_cookie)
}

/// The cookie naming a new session, persistent for its lifetime so closing the browser
/// does not sign out (the server still enforces both timeouts).
pub fn session_cookie_for(issued: &Issued) -> Cookie<'static> {
    let mut cookie = base_cookie(issued.id.secret().to_owned());
    cookie.set_max_age(CookieDuration::seconds(issued.max_age_secs.max(0)));
    cookie
}

/// A cookie that makes the browser forget the session.
pub fn removal_cookie() -> Cookie<'static> {
    let mut cookie = base_cookie(String::new());
    cookie.make_removal();
    cookie
}

/// `SameSite=Strict`: the cookie never rides on a request another site started. The
/// sign-in still works: the provider's redirect lands on the SPA's `/callback` page
/// (which needs no cookie), and the page finishes with a same-origin `fetch`, which
/// carries it.
fn base_cookie(value: String) -> Cookie<'static> {
    Cookie::build(COOKIE_NAME, value)
        .path("/")
        .http_only(true)
        .secure(true)
        .same_site(SameSite::Strict)
        .finish()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionId;
    use actix_web::test::TestRequest;

    #[test]
    fn the_cookie_has_every_protective_attribute() {
        let cookie = session_cookie_for(&Issued {
            id: SessionId::generate(),
            max_age_secs: 60,
        });
        assert_eq!(cookie.name(), COOKIE_NAME);
        assert_eq!(cookie.path(), Some("/"));
        assert_eq!(cookie.http_only(), Some(true));
        assert_eq!(cookie.secure(), Some(true));
        assert_eq!(cookie.same_site(), Some(SameSite::Strict));
        assert!(cookie.name().starts_with("__Host-Http-"));
        assert!(cookie.domain().is_none());
    }

    #[test]
    fn the_cookie_is_found_among_others_and_not_by_prefix() {
        let header = format!("a=1; {COOKIE_NAME}x=2; {COOKIE_NAME}=abc; b=3");
        let req = TestRequest::default()
            .insert_header(("cookie", header))
            .to_http_request();
        assert_eq!(session_cookie(&req), Some(&b"abc"[..]));
        let req = TestRequest::default()
            .insert_header(("cookie", format!("x{COOKIE_NAME}=abc")))
            .to_http_request();
        assert_eq!(session_cookie(&req), None);
    }

    #[test]
    fn a_foreign_cookie_with_bytes_outside_ascii_does_not_hide_ours() {
        let mut header = b"theme=\xc3\xa9t\xc3\xa9; ".to_vec();
        header.extend_from_slice(format!("{COOKIE_NAME}=abc ").as_bytes());
        let req = TestRequest::default()
            .insert_header((
                "cookie",
                actix_web::http::header::HeaderValue::from_bytes(&header).unwrap(),
            ))
            .to_http_request();
        assert_eq!(session_cookie(&req), Some(&b"abc"[..]));
    }

    #[test]
    fn foreign_cookie_values_name_no_session() {
        let req = TestRequest::default()
            .insert_header((
                "cookie",
                format!("{COOKIE_NAME}='; DROP TABLE sessions; --"),
            ))
            .to_http_request();
        assert!(session_key(&req).is_none());
    }
}
