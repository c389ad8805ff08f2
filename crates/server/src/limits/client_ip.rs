//! Who is on the other end of a request: the socket's peer, or, only when that
//! peer is one of the configured reverse proxies, the client the proxy names in
//! `Forwarded` or `X-Forwarded-For`. Per-address limits key on this, so
//! believing the header from anyone would let a client pick a fresh address for
//! every request.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::str::FromStr;

use axum::http::header::FORWARDED;
use axum::http::HeaderMap;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};

/// A reverse proxy in front of the server: one address (`10.0.0.5`, `::1`) or a
/// range (`10.0.0.0/8`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TrustedProxy(IpNet);

impl FromStr for TrustedProxy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        text.parse::<IpNet>()
            .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
            .map(TrustedProxy)
            .map_err(|_| {
                format!("trusted proxy {text:?} is neither an IP address nor a CIDR range")
            })
    }
}

impl TryFrom<String> for TrustedProxy {
    type Error = String;

    fn try_from(text: String) -> Result<Self, String> {
        text.parse()
    }
}

impl From<TrustedProxy> for String {
    fn from(proxy: TrustedProxy) -> String {
        proxy.to_string()
    }
}

impl fmt::Display for TrustedProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Resolves the client address of each request.
#[derive(Debug, Clone, Default)]
pub struct ClientIps {
    trusted: Vec<IpNet>,
}

impl ClientIps {
    pub fn new(trusted: &[TrustedProxy]) -> Self {
        Self {
            trusted: trusted.iter().map(|proxy| proxy.0).collect(),
        }
    }

    fn is_trusted(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.trusted.iter().any(|net| net.contains(&ip))
    }

    /// The client behind a request that came from `peer`. Each trusted proxy
    /// appends the address it got the request from, so the hops are read from
    /// the nearest back: the first one that is not a trusted proxy is the
    /// client (a client can write anything at the far end, never at the near
    /// one). `Forwarded` wins when both headers are there; an entry that is not
    /// an address stops the walk at the proxy that passed it on.
    pub fn resolve(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = peer.to_canonical();
        if !self.is_trusted(peer) {
            return peer;
        }
        let hops = forwarded_for(headers).unwrap_or_else(|| x_forwarded_for(headers));
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(ip) => {
                    client = ip.to_canonical();
                    if !self.is_trusted(client) {
                        break;
                    }
                }
                None => break,
            }
        }
        client
    }
}

/// The `for=` of every element of every `Forwarded` header (RFC 7239), in
/// order; `None` when there is no such header.
fn forwarded_for(headers: &HeaderMap) -> Option<Vec<Option<IpAddr>>> {
    let mut values = headers.get_all(FORWARDED).iter().peekable();
    values.peek()?;
    let hops = values
        .flat_map(|value| value.to_str().unwrap_or("").split(','))
        .map(|element| {
            element
                .split(';')
                .filter_map(|pair| pair.split_once('='))
                .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                .and_then(|(_, node)| node_address(node))
        })
        .collect();
    Some(hops)
}

/// Every address of every `X-Forwarded-For` header, in order.
fn x_forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .flat_map(|value| value.to_str().unwrap_or("").split(','))
        .map(node_address)
        .collect()
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`
/// or `"[2001:db8::1]:4711"`. Obfuscated names (`unknown`, `_hidden`) are not.
fn node_address(node: &str) -> Option<IpAddr> {
    let node = node.trim().trim_matches('"');
    if let Ok(ip) = node.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    node.strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(ip, _)| ip.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ips(trusted: &[&str]) -> ClientIps {
        let trusted: Vec<TrustedProxy> = trusted.iter().map(|t| t.parse().unwrap()).collect();
        ClientIps::new(&trusted)
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let resolved = ips(&[]).resolve(
            ip("203.0.113.9"),
            &headers(&[("x-forwarded-for", "198.51.100.1")]),
        );
        assert_eq!(resolved, ip("203.0.113.9"));
    }

    #[test]
    fn the_nearest_untrusted_hop_is_the_client() {
        let ips = ips(&["127.0.0.1", "10.0.0.0/8"]);
        // The client claims 1.2.3.4; the outer proxy 10.1.1.1 saw 198.51.100.7.
        let forwarded = headers(&[("x-forwarded-for", "1.2.3.4, 198.51.100.7, 10.1.1.1")]);
        assert_eq!(ips.resolve(ip("127.0.0.1"), &forwarded), ip("198.51.100.7"));
    }

    #[test]
    fn forwarded_wins_over_x_forwarded_for_and_takes_ports_and_brackets() {
        let ips = ips(&["::1"]);
        let both = headers(&[
            ("x-forwarded-for", "198.51.100.7"),
            ("forwarded", r#"for="[2001:db8::17]:4711";proto=https"#),
        ]);
        assert_eq!(ips.resolve(ip("::1"), &both), ip("2001:db8::17"));
        let v4 = headers(&[("forwarded", "for=192.0.2.60:80;by=203.0.113.43")]);
        assert_eq!(ips.resolve(ip("::1"), &v4), ip("192.0.2.60"));
    }

    #[test]
    fn garbage_stops_at_the_proxy_that_passed_it_on() {
        let ips = ips(&["127.0.0.1"]);
        let forwarded = headers(&[("x-forwarded-for", "not-an-address")]);
        assert_eq!(ips.resolve(ip("127.0.0.1"), &forwarded), ip("127.0.0.1"));
        let hidden = headers(&[("forwarded", "for=_hidden")]);
        assert_eq!(ips.resolve(ip("127.0.0.1"), &hidden), ip("127.0.0.1"));
    }

    #[test]
    fn an_ipv4_mapped_peer_matches_an_ipv4_proxy() {
        let ips = ips(&["127.0.0.1"]);
        let forwarded = headers(&[("x-forwarded-for", "198.51.100.7")]);
        assert_eq!(
            ips.resolve(ip("::ffff:127.0.0.1"), &forwarded),
            ip("198.51.100.7")
        );
    }

    #[test]
    fn proxies_parse_as_addresses_or_ranges() {
        assert_eq!(
            "10.0.0.1".parse::<TrustedProxy>().unwrap().to_string(),
            "10.0.0.1/32"
        );
        assert!("10.0.0.0/8".parse::<TrustedProxy>().is_ok());
        assert!("fd00::/8".parse::<TrustedProxy>().is_ok());
        assert!("proxy.local".parse::<TrustedProxy>().is_err());
    }
}
