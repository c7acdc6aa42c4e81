//! Which registered assets an address or a name belongs to: the link from
//! what detection sees (an alert's victim, an attacked prefix) to the asset
//! registry and its responsible people (issue #7, "affected assets linked to
//! the asset registry by address, domain or name").
//!
//! An asset is known by its identifier and by the address fields of its
//! type (`prefixes`, `addresses`, `ip`, `management_ip`, `url`); each holds
//! one or more IP addresses, CIDR prefixes, host names or URLs, separated by
//! commas, semicolons or white space. Pure: the store reads the assets, this
//! module decides.

use std::collections::BTreeMap;
use std::net::IpAddr;

/// The type-specific fields that hold addresses.
pub const ADDRESS_FIELDS: [&str; 5] = ["prefixes", "addresses", "ip", "management_ip", "url"];

/// One address an asset is known by, or one address to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AssetAddress {
    /// A host or domain name, lower-case, without a trailing dot. An asset's
    /// name covers its subdomains (`example.com` covers `www.example.com`).
    Host(String),
    /// An address (`len` 32 or 128) or a prefix, host bits cleared.
    Net { addr: IpAddr, len: u8 },
}

impl AssetAddress {
    /// Reads one token: an IP address, `address/len`, a URL (its host) or a
    /// host name. `None` for anything else (free text in a field).
    pub fn parse(token: &str) -> Option<AssetAddress> {
        let t = token.trim().trim_matches(|c| c == '"' || c == '\'');
        if t.is_empty() {
            return None;
        }
        if let Some((_, rest)) = t.split_once("://") {
            return Self::parse(url_host(rest)?);
        }
        let unbracketed = t.strip_prefix('[').and_then(|s| s.strip_suffix(']')).unwrap_or(t);
        if let Ok(addr) = unbracketed.parse::<IpAddr>() {
            let addr = addr.to_canonical();
            return Some(AssetAddress::Net { addr, len: full_len(addr) });
        }
        if let Some((a, l)) = t.split_once('/') {
            let addr = a.parse::<IpAddr>().ok()?.to_canonical();
            let len = l.parse::<u8>().ok().filter(|&l| l <= full_len(addr))?;
            return Some(AssetAddress::Net { addr: masked(addr, len), len });
        }
        let host = t.strip_suffix('.').unwrap_or(t).to_ascii_lowercase();
        let valid = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|l| {
                !l.is_empty() && l.len() <= 63 && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            });
        valid.then_some(AssetAddress::Host(host))
    }

    /// Whether `probe` falls under this address: the same or an overlapping
    /// prefix, the same name or a subdomain of it.
    pub fn covers(&self, probe: &AssetAddress) -> bool {
        match (self, probe) {
            (AssetAddress::Host(mine), AssetAddress::Host(p)) => {
                p == mine || p.strip_suffix(mine.as_str()).is_some_and(|head| head.ends_with('.'))
            }
            (AssetAddress::Net { addr: a, len: la }, AssetAddress::Net { addr: b, len: lb }) => {
                let shorter = (*la).min(*lb);
                a.is_ipv4() == b.is_ipv4() && masked(*a, shorter) == masked(*b, shorter)
            }
            _ => false,
        }
    }
}

/// The host of a URL without its scheme: up to the path, query or
/// fragment, without user information and port.
fn url_host(rest: &str) -> Option<&str> {
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if let Some(v6) = host_port.strip_prefix('[') {
        return v6.split_once(']').map(|(h, _)| h);
    }
    Some(host_port.split_once(':').map_or(host_port, |(h, _)| h))
}

