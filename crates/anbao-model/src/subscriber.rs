//! Subscriber addresses as roles that may not see them get them (personal
//! information minimisation): the regulator supervises how many subscribers
//! were infected and how they were handled, not who they are, so it sees
//! each address as its network, an IPv4 /24 or an IPv6 /48.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// `addr` as its /24 (IPv4) or /48 (IPv6) network in CIDR form; text that
/// is no address (a group name, a prefix) is returned unchanged.
pub fn mask_address(addr: &str) -> String {
    let parsed = addr.trim().parse::<IpAddr>().map(|a| a.to_canonical());
    match parsed {
        Ok(IpAddr::V4(a)) => {
            let [x, y, z, _] = a.octets();
            format!("{}/24", Ipv4Addr::new(x, y, z, 0))
        }
        Ok(IpAddr::V6(a)) => {
            let s = a.segments();
            format!("{}/48", Ipv6Addr::new(s[0], s[1], s[2], 0, 0, 0, 0, 0))
        }
        Err(_) => addr.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_become_their_network_and_other_text_stays() {
        assert_eq!(mask_address("10.20.0.5"), "10.20.0.0/24");
        assert_eq!(mask_address("2001:db8:1234:5678::9"), "2001:db8:1234::/48");
        assert_eq!(mask_address("::ffff:10.1.2.3"), "10.1.2.0/24", "IPv4-mapped is IPv4");
        assert_eq!(mask_address("customers-east"), "customers-east");
        assert_eq!(mask_address("198.51.100.0/24"), "198.51.100.0/24");
    }
}
