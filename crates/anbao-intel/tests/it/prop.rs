//! The index against a linear scan over the same indicators, on random
//! values drawn from small alphabets so that matches are frequent.

use std::collections::BTreeMap;
use std::net::IpAddr;

use anbao_intel::{Hit, IndicatorIndex, IndicatorIndexBuilder, IndicatorKind as K, Match};

/// SplitMix64: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
}

fn domain(r: &mut Rng) -> String {
    // Now and then a top-level domain alone: listed, it makes lookups
    // probe the top level (which they skip when none is listed).
    if r.below(16) == 0 {
        return r.pick(&["com", "net", "zz"]).to_owned();
    }
    let mut labels: Vec<&str> = (0..r.below(4)).map(|_| r.pick(&["a", "b", "ab", "x-y", "_s"])).collect();
    labels.push(r.pick(&["evil", "good"]));
    labels.push(r.pick(&["com", "net"]));
    labels.join(".")
}

fn ipv4(r: &mut Rng) -> String {
    format!("10.{}.{}.{}", r.below(3), r.below(3) * 64, r.below(4))
}

fn ipv6(r: &mut Rng) -> String {
    format!("2001:db8:{:x}::{:x}", r.below(3), r.below(3))
}

fn cidr(r: &mut Rng) -> String {
    if r.below(2) == 0 {
        let ip: std::net::Ipv4Addr = ipv4(r).parse().unwrap();
        let len = [0u8, 8, 16, 18, 24, 30, 32][r.below(7) as usize];
        let mask = u32::MAX.checked_shl(32 - u32::from(len)).unwrap_or(0);
        format!("{}/{len}", std::net::Ipv4Addr::from(u32::from(ip) & mask))
    } else {
        let ip: std::net::Ipv6Addr = ipv6(r).parse().unwrap();
        let len = [0u8, 32, 47, 48, 64, 127, 128][r.below(7) as usize];
        let mask = u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
        format!("{}/{len}", std::net::Ipv6Addr::from(u128::from(ip) & mask))
    }
}

fn url(r: &mut Rng) -> String {
    let mut s = format!("http://{}/", r.pick(&["x.com", "y.com"]));
    let segs: Vec<&str> = (0..r.below(4)).map(|_| r.pick(&["a", "b", "ab"])).collect();
    s.push_str(&segs.join("/"));
    if !segs.is_empty() && r.below(3) == 0 {
        s.push('/');
    }
    if r.below(4) == 0 {
        s.push_str("?q");
    }
    s
}

fn random(r: &mut Rng) -> (K, String) {
    match r.below(6) {
        0 | 1 => (K::Domain, domain(r)),
        2 => (K::Ipv4, ipv4(r)),
        3 => (K::Ipv6, ipv6(r)),
        4 => (K::Cidr, cidr(r)),
        _ => (K::Url, url(r)),
    }
}

fn covers(net: &str, addr: IpAddr) -> bool {
    let (a, len) = net.split_once('/').unwrap();
    let len: u32 = len.parse().unwrap();
    match (a.parse::<IpAddr>().unwrap(), addr) {
        (IpAddr::V4(n), IpAddr::V4(a)) => {
            let m = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            u32::from(a) & m == u32::from(n)
        }
        (IpAddr::V6(n), IpAddr::V6(a)) => {
            let m = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            u128::from(a) & m == u128::from(n)
        }
        _ => false,
    }
}

fn url_prefix_of(listed: &str, u: &str) -> bool {
    let base = u.split_once('?').map_or(u, |(b, _)| b);
    listed != u
        && !listed.contains('?')
        && base.starts_with(listed)
        && (listed.len() == base.len() || listed.ends_with('/') || base.as_bytes()[listed.len()] == b'/')
}

/// Listed values with their ids and expiries, as added.
type Listed = BTreeMap<(K, String), Vec<(u64, Option<i64>)>>;

