//! An immutable in-memory index of indicators, answering "which listed
//! indicators does this observed value match", with the ids the caller gave.
//!
//! - Domains: the name itself ([`Match::Exact`]) and every parent domain
//!   ([`Match::Parent`]): listing `evil.com` matches `a.b.evil.com`, not
//!   `notevil.com`. One hash lookup per label of the looked-up name.
//! - IP addresses: the address itself and every covering CIDR
//!   ([`Match::Network`]), longest prefix first. One hash map of masked
//!   networks per prefix length (33 for IPv4, 129 for IPv6); a lookup masks
//!   the address once per prefix length that has entries.
//! - URLs: the normalised URL and every listed URL that is a path prefix of
//!   it ending at a `/` boundary ([`Match::UrlPrefix`]): `http://x.com/a`
//!   covers `http://x.com/a/b` and `http://x.com/a?q`, not `http://x.com/ab`;
//!   `http://x.com/a/` covers `http://x.com/a/b`. Listed URLs with a query
//!   only match exactly.
//! - Everything else (hashes, emails, Android packages, JA3, certificate
//!   fingerprints, CIDRs as values): exact matches of the normal form.
//!
//! Values go through [`normalize`] on the way in and on the way out, so
//! callers may pass raw values. An observed value that is not valid matches
//! nothing. IPv4-mapped IPv6 addresses are IPv4 throughout (listed under
//! either kind, they are reported as [`IndicatorKind::Ipv4`]).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::normalize::{IndicatorKind, Invalid, mask_v4, mask_v6, normalize, parse_cidr};

/// How a listed indicator matched the looked-up value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Match {
    /// The listed value is the looked-up value (after normalisation).
    Exact,
    /// A listed domain that is a parent of the looked-up name.
    Parent { listed: String },
    /// A listed CIDR (`net/len`) covering the looked-up address.
    Network { listed: String },
    /// A listed URL that is a path prefix of the looked-up URL.
    UrlPrefix { listed: String },
}

/// One matching listed value and the ids it was added with (sorted,
/// without duplicates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hit {
    pub kind: IndicatorKind,
    pub matched: Match,
    pub ids: Vec<u64>,
}

type Ids = Vec<u64>;

#[derive(Debug, Default)]
struct Tables {
    domains: HashMap<Box<str>, Ids>,
    urls: HashMap<Box<str>, Ids>,
    ips: HashMap<IpAddr, Ids>,
    /// Indexed by prefix length; keys are masked networks.
    v4: Vec<HashMap<u32, Ids>>,
    v6: Vec<HashMap<u128, Ids>>,
    /// Hashes, emails, Android packages, JA3, certificate fingerprints.
    exact: HashMap<IndicatorKind, HashMap<Box<str>, Ids>>,
}

/// Collects indicators; [`IndicatorIndexBuilder::build`] makes the index.
#[derive(Debug)]
pub struct IndicatorIndexBuilder {
    t: Tables,
}

impl Default for IndicatorIndexBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl IndicatorIndexBuilder {
    pub fn new() -> Self {
        IndicatorIndexBuilder {
            t: Tables { v4: vec![HashMap::new(); 33], v6: vec![HashMap::new(); 129], ..Tables::default() },
        }
    }

    /// Adds `value` (normalised here; already-normal values are unchanged)
    /// as an indicator of `kind` with `id`. The same value may be added with
    /// several ids.
    pub fn add(&mut self, kind: IndicatorKind, value: &str, id: u64) -> Result<&mut Self, Invalid> {
        let norm = normalize(kind, value)?;
        let t = &mut self.t;
        match kind {
            IndicatorKind::Domain => t.domains.entry(norm.into()).or_default().push(id),
            IndicatorKind::Url => t.urls.entry(norm.into()).or_default().push(id),
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => {
                // The normal form of both kinds parses as an IpAddr.
                if let Ok(ip) = norm.parse::<IpAddr>() {
                    t.ips.entry(ip).or_default().push(id);
                }
            }
            IndicatorKind::Cidr => match parse_cidr(&norm) {
                Ok((IpAddr::V4(a), len)) => {
                    if let Some(m) = t.v4.get_mut(usize::from(len)) {
                        m.entry(u32::from(a)).or_default().push(id);
                    }
                }
                Ok((IpAddr::V6(a), len)) => {
                    if let Some(m) = t.v6.get_mut(usize::from(len)) {
                        m.entry(u128::from(a)).or_default().push(id);
                    }
                }
                Err(_) => {}
            },
            _ => t.exact.entry(kind).or_default().entry(norm.into()).or_default().push(id),
        }
        Ok(self)
    }

