//! `TRUSTED_PROXIES`: the proxies whose `X-Forwarded-For` (and trace context) is
//! believed, as addresses or networks. Networks matter where proxies have no fixed
//! address: an ingress controller's pods on Kubernetes, a managed load balancer's pool.

use std::net::IpAddr;
use std::str::FromStr;

use ipnet::IpNet;

/// One entry: an address (`10.0.0.2`, `::1`) or a network in CIDR form (`10.0.0.0/8`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyNet(IpNet);

impl FromStr for ProxyNet {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(Self(IpNet::from(ip)));
        }
        s.parse::<IpNet>()
            .map(|net| Self(net.trunc()))
            .map_err(|_| format!("{s:?} is neither an IP address nor a network like 10.0.0.0/8"))
    }
}

impl std::fmt::Display for ProxyNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0.prefix_len() == self.0.max_prefix_len() {
            true => self.0.addr().fmt(f),
            false => self.0.fmt(f),
        }
    }
}

/// Every trusted proxy; empty trusts none (the socket's peer is the client).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<ProxyNet>);

impl TrustedProxies {
    pub fn new(nets: Vec<ProxyNet>) -> Self {
        Self(nets)
    }

    /// True when `ip` is one of the proxies (or in one of their networks). An IPv4
    /// address written as IPv6 (`::ffff:10.0.0.2`, as a dual-stack socket reports it)
    /// counts as the IPv4 address.
    pub fn contains(&self, ip: &IpAddr) -> bool {
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(*ip, IpAddr::V4),
            IpAddr::V4(_) => *ip,
        };
        self.0.iter().any(|net| net.0.contains(&ip))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Display for TrustedProxies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let all: Vec<String> = self.0.iter().map(ToString::to_string).collect();
        f.write_str(&all.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn proxies(list: &[&str]) -> TrustedProxies {
        TrustedProxies::new(list.iter().map(|s| s.parse().unwrap()).collect())
    }

    #[test]
    fn addresses_and_networks_are_trusted_and_nothing_else() {
        let trusted = proxies(&["10.0.0.2", "10.244.0.0/16", "fd00::/8"]);
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert!(trusted.contains(&ip("10.0.0.2")));
        assert!(!trusted.contains(&ip("10.0.0.3")));
        assert!(trusted.contains(&ip("10.244.7.9")));
        assert!(!trusted.contains(&ip("10.245.0.1")));
        assert!(trusted.contains(&ip("fd12::1")));
        assert!(trusted.contains(&ip("::ffff:10.0.0.2")), "IPv4-mapped");
        assert!(!trusted.contains(&ip("203.0.113.1")));
        assert!(!proxies(&[]).contains(&ip("127.0.0.1")));
    }

    #[test]
    fn entries_parse_or_say_what_is_wrong() {
        assert_eq!(proxies(&["10.1.2.3/8"]).to_string(), "10.0.0.0/8");
        assert_eq!(proxies(&[" 10.0.0.2 ", "::1"]).to_string(), "10.0.0.2,::1");
        let bad = "10.0.0.0/33".parse::<ProxyNet>().unwrap_err();
        assert!(bad.contains("10.0.0.0/8"), "{bad}");
        assert!("proxy.internal".parse::<ProxyNet>().is_err());
    }
}