/// The ids of a listed value active at `now` (all without a `now`): an id
/// added once without expiry never expires, else its latest expiry counts.
fn active(adds: &[(u64, Option<i64>)], now: Option<i64>) -> Vec<u64> {
    let mut by_id: BTreeMap<u64, Option<i64>> = BTreeMap::new();
    for &(id, until) in adds {
        let e = by_id.entry(id).or_insert(until);
        *e = match (*e, until) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    by_id
        .into_iter()
        .filter(|(_, until)| match (now, until) {
            (Some(now), Some(until)) => now < *until,
            _ => true,
        })
        .map(|(id, _)| id)
        .collect()
}

/// The expected hits, ordered as the index orders them: exact first, then
/// by decreasing length of the listed value (= prefix length for networks).
fn naive(listed: &Listed, kind: K, q: &str, now: Option<i64>) -> Vec<Hit> {
    let mut hits: Vec<(usize, Hit)> = Vec::new();
    for ((k, v), adds) in listed {
        let matched = match (kind, *k) {
            (K::Domain, K::Domain) if v == q => Some(Match::Exact),
            (K::Domain, K::Domain) if q.ends_with(&format!(".{v}")) => Some(Match::Parent { listed: v.clone() }),
            (K::Ipv4 | K::Ipv6, K::Ipv4 | K::Ipv6) if v == q => Some(Match::Exact),
            (K::Ipv4 | K::Ipv6, K::Cidr) if covers(v, q.parse().unwrap()) => Some(Match::Network { listed: v.clone() }),
            (K::Url, K::Url) if v == q => Some(Match::Exact),
            (K::Url, K::Url) if url_prefix_of(v, q) => Some(Match::UrlPrefix { listed: v.clone() }),
            _ => None,
        };
        let ids = active(adds, now);
        if let Some(matched) = matched.filter(|_| !ids.is_empty()) {
            let rank = match &matched {
                Match::Exact => usize::MAX,
                Match::Network { listed } => listed.split_once('/').unwrap().1.parse().unwrap(),
                Match::Parent { listed } | Match::UrlPrefix { listed } => listed.len(),
            };
            hits.push((rank, Hit { kind: *k, matched, ids }));
        }
    }
    hits.sort_by_key(|h| std::cmp::Reverse(h.0));
    hits.into_iter().map(|(_, h)| h).collect()
}

/// Random indicators (a third of them expiring) into indexes with several
/// hash layouts (`Some(bits)`: a hash weakened to that many bits, so that
/// values collide; 0 makes them all collide); every lookup API must give
/// the linear scan's answer.
fn agree(seed: u64, adds: u64, lookups: usize, layouts: &[Option<u32>]) {
    let mut r = Rng(seed);
    let mut builders: Vec<IndicatorIndexBuilder> = layouts
        .iter()
        .map(|bits| match bits {
            None => IndicatorIndex::builder(),
            Some(b) => IndicatorIndexBuilder::with_seed(seed).weaken_hash_for_tests(*b),
        })
        .collect();
    let mut listed: Listed = BTreeMap::new();
    for id in 0..adds {
        let (kind, raw) = random(&mut r);
        let norm = anbao_intel::normalize(kind, &raw).unwrap();
        // Ids repeat now and then, so that ids merge.
        let id = if r.below(10) == 0 { id / 2 } else { id };
        let until = (r.below(3) == 0).then(|| r.below(100) as i64);
        for b in &mut builders {
            match until {
                Some(t) => b.add_expiring(kind, &raw, id, t).unwrap(),
                None => b.add(kind, &raw, id).unwrap(),
            };
        }
        listed.entry((kind, norm)).or_default().push((id, until));
    }
    let indexes: Vec<IndicatorIndex> = builders.into_iter().map(IndicatorIndexBuilder::build).collect();
    let mut matched = 0;
    let mut names: Vec<(String, Option<i64>, Vec<Hit>)> = Vec::new();
    for _ in 0..lookups {
        let (kind, raw) = random(&mut r);
        if kind == K::Cidr {
            continue;
        }
        let now = (r.below(2) == 0).then(|| r.below(120) as i64);
        let q = anbao_intel::normalize(kind, &raw).unwrap();
        let want = naive(&listed, kind, &q, now);
        for idx in &indexes {
            let got = match (kind, now) {
                (K::Domain, None) => idx.lookup_domain(&raw),
                (K::Domain, Some(t)) => idx.lookup_domain_at(&raw, t),
                (K::Url, None) => idx.lookup_url(&raw),
                (K::Url, Some(t)) => idx.lookup_url_at(&raw, t),
                (_, None) => idx.lookup_ip(q.parse().unwrap()),
                (_, Some(t)) => idx.lookup_ip_at(q.parse().unwrap(), t),
            };
            assert_eq!(got, want, "{kind} {raw} at {now:?}");
            // `lookup` guesses the kind from the text, and a word without
            // a dot is not taken for a domain.
            if raw.contains('.') || kind != K::Domain {
                let any = match now {
                    None => idx.lookup(&raw),
                    Some(t) => idx.lookup_at(&raw, t),
                };
                assert_eq!(any, want, "lookup {raw} at {now:?}");
            }
        }
        if kind == K::Domain {
            names.push((raw, now, want.clone()));
        }
        matched += usize::from(!want.is_empty());
    }
    assert!(matched > lookups / 3, "only {matched} lookups matched: the generator is too sparse");

    // The batched domain lookup, per time (one call per distinct `now`).
    let qs: Vec<&str> = names.iter().map(|(q, _, _)| q.as_str()).collect();
    for now in [None, Some(0), Some(50), Some(99)] {
        let want: Vec<Vec<Hit>> =
            qs.iter().map(|q| naive(&listed, K::Domain, &anbao_intel::normalize(K::Domain, q).unwrap(), now)).collect();
        for idx in &indexes {
            let mut got: Vec<Vec<Hit>> = vec![Vec::new(); qs.len()];
            let n = idx.visit_domains(&qs, now, |i, h| got[i].push(h.to_hit()));
            assert_eq!(n, got.iter().map(Vec::len).sum::<usize>());
            for (i, q) in qs.iter().enumerate() {
                assert_eq!(got[i], want[i], "batch {q} at {now:?}");
            }
        }
    }
}

#[test]
fn index_agrees_with_linear_scan() {
    agree(0x5EED, 3000, 3000, &[None, Some(4), Some(9)]);
}

#[test]
fn index_agrees_with_linear_scan_small_and_dense() {
    // Few values, many repeats: long id lists, most names hit.
    for seed in 1..6 {
        agree(seed, 60, 400, &[None, Some(0), Some(1), Some(2)]);
    }
}

/// Raw names around listed domains, in the forms lookups meet: capitals, a
/// trailing dot, blanks; labels before a listed suffix that make the name
/// invalid (empty, a hyphen at an edge, characters outside `[a-z0-9_-]`,
/// over 63 bytes), punycode and non-ASCII labels (normalised the slow way),
/// long names (64 bytes and more), names deeper than the batched walk
/// keeps. Every lookup API must answer what `normalize` allows: nothing for
/// a name it rejects, else the hits of its normal form.
#[test]
fn raw_names_match_what_normalize_allows() {
    let listed_names = [
        "evil.com",
        "a.evil.com",
        "x-y.evil.com",
        "_s.good.net",
        "good.net",
        "xn--bcher-kva.example",
        "b.xn--bcher-kva.example",
        "a.b.c.d.e.f.g.h.i.j.deep.org",
        "j.deep.org",
    ];
    let mut b = IndicatorIndex::builder();
    let mut listed: Listed = BTreeMap::new();
    for (id, name) in listed_names.iter().enumerate() {
        b.add(K::Domain, name, id as u64).unwrap();
        listed.entry((K::Domain, (*name).to_owned())).or_default().push((id as u64, None));
    }
    let idx = b.build();
    let long_label = "l".repeat(63);
    let too_long = "l".repeat(64);
    let prefixes: Vec<String> = [
        "",
        "www.",
        "A.",
        "WwW.",
        "a1.www.",
        "-a.",
        "a-.",
        "-.",
        ".",
        "a..",
        "a b.",
        "a!.",
        "*.",
        "a/b.",
        "xn--abc.",
        "xn--bcher-kva.",
        "XN--bcher-kva.",
        "b\u{fc}cher.",
        "\u{c9}.",
        "a_b.",
        "ab--cd.",
        "1.",
        "a.1.",
        &format!("{long_label}."),
        &format!("{too_long}."),
        &format!("{long_label}.{long_label}."),
        "k.l.m.n.o.p.q.r.s.",
    ]
    .iter()
    .map(|p| p.to_string())
    .collect();
    let suffixes = [
        "evil.com",
        "a.evil.com",
        "x-y.evil.com",
        "good.net",
        "bücher.example",
        "b.xn--bcher-kva.example",
        "i.j.deep.org",
        "a.b.c.d.e.f.g.h.i.j.deep.org",
        "com",
        "notlisted.org",
    ];
    let mut r = Rng(11);
    let mut queries: Vec<String> = Vec::new();
    // Junk from an alphabet that spells the listed names' labels, of every
    // length the word arithmetic treats apart (1–7, 8–32, 33–63, 64–80).
    let alphabet = [
        "e", "v", "i", "l", ".", ".com", ".net", "-", "_", "E", "x", "n", "\u{e9}", " ", "\0", "\u{7f}", "@", "`", "{",
        "[",
    ];
    for _ in 0..3000 {
        let len = [r.below(8), 8 + r.below(25), 33 + r.below(31), 64 + r.below(17)][r.below(4) as usize];
        let mut q = String::new();
        while q.len() < len as usize {
            q.push_str(r.pick(&alphabet));
        }
        q.push_str(r.pick(&["", ".com", "evil.com", ".evil.com", "good.net", ".good.net"]));
        queries.push(q);
    }
    for _ in 0..4000 {
        let mut q = format!("{}{}", prefixes[r.below(prefixes.len() as u64) as usize], r.pick(&suffixes));
        if r.below(4) == 0 {
            q = q.chars().map(|c| if r.below(2) == 0 { c.to_ascii_uppercase() } else { c }).collect();
        }
        match r.below(8) {
            0 => q.push('.'),
            1 => q = format!(" {q}\t"),
            2 => q.push_str(".."),
            _ => {}
        }
        queries.push(q);
    }
    let mut matched = 0;
    let mut rejected = 0;
    let want: Vec<Vec<Hit>> = queries
        .iter()
        .map(|q| match anbao_intel::normalize(K::Domain, q) {
            Ok(n) => naive(&listed, K::Domain, &n, None),
            Err(_) => {
                rejected += 1;
                Vec::new()
            }
        })
        .collect();
    for (q, want) in queries.iter().zip(&want) {
        assert_eq!(&idx.lookup_domain(q), want, "lookup_domain {q:?}");
        matched += usize::from(!want.is_empty());
    }
    let mut got: Vec<Vec<Hit>> = vec![Vec::new(); queries.len()];
    let n = idx.visit_domains(&queries, None, |i, h| got[i].push(h.to_hit()));
    assert_eq!(n, got.iter().map(Vec::len).sum::<usize>());
    for ((q, got), want) in queries.iter().zip(&got).zip(&want) {
        assert_eq!(got, want, "visit_domains {q:?}");
    }
    assert!(matched > 1000 && rejected > 500, "{matched} matched, {rejected} rejected: the generator is too narrow");
}
