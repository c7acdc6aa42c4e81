//! Network ranges in CIDR form (`10.1.0.0/16`, `2001:db8::/32`), as
//! suppression rules name them: parsed strictly (host bits set is an
//! error that names the network meant), and asked whether they contain an
//! address. IPv4-mapped IPv6 addresses count as the IPv4 address.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IPv4 or IPv6 network: its address (host bits zero) and prefix length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    len: u8,
}

/// Why a text is not a network.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{text:?} is not a network range: {why}")]
pub struct BadCidr {
    pub text: String,
    pub why: String,
}

impl Cidr {
    /// Whether `addr` lies inside the network.
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.addr, addr.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(a)) => u32::from(a) & mask_v4(self.len) == u32::from(net),
            (IpAddr::V6(net), IpAddr::V6(a)) => u128::from(a) & mask_v6(self.len) == u128::from(net),
            _ => false,
        }
    }
}

fn mask_v4(len: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0)
}

fn mask_v6(len: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0)
}

impl FromStr for Cidr {
    type Err = BadCidr;

    /// `ADDRESS/LENGTH`; a bare address is the network of that one host
    /// (`/32` or `/128`).
    fn from_str(s: &str) -> Result<Cidr, BadCidr> {
        let bad = |why: String| BadCidr { text: s.to_owned(), why };
        let text = s.trim();
        let (addr, len) = match text.split_once('/') {
            Some((a, l)) => (a, Some(l)),
            None => (text, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad(format!("{addr:?} is neither an IPv4 nor an IPv6 address")))?;
        let addr = addr.to_canonical();
        let max: u8 = if addr.is_ipv4() { 32 } else { 128 };
        let len = match len {
            None => max,
            Some(l) if !l.is_empty() && l.len() <= 3 && l.bytes().all(|b| b.is_ascii_digit()) => {
                l.parse::<u8>().map_err(|_| bad(format!("prefix length {l} is more than {max}")))?
            }
            Some(l) => return Err(bad(format!("prefix length {l:?} is not a number"))),
        };
        // `::ffff:10.0.0.0/104` is the IPv4 network 10.0.0.0/8.
        let len = if addr.is_ipv4() && text.contains(':') { len.saturating_sub(96) } else { len };
        if len > max {
            return Err(bad(format!("prefix length {len} is more than {max}")));
        }
        let net = match addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask_v4(len))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask_v6(len))),
        };
        if net != addr {
            return Err(bad(format!("host bits are set; the network is {net}/{len}")));
        }
        Ok(Cidr { addr: net, len })
    }
}

impl fmt::Display for Cidr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.addr, self.len)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv4_and_ipv6_ranges_contain_their_addresses_only() {
        let v4: Cidr = "10.1.0.0/16".parse().unwrap();
        assert!(v4.contains(ip("10.1.255.7")));
        assert!(!v4.contains(ip("10.2.0.1")));
        assert!(v4.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped counts as IPv4");
        assert!(!v4.contains(ip("2001:db8::1")));
        let v6: Cidr = "2001:DB8:5::/48".parse().unwrap();
        assert_eq!(v6.to_string(), "2001:db8:5::/48");
        assert!(v6.contains(ip("2001:db8:5:ffff::1")));
        assert!(!v6.contains(ip("2001:db8:6::1")));
        assert!(!v6.contains(ip("10.1.2.3")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")));
        let host: Cidr = "192.0.2.7".parse().unwrap();
        assert_eq!(host.to_string(), "192.0.2.7/32");
        assert!(host.contains(ip("192.0.2.7")) && !host.contains(ip("192.0.2.8")));
        let mapped: Cidr = "::ffff:10.0.0.0/104".parse().unwrap();
        assert_eq!(mapped.to_string(), "10.0.0.0/8");
    }

    #[test]
    fn bad_ranges_say_why() {
        let why = |s: &str| s.parse::<Cidr>().unwrap_err().to_string();
        assert_eq!(
            why("10.1.2.3/16"),
            "\"10.1.2.3/16\" is not a network range: host bits are set; the network is 10.1.0.0/16"
        );
        assert!(why("10.0.0.0/33").contains("prefix length 33 is more than 32"));
        assert!(why("2001:db8::/129").contains("prefix length 129 is more than 128"));
        assert!(why("10.0.0.0/").contains("is not a number"));
        assert!(why("10.0.0.0/x").contains("is not a number"));
        assert!(why("10.0.0.0/999").contains("more than"));
        assert!(why("example.com/24").contains("neither an IPv4 nor an IPv6 address"));
        assert!(why("").contains("neither"));
    }
}
