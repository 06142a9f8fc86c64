//! Who the client is, for rate limiting: the socket peer, unless that peer is a proxy we
//! were told to trust, in which case the nearest untrusted `X-Forwarded-For` hop.

use std::net::IpAddr;

use actix_web::HttpRequest;

use crate::config::TrustedProxies;

pub fn client_ip(req: &HttpRequest, trusted_proxies: &TrustedProxies) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    // Walk from the right: every hop we trust appended the address it saw, so the first
    // address from the right that is not one of ours is the real client. Anything left of
    // it was written by the client and proves nothing. A hop that does not parse
    // (`ip:port`, `unknown`, garbage) ends the walk: what lies beyond it cannot be
    // attributed to any proxy we trust, so the last trusted hop (the peer) is all we know.
    let hops: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .flat_map(|v| v.to_str().unwrap_or("?").split(','))
        .collect();
    for hop in hops.into_iter().rev() {
        match hop.trim().parse::<IpAddr>() {
            Ok(ip) if trusted_proxies.contains(&ip) => continue,
            Ok(ip) => return Some(ip),
            Err(_) => break,
        }
    }
    Some(peer)
}

/// The key rate limits count by: the address itself for IPv4, the /64 network for IPv6
/// (one subscriber usually holds a whole /64, so counting single addresses would let
/// them rotate through 2^64 allowances).
pub fn rate_limit_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let mut segments = v6.segments();
                segments[4..].fill(0);
                IpAddr::V6(segments.into())
            }
        },
    }
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

    fn trusting(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|s| s.parse().unwrap()).collect())
    }

    #[test]
    fn forwarded_for_is_ignored_from_untrusted_peers() {
        let ip = client_ip(&req("10.0.0.9", Some("1.2.3.4")), &trusting(&[])).unwrap();
        assert_eq!(ip.to_string(), "10.0.0.9");
    }

    #[test]
    fn a_trusted_proxy_names_the_nearest_untrusted_hop() {
        let ip = client_ip(
            &req("10.0.0.1", Some("6.6.6.6, 1.2.3.4")),
            &trusting(&["10.0.0.1"]),
        )
        .unwrap();
        assert_eq!(
            ip.to_string(),
            "1.2.3.4",
            "spoofed left-most value must not win"
        );
    }

    #[test]
    fn a_trusted_network_names_the_nearest_hop_outside_it() {
        let pods = trusting(&["10.244.0.0/16"]);
        let ip = client_ip(
            &req("10.244.3.7", Some("6.6.6.6, 1.2.3.4, 10.244.9.1")),
            &pods,
        )
        .unwrap();
        assert_eq!(ip.to_string(), "1.2.3.4");
        let ip = client_ip(&req("10.245.0.1", Some("1.2.3.4")), &pods).unwrap();
        assert_eq!(
            ip.to_string(),
            "10.245.0.1",
            "outside the network: not a proxy"
        );
    }

    #[test]
    fn an_unparseable_hop_stops_the_walk_at_the_peer() {
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        for xff in [
            "1.2.3.4, unknown",
            "1.2.3.4, 5.6.7.8:443",
            "1.2.3.4, ",
            "1.2.3.4,[::1]",
        ] {
            let ip = client_ip(&req("10.0.0.1", Some(xff)), &trusting(&["10.0.0.1"])).unwrap();
            assert_eq!(ip, proxy, "{xff}: the hop after 1.2.3.4 is not an address");
        }
        // Only our own proxies in the list: the peer again.
        let ip = client_ip(&req("10.0.0.1", Some("10.0.0.1")), &trusting(&["10.0.0.1"])).unwrap();
        assert_eq!(ip, proxy);
    }

    #[test]
    fn ipv6_clients_are_counted_per_64() {
        let a = rate_limit_key("2001:db8:1:2:aaaa::1".parse().unwrap());
        let b = rate_limit_key("2001:db8:1:2:ffff:1:2:3".parse().unwrap());
        let c = rate_limit_key("2001:db8:1:3::1".parse().unwrap());
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(a.to_string(), "2001:db8:1:2::");
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(rate_limit_key(v4), v4);
        assert_eq!(rate_limit_key("::ffff:192.0.2.7".parse().unwrap()), v4);
    }
}
