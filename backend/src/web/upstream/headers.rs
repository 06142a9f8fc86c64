//! Which headers cross the BFF on their way to an upstream API and back.
//!
//! Up: the browser's headers minus its credentials (`Cookie`, `Authorization`, the CSRF
//! header), hop-by-hop headers (and any the `Connection` header names), and the
//! forwarding and tracing headers a client could forge; then the BFF's own: the
//! identity, `Forwarded` and `X-Forwarded-For/Proto/Host`, `X-Request-Id` and a W3C
//! `traceparent`. Down: the upstream's headers minus hop-by-hop ones, `Set-Cookie` (the
//! browser's only cookie is the session's) and the security headers the BFF sets itself
//! (the response layer adds ours).

use std::net::IpAddr;

use actix_web::http::header::HeaderMap as ActixHeaders;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};

/// Hop-by-hop headers (RFC 9110 §7.6.1): they describe one connection, never the next.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
];

/// Never forwarded up, whatever the request says (besides [`HOP_BY_HOP`]).
const DROPPED_UP: &[&str] = &[
    "cookie",
    "authorization",
    "proxy-authorization",
    "x-csrf",
    "expect",
    "host",
    "forwarded",
    "x-forwarded-for",
    "x-forwarded-proto",
    "x-forwarded-host",
    "x-forwarded-port",
    "x-forwarded-prefix",
    "x-real-ip",
    "x-request-id",
    "traceparent",
    "tracestate",
    // A WebSocket's handshake is the upstream client's own.
    "sec-websocket-key",
    "sec-websocket-version",
    "sec-websocket-extensions",
    "sec-websocket-accept",
];

/// Never passed down to the browser (besides [`HOP_BY_HOP`]).
const DROPPED_DOWN: &[&str] = &[
    "set-cookie",
    "set-cookie2",
    // Set from the upstream's value by the caller (the body streams).
    "content-length",
    // The BFF's own security headers replace the upstream's.
    "content-security-policy",
    "x-content-type-options",
    "x-frame-options",
    "referrer-policy",
    "cross-origin-opener-policy",
    "cross-origin-resource-policy",
    "strict-transport-security",
];

/// What the BFF adds to a forwarded request.
pub struct Forwarding<'a> {
    /// The client, through `TRUSTED_PROXIES`.
    pub client: Option<IpAddr>,
    /// The socket peer, and whether it is a trusted proxy (then its `X-Forwarded-For`
    /// chain is kept and extended rather than replaced).
    pub peer: Option<IpAddr>,
    pub peer_trusted: bool,
    /// The public URL's scheme and host (`https`, `app.example.com`).
    pub proto: &'a str,
    pub host: &'a str,
    pub request_id: Option<&'a str>,
    pub traceparent: &'a str,
    /// `Authorization` for the upstream (the identity), marked sensitive.
    pub authorization: Option<String>,
}

/// The headers for the upstream request.
pub fn request_headers(incoming: &ActixHeaders, add: &Forwarding<'_>) -> HeaderMap {
    let named_by_connection: Vec<String> = incoming
        .get_all("connection")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|name| name.trim().to_ascii_lowercase())
        .collect();
    let mut out = HeaderMap::with_capacity(incoming.len() + 8);
    for (name, value) in incoming {
        let lower = name.as_str();
        if HOP_BY_HOP.contains(&lower)
            || DROPPED_UP.contains(&lower)
            || named_by_connection.iter().any(|n| n == lower)
        {
            continue;
        }
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(lower.as_bytes()),
            HeaderValue::from_bytes(value.as_bytes()),
        ) {
            out.append(name, value);
        }
    }
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            out.insert(name, value);
        }
    };
    let prior = incoming
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(", ");
    if let Some(peer) = add.peer {
        let chain = if add.peer_trusted && !prior.is_empty() {
            format!("{prior}, {peer}")
        } else {
            peer.to_string()
        };
        set("x-forwarded-for", &chain);
    }
    set("x-forwarded-proto", add.proto);
    set("x-forwarded-host", add.host);
    let node = match add.client {
        Some(IpAddr::V6(ip)) => format!("for=\"[{ip}]\";"),
        Some(IpAddr::V4(ip)) => format!("for={ip};"),
        None => String::new(),
    };
    set(
        "forwarded",
        &format!("{node}proto={};host=\"{}\"", add.proto, add.host),
    );
    if let Some(id) = add.request_id {
        set("x-request-id", id);
    }
    set("traceparent", add.traceparent);
    if let Some(authorization) = &add.authorization {
        if let Ok(mut value) = HeaderValue::from_str(authorization) {
            value.set_sensitive(true);
            out.insert(reqwest::header::AUTHORIZATION, value);
        }
    }
    out
}

