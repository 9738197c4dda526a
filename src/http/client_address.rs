//! The client address a request is counted on (sign-in throttling, reset requests).
//!
//! `X-Forwarded-For` is believed only when the connection comes from a configured trusted
//! proxy (`TRUSTED_PROXIES`); anyone else could write any address there and escape every
//! per-address count. Behind the proxies, the client is the right-most address that is not a
//! proxy itself: entries to its left were written by the client and prove nothing.

use std::net::IpAddr;

use actix_web::HttpRequest;
use ipnet::IpNet;

use crate::domain::sign_in::client_group;

/// The throttle's key for the client of this request (IPv6 grouped per /64).
pub fn client_key(request: &HttpRequest, trusted_proxies: &[IpNet]) -> String {
    let peer = request.peer_addr().map(|a| a.ip());
    let forwarded: Vec<&str> = request
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    match client_address(peer, &forwarded, trusted_proxies) {
        Some(address) => client_group(address),
        None => "unknown".to_string(),
    }
}

fn client_address(peer: Option<IpAddr>, forwarded: &[&str], trusted_proxies: &[IpNet]) -> Option<IpAddr> {
    let trusted = |address: &IpAddr| trusted_proxies.iter().any(|net| net.contains(&unmapped(*address)));
    let peer = peer?;
    if !trusted(&peer) {
        return Some(peer);
    }
    let mut closest = peer;
    for entry in forwarded.iter().flat_map(|header| header.split(',')).rev() {
        match parse_forwarded_entry(entry) {
            Some(address) if trusted(&address) => closest = address,
            Some(address) => return Some(address),
            // A malformed hop: nothing to its left can be trusted either.
            None => return Some(closest),
        }
    }
    Some(closest)
}

/// An IPv4 address as itself, also when a dual-stack listener hands it over as `::ffff:a.b.c.d`.
fn unmapped(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        v4 => v4,
    }
}

/// One entry of `X-Forwarded-For`: an address, perhaps with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse_forwarded_entry(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    if let Ok(address) = entry.parse() {
        return Some(address);
    }
    if let Some(rest) = entry.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    entry.rsplit_once(':')?.0.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_for_is_ignored_from_an_untrusted_peer() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        assert_eq!(
            client_address(Some(ip("203.0.113.9")), &["198.51.100.1"], &proxies),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_address(Some(ip("203.0.113.9")), &["198.51.100.1"], &[]),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_address_is_the_client() {
        let proxies: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        // The client wrote a fake first entry; the proxy appended the real one.
        let forwarded = ["6.6.6.6, 198.51.100.7", "10.1.1.1"];
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &forwarded, &proxies),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &[], &proxies),
            Some(ip("10.0.0.2"))
        );
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &["[2001:db8::5]:443"], &proxies),
            Some(ip("2001:db8::5"))
        );
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &["198.51.100.7:5000"], &proxies),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            client_address(Some(ip("10.0.0.2")), &["garbage, 10.3.3.3"], &proxies),
            Some(ip("10.3.3.3"))
        );
    }
}