    pub fn build(self) -> IndicatorIndex {
        fn tidy<K: std::hash::Hash + Eq>(m: &mut HashMap<K, Ids>) {
            for ids in m.values_mut() {
                ids.sort_unstable();
                ids.dedup();
                ids.shrink_to_fit();
            }
            m.shrink_to_fit();
        }
        let mut t = self.t;
        tidy(&mut t.domains);
        tidy(&mut t.urls);
        tidy(&mut t.ips);
        t.v4.iter_mut().for_each(tidy);
        t.v6.iter_mut().for_each(tidy);
        t.exact.values_mut().for_each(tidy);
        let v4_lens = lens_desc(&t.v4);
        let v6_lens = lens_desc(&t.v6);
        IndicatorIndex { t, v4_lens, v6_lens }
    }
}

fn lens_desc<K>(maps: &[HashMap<K, Ids>]) -> Vec<u8> {
    let mut lens: Vec<u8> =
        maps.iter().enumerate().filter(|(_, m)| !m.is_empty()).filter_map(|(len, _)| u8::try_from(len).ok()).collect();
    lens.reverse();
    lens
}

/// The immutable index; see the module doc for the match rules.
#[derive(Debug)]
pub struct IndicatorIndex {
    t: Tables,
    /// Prefix lengths with entries, longest first.
    v4_lens: Vec<u8>,
    v6_lens: Vec<u8>,
}

impl IndicatorIndex {
    pub fn builder() -> IndicatorIndexBuilder {
        IndicatorIndexBuilder::new()
    }

    /// Listed domains equal to `qname` (first) or parents of it, nearest
    /// first.
    pub fn lookup_domain(&self, qname: &str) -> Vec<Hit> {
        let Ok(name) = normalize(IndicatorKind::Domain, qname) else {
            return Vec::new();
        };
        let mut hits = Vec::new();
        let mut rest = name.as_str();
        loop {
            if let Some(ids) = self.t.domains.get(rest) {
                let matched =
                    if rest.len() == name.len() { Match::Exact } else { Match::Parent { listed: rest.to_owned() } };
                hits.push(Hit { kind: IndicatorKind::Domain, matched, ids: ids.clone() });
            }
            match rest.split_once('.') {
                Some((_, parent)) => rest = parent,
                None => break,
            }
        }
        hits
    }