/// True when an upstream response header may reach the browser.
pub fn passes_down(name: &str) -> bool {
    !HOP_BY_HOP.contains(&name) && !DROPPED_DOWN.contains(&name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::header::{HeaderName as AName, HeaderValue as AValue};

    fn incoming(pairs: &[(&str, &str)]) -> ActixHeaders {
        let mut headers = ActixHeaders::new();
        for (name, value) in pairs {
            headers.append(
                AName::from_bytes(name.as_bytes()).unwrap(),
                AValue::from_str(value).unwrap(),
            );
        }
        headers
    }

    fn forwarding(peer_trusted: bool) -> Forwarding<'static> {
        Forwarding {
            client: Some("203.0.113.7".parse().unwrap()),
            peer: Some("10.0.0.2".parse().unwrap()),
            peer_trusted,
            proto: "https",
            host: "app.example.com",
            request_id: Some("0123456789abcdef"),
            traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
            authorization: Some("Bearer identity".into()),
        }
    }

    #[test]
    fn the_browsers_credentials_and_forgeries_never_go_up() {
        let headers = request_headers(
            &incoming(&[
                ("cookie", "__Host-Http-session=secret"),
                ("authorization", "Bearer from-the-browser"),
                ("x-csrf", "1"),
                ("x-forwarded-for", "1.2.3.4"),
                ("forwarded", "for=1.2.3.4"),
                ("x-real-ip", "1.2.3.4"),
                ("traceparent", "00-forged-forged-01"),
                ("connection", "keep-alive, x-private"),
                ("x-private", "hop"),
                ("transfer-encoding", "chunked"),
                ("accept", "application/json"),
                ("x-custom", "kept"),
            ]),
            &forwarding(false),
        );
        assert!(headers.get("cookie").is_none());
        assert!(headers.get("x-csrf").is_none());
        assert!(headers.get("x-private").is_none(), "named by Connection");
        assert!(headers.get("transfer-encoding").is_none());
        assert_eq!(headers["authorization"], "Bearer identity");
        assert!(headers["authorization"].is_sensitive());
        assert_eq!(
            headers["x-forwarded-for"], "10.0.0.2",
            "a forged chain is replaced"
        );
        assert_eq!(
            headers["forwarded"],
            "for=203.0.113.7;proto=https;host=\"app.example.com\""
        );
        assert_eq!(headers["x-forwarded-proto"], "https");
        assert_eq!(headers["x-forwarded-host"], "app.example.com");
        assert_eq!(headers["x-request-id"], "0123456789abcdef");
        assert!(headers["traceparent"]
            .to_str()
            .unwrap()
            .starts_with("00-0af7"));
        assert_eq!(headers["accept"], "application/json");
        assert_eq!(headers["x-custom"], "kept");
    }

    #[test]
    fn a_trusted_proxys_chain_is_extended() {
        let headers = request_headers(
            &incoming(&[("x-forwarded-for", "203.0.113.7")]),
            &forwarding(true),
        );
        assert_eq!(headers["x-forwarded-for"], "203.0.113.7, 10.0.0.2");
    }

    #[test]
    fn cookies_and_foreign_security_headers_never_come_down() {
        for name in ["set-cookie", "transfer-encoding", "content-security-policy"] {
            assert!(!passes_down(name), "{name}");
        }
        for name in ["content-type", "cache-control", "etag", "x-upstream"] {
            assert!(passes_down(name), "{name}");
        }
    }
}