fn full_len(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

fn masked(addr: IpAddr, len: u8) -> IpAddr {
    match addr {
        IpAddr::V4(a) => {
            let bits = u32::from(a);
            let mask = u32::MAX.checked_shl(32 - u32::from(len.min(32))).unwrap_or(0);
            IpAddr::from((bits & mask).to_be_bytes())
        }
        IpAddr::V6(a) => {
            let bits = u128::from(a);
            let mask = u128::MAX.checked_shl(128 - u32::from(len.min(128))).unwrap_or(0);
            IpAddr::from((bits & mask).to_be_bytes())
        }
    }
}

/// Every address an asset is known by: its identifier and the address
/// fields of its attributes.
pub fn asset_addresses(identifier: &str, attributes: &BTreeMap<String, String>) -> Vec<AssetAddress> {
    let fields = ADDRESS_FIELDS.iter().filter_map(|k| attributes.get(*k)).map(String::as_str);
    let mut out: Vec<AssetAddress> = std::iter::once(identifier)
        .chain(fields)
        .flat_map(|v| v.split([',', ';', ' ', '\n', '\t', '\r']))
        .filter_map(AssetAddress::parse)
        .collect();
    out.dedup();
    out
}

/// The probes to look up for a detection target: one or more addresses,
/// prefixes or names separated by commas (a group's prefixes), unreadable
/// parts left out.
pub fn probes(target: &str) -> Vec<AssetAddress> {
    target.split([',', ';', ' ']).filter_map(AssetAddress::parse).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn covered(asset: &[AssetAddress], probe: &str) -> bool {
        probes(probe).iter().any(|p| asset.iter().any(|a| a.covers(p)))
    }

    #[test]
    fn tokens_of_every_shape() {
        let net = |s: &str, len| AssetAddress::Net { addr: s.parse().unwrap(), len };
        assert_eq!(AssetAddress::parse("192.0.2.7"), Some(net("192.0.2.7", 32)));
        assert_eq!(AssetAddress::parse("192.0.2.77/24"), Some(net("192.0.2.0", 24)));
        assert_eq!(AssetAddress::parse("2001:db8::1/32"), Some(net("2001:db8::", 32)));
        assert_eq!(AssetAddress::parse("[2001:db8::5]"), Some(net("2001:db8::5", 128)));
        assert_eq!(AssetAddress::parse("::ffff:192.0.2.9"), Some(net("192.0.2.9", 32)));
        assert_eq!(AssetAddress::parse("0.0.0.0/0"), Some(net("0.0.0.0", 0)));
        assert_eq!(AssetAddress::parse("WWW.Example.COM."), Some(AssetAddress::Host("www.example.com".into())));
        assert_eq!(
            AssetAddress::parse("https://user@Portal.Example.com:8443/login?x=1"),
            Some(AssetAddress::Host("portal.example.com".into()))
        );
        assert_eq!(AssetAddress::parse("http://[2001:db8::9]:80/"), Some(net("2001:db8::9", 128)));
        for junk in ["", "  ", "10.0.0.0/33", "2001:db8::/129", "nonsense/8", "a..b", "two words?", "http://", "-/-"] {
            assert_eq!(AssetAddress::parse(junk), None, "{junk:?}");
        }
    }

    #[test]
    fn addresses_come_from_the_identifier_and_the_address_fields() {
        let a = asset_addresses(
            "dns1.example.net",
            &attrs(&[
                ("addresses", "192.0.2.53, 2001:db8::53;198.51.100.0/25"),
                ("software", "BIND 9.18 on 10.9.9.9"),
                ("url", "https://admin.example.org/"),
            ]),
        );
        assert!(covered(&a, "192.0.2.53"));
        assert!(covered(&a, "2001:db8::53"));
        assert!(covered(&a, "198.51.100.100"));
        assert!(!covered(&a, "198.51.100.200"));
        assert!(covered(&a, "dns1.example.net"));
        assert!(covered(&a, "admin.example.org"));
        // Free-text fields are not addresses.
        assert!(!covered(&a, "10.9.9.9"));
    }

    #[test]
    fn prefixes_overlap_and_names_cover_subdomains() {
        let net = asset_addresses("", &attrs(&[("prefixes", "10.1.0.0/16 2001:db8:100::/48")]));
        assert!(covered(&net, "10.1.200.3"));
        assert!(covered(&net, "10.1.2.0/24"));
        assert!(covered(&net, "10.0.0.0/8"), "a group's wider prefix overlaps the asset");
        assert!(!covered(&net, "10.2.0.1"));
        assert!(covered(&net, "2001:db8:100:5::1"));
        assert!(covered(&net, "192.0.2.1, 10.1.0.9"), "any part of a list");
        let site = asset_addresses("example.com", &BTreeMap::new());
        assert!(covered(&site, "example.com"));
        assert!(covered(&site, "shop.example.com"));
        assert!(!covered(&site, "badexample.com"));
        assert!(!covered(&site, "com"));
        assert!(!covered(&site, "192.0.2.1"));
    }
}