    /// The listed address (first) and every listed network covering it,
    /// longest prefix first.
    pub fn lookup_ip(&self, addr: IpAddr) -> Vec<Hit> {
        let addr = match addr {
            IpAddr::V6(a) => a.to_ipv4_mapped().map_or(addr, IpAddr::V4),
            IpAddr::V4(_) => addr,
        };
        let mut hits = Vec::new();
        if let Some(ids) = self.t.ips.get(&addr) {
            let kind = if addr.is_ipv4() { IndicatorKind::Ipv4 } else { IndicatorKind::Ipv6 };
            hits.push(Hit { kind, matched: Match::Exact, ids: ids.clone() });
        }
        match addr {
            IpAddr::V4(a) => {
                let bits = u32::from(a);
                for &len in &self.v4_lens {
                    let net = bits & mask_v4(len);
                    if let Some(ids) = self.t.v4.get(usize::from(len)).and_then(|m| m.get(&net)) {
                        let listed = format!("{}/{len}", Ipv4Addr::from(net));
                        hits.push(network_hit(listed, ids));
                    }
                }
            }
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                for &len in &self.v6_lens {
                    let net = bits & mask_v6(len);
                    if let Some(ids) = self.t.v6.get(usize::from(len)).and_then(|m| m.get(&net)) {
                        let listed = format!("{}/{len}", Ipv6Addr::from(net));
                        hits.push(network_hit(listed, ids));
                    }
                }
            }
        }
        hits
    }

    /// The listed URL equal to `url` (first), then listed URLs that are path
    /// prefixes of it, longest first.
    pub fn lookup_url(&self, url: &str) -> Vec<Hit> {
        let Ok(u) = normalize(IndicatorKind::Url, url) else {
            return Vec::new();
        };
        let mut hits = Vec::new();
        if let Some(ids) = self.t.urls.get(u.as_str()) {
            hits.push(Hit { kind: IndicatorKind::Url, matched: Match::Exact, ids: ids.clone() });
        }
        for cand in url_prefixes(&u) {
            if let Some(ids) = self.t.urls.get(cand) {
                hits.push(Hit {
                    kind: IndicatorKind::Url,
                    matched: Match::UrlPrefix { listed: cand.to_owned() },
                    ids: ids.clone(),
                });
            }
        }
        hits
    }

    /// Listed hashes equal to `hex`: MD5 and JA3 for 32 hex digits, SHA-1
    /// for 40, SHA-256 and certificate SHA-256 for 64.
    pub fn lookup_hash(&self, hex: &str) -> Vec<Hit> {
        [IndicatorKind::Md5, IndicatorKind::Ja3, IndicatorKind::Sha1, IndicatorKind::Sha256, IndicatorKind::CertSha256]
            .into_iter()
            .flat_map(|kind| self.lookup_exact(kind, hex))
            .collect()
    }

    /// The listed value of `kind` equal to `raw`, for any kind (for domains,
    /// IPs and URLs without the parent, network and prefix matches).
    pub fn lookup_exact(&self, kind: IndicatorKind, raw: &str) -> Vec<Hit> {
        let Ok(v) = normalize(kind, raw) else {
            return Vec::new();
        };
        let ids = match kind {
            IndicatorKind::Domain => self.t.domains.get(v.as_str()),
            IndicatorKind::Url => self.t.urls.get(v.as_str()),
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => v.parse::<IpAddr>().ok().and_then(|ip| self.t.ips.get(&ip)),
            IndicatorKind::Cidr => match parse_cidr(&v) {
                Ok((IpAddr::V4(a), len)) => self.t.v4.get(usize::from(len)).and_then(|m| m.get(&u32::from(a))),
                Ok((IpAddr::V6(a), len)) => self.t.v6.get(usize::from(len)).and_then(|m| m.get(&u128::from(a))),
                Err(_) => None,
            },
            _ => self.t.exact.get(&kind).and_then(|m| m.get(v.as_str())),
        };
        let kind = match (kind, v.parse::<IpAddr>()) {
            (IndicatorKind::Ipv6, Ok(IpAddr::V4(_))) => IndicatorKind::Ipv4,
            _ => kind,
        };
        ids.map(|ids| Hit { kind, matched: Match::Exact, ids: ids.clone() }).into_iter().collect()
    }

    /// Looks `raw` up as the kind [`detect_kind`](crate::detect_kind) finds:
    /// domains, IPs, URLs and hashes with their `lookup_*` rules, other
    /// kinds exactly. Nothing when the kind is not recognised.
    pub fn lookup(&self, raw: &str) -> Vec<Hit> {
        let Some(kind) = crate::detect_kind(raw) else {
            return Vec::new();
        };
        match kind {
            IndicatorKind::Domain => self.lookup_domain(raw),
            IndicatorKind::Url => self.lookup_url(raw),
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 => normalize(kind, raw)
                .ok()
                .and_then(|v| v.parse::<IpAddr>().ok())
                .map(|ip| self.lookup_ip(ip))
                .unwrap_or_default(),
            IndicatorKind::Md5 | IndicatorKind::Sha1 | IndicatorKind::Sha256 => self.lookup_hash(raw),
            _ => self.lookup_exact(kind, raw),
        }
    }
}

fn network_hit(listed: String, ids: &Ids) -> Hit {
    Hit { kind: IndicatorKind::Cidr, matched: Match::Network { listed }, ids: ids.clone() }
}

/// Proper `/`-boundary prefixes of a normalised URL, longest first: the URL
/// without its query (when it has one), then for each `/` in the path, from
/// the last, the text up to and including it and the text before it.
fn url_prefixes(u: &str) -> Vec<&str> {
    let base = u.split_once('?').map_or(u, |(b, _)| b);
    let Some(scheme_end) = base.find("://") else {
        return Vec::new();
    };
    let Some(path_start) = base.get(scheme_end + 3..).and_then(|rest| rest.find('/')).map(|j| scheme_end + 3 + j)
    else {
        return Vec::new();
    };
    let mut out: Vec<&str> = Vec::new();
    if base.len() != u.len() {
        out.push(base);
    }
    let slashes: Vec<usize> =
        base.char_indices().filter(|&(i, c)| c == '/' && i >= path_start).map(|(i, _)| i).collect();
    for &i in slashes.iter().rev() {
        for cand in [base.get(..=i), base.get(..i)].into_iter().flatten() {
            if cand.len() != u.len() && out.last() != Some(&cand) {
                out.push(cand);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes() {
        assert_eq!(
            url_prefixes("http://x.com/a/b?q"),
            ["http://x.com/a/b", "http://x.com/a/", "http://x.com/a", "http://x.com/", "http://x.com"]
        );
        assert_eq!(url_prefixes("http://x.com/a/"), ["http://x.com/a", "http://x.com/", "http://x.com"]);
    }
}
