//! Client addresses: trusted proxy networks, the client a request comes
//! from (through `X-Forwarded-For` from a trusted proxy), and the bucket an
//! address counts in.

use std::net::IpAddr;

use http::HeaderMap;

use super::RateLimitConfig;
use crate::error::{Error, Result};

/// A trusted proxy network (`10.0.0.0/8`, `::1/128`, or a single address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpNet(ipnet::IpNet);

impl IpNet {
    /// Parses `addr` or `addr/prefix`.
    ///
    /// ```
    /// use better_auth::rate_limit::IpNet;
    ///
    /// let net = IpNet::parse("10.0.0.0/8").unwrap();
    /// assert!(net.contains("10.1.2.3".parse().unwrap()));
    /// assert!(!net.contains("11.0.0.1".parse().unwrap()));
    /// assert!(IpNet::parse("10.0.0.0/33").is_err());
    /// ```
    pub fn parse(text: &str) -> Result<Self> {
        let text = text.trim();
        let net = match text.parse::<ipnet::IpNet>() {
            Ok(net) => net,
            Err(_) => text
                .parse::<IpAddr>()
                .map(ipnet::IpNet::from)
                .map_err(|_| Error::Config(format!("`{text}` is not an IP address or network")))?,
        };
        Ok(IpNet(net))
    }

    /// True when `ip` is inside this network (an IPv4-mapped IPv6 address counts as its
    /// IPv4 address).
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&canonical(ip))
    }
}

/// IPv4-mapped IPv6 addresses count as their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl RateLimitConfig {
    /// The client a request comes from, as rate limits see it.
    pub(crate) fn client_ip(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.is_trusted(peer) {
            return peer;
        }
        let mut client = peer;
        let hops = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .collect::<Vec<_>>();
        for hop in hops.iter().rev() {
            let Ok(ip) = hop.parse::<IpAddr>() else { break };
            client = canonical(ip);
            if !self.is_trusted(client) {
                break;
            }
        }
        client
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|net| net.contains(ip))
    }
}

/// The bucket an address belongs to: IPv4 addresses alone, IPv6 per /64.
pub(crate) fn bucket(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks_and_buckets() {
        let net = IpNet::parse("10.0.0.0/8").unwrap();
        assert!(net.contains("10.1.2.3".parse().unwrap()));
        assert!(!net.contains("11.1.2.3".parse().unwrap()));
        assert!(net.contains("::ffff:10.0.0.1".parse().unwrap()));
        assert!(IpNet::parse("nonsense").is_err());
        assert_eq!(
            bucket("2001:db8:1:2:aaaa::1".parse().unwrap()),
            bucket("2001:db8:1:2:bbbb::9".parse().unwrap())
        );
        assert_ne!(
            bucket("2001:db8:1:2::1".parse().unwrap()),
            bucket("2001:db8:1:3::1".parse().unwrap())
        );
    }
}
