//! Who the client is, for rate limiting: the socket peer, unless that peer is a proxy we
//! were told to trust, in which case the nearest untrusted `X-Forwarded-For` hop.

use std::net::IpAddr;

use actix_web::HttpRequest;

pub fn client_ip(req: &HttpRequest, trusted_proxies: &[IpAddr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    // Walk from the right: every hop we trust appended the address it saw, so the first
    // address from the right that is not one of ours is the real client. Anything left of
    // it was written by the client and proves nothing.
    let forwarded: Vec<IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|part| part.trim().parse().ok())
        .collect();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !trusted_proxies.contains(ip))
            .unwrap_or(peer),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn req(peer: &str, xff: Option<&str>) -> HttpRequest {
        let mut r = TestRequest::default().peer_addr(format!("{peer}:1234").parse().unwrap());
        if let Some(v) = xff {
            r = r.insert_header(("x-forwarded-for", v));
        }
        r.to_http_request()
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let ip = client_ip(&req("10.0.0.9", Some("1.2.3.4")), &[]).unwrap();
        assert_eq!(ip.to_string(), "10.0.0.9");
    }

    #[test]
    fn a_trusted_proxy_names_the_nearest_untrusted_hop() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let ip = client_ip(&req("10.0.0.1", Some("6.6.6.6, 1.2.3.4")), &[proxy]).unwrap();
        assert_eq!(
            ip.to_string(),
            "1.2.3.4",
            "spoofed left-most value must not win"
        );
    }
}
