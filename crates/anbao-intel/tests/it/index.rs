use std::net::IpAddr;

use anbao_intel::{Hit, IndicatorIndex, IndicatorKind as K, Match};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn ids(hits: &[Hit]) -> Vec<Vec<u64>> {
    hits.iter().map(|h| h.ids.clone()).collect()
}

#[test]
fn domains_exact_and_parent() {
    let mut b = IndicatorIndex::builder();
    b.add(K::Domain, "evil.com", 1).unwrap();
    b.add(K::Domain, "b.evil.com", 2).unwrap();
    b.add(K::Domain, "EVIL.com.", 3).unwrap();
    b.add(K::Domain, "例子.测试", 4).unwrap();
    let idx = b.build();

    let hits = idx.lookup_domain("a.b.evil.com");
    assert_eq!(
        hits,
        [
            Hit { kind: K::Domain, matched: Match::Parent { listed: "b.evil.com".into() }, ids: vec![2] },
            Hit { kind: K::Domain, matched: Match::Parent { listed: "evil.com".into() }, ids: vec![1, 3] },
        ]
    );
    assert_eq!(idx.lookup_domain("Evil.Com.")[0].matched, Match::Exact);
    assert!(idx.lookup_domain("notevil.com").is_empty());
    assert!(idx.lookup_domain("evil.com.cn").is_empty());
    assert!(idx.lookup_domain("com").is_empty());
    assert!(idx.lookup_domain("bad name").is_empty());
    assert_eq!(ids(&idx.lookup_domain("www.xn--fsqu00a.xn--0zwm56d")), [vec![4]]);
    assert_eq!(ids(&idx.lookup("www.例子.测试")), [vec![4]]);
}

#[test]
fn ips_and_covering_networks() {
    let mut b = IndicatorIndex::builder();
    b.add(K::Cidr, "10.0.0.0/8", 1).unwrap();
    b.add(K::Cidr, "10.1.0.0/16", 2).unwrap();
    b.add(K::Ipv4, "10.1.2.3", 3).unwrap();
    b.add(K::Cidr, "0.0.0.0/0", 4).unwrap();
    b.add(K::Cidr, "2001:db8::/32", 5).unwrap();
    b.add(K::Cidr, "2001:db8:1::/48", 6).unwrap();
    b.add(K::Ipv6, "2001:db8:1::1", 7).unwrap();
    b.add(K::Ipv6, "::ffff:192.0.2.1", 8).unwrap();
    assert!(b.add(K::Cidr, "10.1.2.3/8", 9).is_err());
    let idx = b.build();

    let hits = idx.lookup_ip(ip("10.1.2.3"));
    assert_eq!(hits[0], Hit { kind: K::Ipv4, matched: Match::Exact, ids: vec![3] });
    let nets: Vec<_> = hits[1..].iter().map(|h| h.matched.clone()).collect();
    assert_eq!(
        nets,
        [
            Match::Network { listed: "10.1.0.0/16".into() },
            Match::Network { listed: "10.0.0.0/8".into() },
            Match::Network { listed: "0.0.0.0/0".into() },
        ]
    );
    assert_eq!(ids(&idx.lookup_ip(ip("10.2.0.1"))), [vec![1], vec![4]]);
    assert_eq!(ids(&idx.lookup_ip(ip("11.0.0.1"))), [vec![4]]);

    assert_eq!(ids(&idx.lookup_ip(ip("2001:db8:1::1"))), [vec![7], vec![6], vec![5]]);
    assert_eq!(ids(&idx.lookup_ip(ip("2001:db8:2::1"))), [vec![5]]);
    assert!(idx.lookup_ip(ip("2001:db9::1")).is_empty());

    // IPv4-mapped IPv6 is IPv4 on both sides.
    assert_eq!(idx.lookup_ip(ip("192.0.2.1"))[0], Hit { kind: K::Ipv4, matched: Match::Exact, ids: vec![8] });
    assert_eq!(ids(&idx.lookup_ip(ip("::ffff:10.1.2.3")))[..2], [vec![3], vec![2]]);
    assert_eq!(ids(&idx.lookup("::ffff:10.9.9.9")), [vec![1], vec![4]]);
    assert_eq!(ids(&idx.lookup("10.0.0.0/8")), [vec![1]]);
}

#[test]
fn urls_exact_and_prefix() {
    let mut b = IndicatorIndex::builder();
    b.add(K::Url, "http://x.com/a", 1).unwrap();
    b.add(K::Url, "HTTP://X.COM:80/a/", 2).unwrap();
    b.add(K::Url, "x.com/a/b?q=1", 3).unwrap();
    b.add(K::Url, "https://y.com", 4).unwrap();
    let idx = b.build();

    assert_eq!(idx.lookup_url("http://x.com/a")[0].matched, Match::Exact);
    let hits = idx.lookup_url("http://x.com/a/b");
    assert_eq!(
        hits.iter().map(|h| h.matched.clone()).collect::<Vec<_>>(),
        [Match::UrlPrefix { listed: "http://x.com/a/".into() }, Match::UrlPrefix { listed: "http://x.com/a".into() }]
    );
    assert!(idx.lookup_url("http://x.com/ab").is_empty());
    assert_eq!(ids(&idx.lookup_url("http://x.com/a?z")), [vec![1]]);
    assert_eq!(ids(&idx.lookup_url("http://x.com/a/b?q=%31")), [vec![3], vec![2], vec![1]]);
    // A listed URL with a query matches only exactly.
    assert_eq!(ids(&idx.lookup_url("http://x.com/a/b?q=1&r")), [vec![2], vec![1]]);
    assert_eq!(ids(&idx.lookup_url("https://y.com/anything/at/all#f")), [vec![4]]);
    assert!(idx.lookup_url("http://y.com/").is_empty());
    assert_eq!(ids(&idx.lookup("http://x.com/a/./c")), [vec![2], vec![1]]);
}

#[test]
fn hashes_and_exact_kinds() {
    let md5 = "d41d8cd98f00b204e9800998ecf8427e";
    let sha256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    let mut b = IndicatorIndex::builder();
    b.add(K::Md5, md5, 1).unwrap();
    b.add(K::Ja3, md5, 2).unwrap();
    b.add(K::Sha256, sha256, 3).unwrap();
    b.add(K::CertSha256, &sha256.to_uppercase(), 4).unwrap();
    b.add(K::Sha1, &"a".repeat(40), 5).unwrap();
    b.add(K::Email, "Bad@Evil.COM", 6).unwrap();
    b.add(K::AndroidPackage, "com.evil.app", 7).unwrap();
    let idx = b.build();

    let hits = idx.lookup_hash(&md5.to_uppercase());
    assert_eq!(
        hits.iter().map(|h| (h.kind, h.ids.clone())).collect::<Vec<_>>(),
        [(K::Md5, vec![1]), (K::Ja3, vec![2])]
    );
    assert_eq!(ids(&idx.lookup_hash(sha256)), [vec![3], vec![4]]);
    assert_eq!(ids(&idx.lookup(&"A".repeat(40))), [vec![5]]);
    assert!(idx.lookup_hash(&"a".repeat(31)).is_empty());
    assert_eq!(ids(&idx.lookup("Bad@evil.com")), [vec![6]]);
    assert!(idx.lookup("bad@evil.com").is_empty());
    assert_eq!(ids(&idx.lookup_exact(K::AndroidPackage, "com.evil.app")), [vec![7]]);
    assert!(idx.lookup("nothing here").is_empty());
}

/// Every lookup API on one query: the `Vec<Hit>` one, the visitor, and the
/// batched domain visitor agree.
fn domain_hits(idx: &IndicatorIndex, q: &str, now: Option<i64>) -> Vec<Hit> {
    let vec = match now {
        Some(t) => idx.lookup_domain_at(q, t),
        None => idx.lookup_domain(q),
    };
    let mut visited = Vec::new();
    let n = idx.visit_domain(q, now, |h| visited.push(h.to_hit()));
    assert_eq!(n, visited.len());
    assert_eq!(visited, vec, "visit_domain {q}");
    let mut batched = Vec::new();
    let qs = ["nothing.invalid", q, "x.example"];
    idx.visit_domains(&qs, now, |i, h| {
        if i == 1 {
            batched.push(h.to_hit());
        }
    });
    assert_eq!(batched, vec, "visit_domains {q}");
    vec
}

#[test]
fn listed_top_level_domains() {
    // Without a listed top-level domain, lookups start one level down.
    let mut b = IndicatorIndex::builder();
    b.add(K::Domain, "evil.com", 1).unwrap();
    let idx = b.build();
    assert_eq!(ids(&domain_hits(&idx, "a.evil.com", None)), [vec![1]]);
    for q in ["com", "localhost", "evil", "b.com", "evil.zip"] {
        assert!(domain_hits(&idx, q, None).is_empty(), "{q}");
    }

    // With one, they start at the top.
    let mut b = IndicatorIndex::builder();
    b.add(K::Domain, "evil.com", 1).unwrap();
    b.add(K::Domain, "ZIP.", 2).unwrap();
    let idx = b.build();
    assert_eq!(domain_hits(&idx, "zip", None), [Hit { kind: K::Domain, matched: Match::Exact, ids: vec![2] }]);
    assert_eq!(
        domain_hits(&idx, "a.b.Zip", None),
        [Hit { kind: K::Domain, matched: Match::Parent { listed: "zip".into() }, ids: vec![2] }]
    );
    assert_eq!(ids(&domain_hits(&idx, "a.evil.com", None)), [vec![1]]);
    for q in ["com", "localhost", "b.com", "zip.com"] {
        assert!(domain_hits(&idx, q, None).is_empty(), "{q}");
    }
}

#[test]
fn one_id_and_many_ids() {
    let mut b = IndicatorIndex::builder();
    b.add(K::Domain, "one.com", 7).unwrap();
    for id in [30, 10, 20, 10, u64::MAX, 0, 1 << 40] {
        b.add(K::Domain, "many.com", id).unwrap();
    }
    for id in 0..1000u64 {
        b.add(K::Domain, "lots.com", id * 1_000_003).unwrap();
    }
    b.add(K::Url, "http://one.com/x", u64::MAX).unwrap();
    let idx = b.build();
    assert_eq!(idx.len(), 4);
    assert!(!idx.is_empty());
    assert_eq!(ids(&idx.lookup_domain("a.one.com")), [vec![7]]);
    assert_eq!(ids(&idx.lookup_domain("many.com")), [vec![0, 10, 20, 30, 1 << 40, u64::MAX]]);
    let lots = &idx.lookup_domain("x.lots.com")[0].ids;
    assert_eq!(lots.len(), 1000);
    assert!(lots.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(ids(&idx.lookup_url("http://one.com/x/y")), [vec![u64::MAX]]);
    // Visitors give the ids without allocating a Hit.
    let mut seen = Vec::new();
    idx.visit_domain("many.com", None, |h| seen.extend(h.ids()));
    assert_eq!(seen, [0, 10, 20, 30, 1 << 40, u64::MAX]);
}

#[test]
fn expiry() {
    let mut b = IndicatorIndex::builder();
    b.add_expiring(K::Domain, "evil.com", 1, 100).unwrap();
    b.add_expiring(K::Domain, "evil.com", 2, 200).unwrap();
    b.add(K::Domain, "sub.evil.com", 3).unwrap();
    b.add_expiring(K::Domain, "sub.evil.com", 4, 50).unwrap();
    // The same id with and without expiry: never expires.
    b.add_expiring(K::Domain, "both.com", 5, 10).unwrap();
    b.add(K::Domain, "both.com", 5).unwrap();
    // Two expiries: the later one.
    b.add_expiring(K::Domain, "twice.com", 6, 10).unwrap();
    b.add_expiring(K::Domain, "twice.com", 6, 300).unwrap();
    b.add_expiring(K::Ipv4, "10.0.0.1", 7, 100).unwrap();
    b.add_expiring(K::Cidr, "10.0.0.0/8", 8, 100).unwrap();
    b.add(K::Cidr, "10.0.0.0/16", 9).unwrap();
    b.add_expiring(K::Url, "http://x.com/a", 10, 100).unwrap();
    b.add_expiring(K::Md5, &"a".repeat(32), 11, 100).unwrap();
    b.add_expiring(K::Email, "a@b.com", 12, i64::MIN).unwrap();
    b.add_expiring(K::Domain, "far.com", 13, i64::MAX).unwrap();
    let idx = b.build();

    // Without a time every id is reported.
    assert_eq!(ids(&domain_hits(&idx, "a.sub.evil.com", None)), [vec![3, 4], vec![1, 2]]);
    // Expired ids are left out; a hit with none left is dropped.
    assert_eq!(ids(&domain_hits(&idx, "a.sub.evil.com", Some(0))), [vec![3, 4], vec![1, 2]]);
    assert_eq!(ids(&domain_hits(&idx, "a.sub.evil.com", Some(50))), [vec![3], vec![1, 2]]);
    assert_eq!(ids(&domain_hits(&idx, "a.sub.evil.com", Some(100))), [vec![3], vec![2]]);
    assert_eq!(ids(&domain_hits(&idx, "a.sub.evil.com", Some(199))), [vec![3], vec![2]]);
    assert_eq!(ids(&domain_hits(&idx, "a.sub.evil.com", Some(200))), [vec![3]]);
    assert!(domain_hits(&idx, "evil.com", Some(200)).is_empty());
    assert_eq!(ids(&domain_hits(&idx, "both.com", Some(1000))), [vec![5]]);
    assert_eq!(ids(&domain_hits(&idx, "twice.com", Some(299))), [vec![6]]);
    assert!(domain_hits(&idx, "twice.com", Some(300)).is_empty());
    assert_eq!(ids(&domain_hits(&idx, "far.com", Some(i64::MAX - 1))), [vec![13]]);

    assert_eq!(ids(&idx.lookup_ip_at(ip("10.0.0.1"), 99)), [vec![7], vec![9], vec![8]]);
    assert_eq!(ids(&idx.lookup_ip_at(ip("10.0.0.1"), 100)), [vec![9]]);
    assert_eq!(ids(&idx.lookup_ip(ip("10.0.0.1"))), [vec![7], vec![9], vec![8]]);
    assert_eq!(ids(&idx.lookup_url_at("http://x.com/a/b", 99)), [vec![10]]);
    assert!(idx.lookup_url_at("http://x.com/a/b", 100).is_empty());
    assert_eq!(ids(&idx.lookup_hash_at(&"A".repeat(32), 99)), [vec![11]]);
    assert!(idx.lookup_hash_at(&"A".repeat(32), 100).is_empty());
    assert!(idx.lookup_exact_at(K::Email, "a@b.com", i64::MIN + 1).is_empty());
    assert_eq!(ids(&idx.lookup_exact(K::Email, "a@b.com")), [vec![12]]);
    assert_eq!(ids(&idx.lookup_at("10.0.0.1", 100)), [vec![9]]);

    // The expiries themselves are visible.
    let mut exp = Vec::new();
    idx.visit_domain("sub.evil.com", None, |h| exp.extend(h.ids_with_expiry()));
    assert_eq!(exp, [(3, None), (4, Some(50)), (1, Some(100)), (2, Some(200))]);
}

#[test]
fn collisions_with_weak_hashes() {
    // With 0–3 hash bits every value collides with many others (and runs
    // overflow the end of the table); results must not change.
    let values: Vec<String> = (0..400).map(|i| format!("v{i}.x{}.com", i % 7)).collect();
    for bits in [0, 1, 2, 3, 8, 64] {
        let mut b = IndicatorIndex::builder().weaken_hash_for_tests(bits);
        for (i, v) in values.iter().enumerate() {
            b.add(K::Domain, v, i as u64).unwrap();
            b.add(K::Url, &format!("http://{v}/p{i}"), i as u64).unwrap();
            b.add(K::Ipv4, &format!("10.0.{}.{}", i / 256, i % 256), i as u64).unwrap();
            b.add(K::Sha1, &format!("{i:040x}"), i as u64).unwrap();
        }
        b.add(K::Domain, "x3.com", 1000).unwrap();
        let idx = b.build();
        assert_eq!(idx.len(), 1601, "bits {bits}");
        for (i, v) in values.iter().enumerate() {
            let i = i as u64;
            let hits = domain_hits(&idx, &format!("www.{v}"), None);
            let want_parent = if i % 7 == 3 { vec![vec![i], vec![1000]] } else { vec![vec![i]] };
            assert_eq!(ids(&hits), want_parent, "bits {bits} {v}");
            assert_eq!(ids(&idx.lookup_url(&format!("http://{v}/p{i}/q"))), [vec![i]], "bits {bits}");
            assert_eq!(ids(&idx.lookup_ip(ip(&format!("10.0.{}.{}", i / 256, i % 256)))), [vec![i]]);
            assert_eq!(ids(&idx.lookup_hash(&format!("{i:040x}"))), [vec![i]]);
        }
        assert!(domain_hits(&idx, "v1.x2.com", None).is_empty(), "bits {bits}");
        assert!(domain_hits(&idx, "www.x1.com", None).is_empty(), "bits {bits}");
        assert!(idx.lookup_ip(ip("10.0.9.9")).is_empty());
        assert!(idx.lookup_hash(&format!("{:040x}", 5000)).is_empty());
    }
}

#[test]
fn seeded_layouts_answer_alike() {
    let build = |b: anbao_intel::IndicatorIndexBuilder| {
        let mut b = b;
        b.add(K::Domain, "evil.com", 1).unwrap();
        b.add(K::Domain, "a.b.evil.com", 2).unwrap();
        b.build()
    };
    for idx in [build(IndicatorIndex::builder()), build(anbao_intel::IndicatorIndexBuilder::with_seed(42))] {
        assert_eq!(ids(&domain_hits(&idx, "x.a.b.evil.com", None)), [vec![2], vec![1]]);
        assert_eq!(ids(&domain_hits(&idx, "b.evil.com", None)), [vec![1]]);
    }
}

#[test]
fn deep_names_and_many_ancestors() {
    // More listed ancestors than a lookup keeps on its stack.
    let labels: Vec<String> = (0..20).map(|i| format!("l{i}")).collect();
    let mut b = IndicatorIndex::builder();
    for k in 1..=labels.len() {
        b.add(K::Domain, &labels[labels.len() - k..].join("."), k as u64).unwrap();
    }
    let deepest = labels.join(".");
    b.add(K::Domain, &["a"; 127].join("."), 99).unwrap();
    let idx = b.build();
    let hits = domain_hits(&idx, &format!("x.{deepest}"), None);
    assert_eq!(ids(&hits), (1..=20u64).rev().map(|k| vec![k]).collect::<Vec<_>>());
    assert_eq!(hits[0].matched, Match::Parent { listed: deepest.clone() });
    assert_eq!(ids(&domain_hits(&idx, &deepest, None))[0], vec![20]);
    assert_eq!(domain_hits(&idx, &deepest, None)[0].matched, Match::Exact);
    assert_eq!(ids(&domain_hits(&idx, &["a"; 127].join("."), None)), [vec![99]]);
    assert!(domain_hits(&idx, &["a"; 126].join("."), None).is_empty());
    // Upper case, trailing dot, IDN, invalid: same normalisation as `add`.
    assert_eq!(ids(&domain_hits(&idx, "X.L18.L19.", None)), [vec![2], vec![1]]);
    assert!(domain_hits(&idx, "-x.l19", None).is_empty());
    assert!(domain_hits(&idx, "x..l19", None).is_empty());
    assert!(domain_hits(&idx, "", None).is_empty());
}

#[test]
fn ipv6_prefixes() {
    let mut b = IndicatorIndex::builder();
    for (i, len) in [0u8, 1, 16, 32, 47, 48, 63, 64, 96, 120, 127, 128].into_iter().enumerate() {
        let a: std::net::Ipv6Addr = "2001:db8:1234:5678:9abc:def0:1234:5678".parse().unwrap();
        let net = u128::from(a) & u128::MAX.checked_shl(128 - u32::from(len)).unwrap_or(0);
        b.add(K::Cidr, &format!("{}/{len}", std::net::Ipv6Addr::from(net)), i as u64).unwrap();
    }
    b.add(K::Ipv6, "2001:DB8:1234:5678:9ABC:DEF0:1234:5678", 100).unwrap();
    b.add(K::Cidr, "::ffff:10.0.0.0/104", 101).unwrap(); // IPv4-mapped: 10.0.0.0/8
    let idx = b.build();
    let hits = idx.lookup_ip(ip("2001:db8:1234:5678:9abc:def0:1234:5678"));
    assert_eq!(hits[0], Hit { kind: K::Ipv6, matched: Match::Exact, ids: vec![100] });
    assert_eq!(ids(&hits[1..]), (0..12u64).rev().map(|i| vec![i]).collect::<Vec<_>>());
    assert_eq!(hits[1].matched, Match::Network { listed: "2001:db8:1234:5678:9abc:def0:1234:5678/128".into() });
    assert_eq!(hits[12].matched, Match::Network { listed: "::/0".into() });
    let hits = idx.lookup_ip(ip("2001:db8:1234:5679::1"));
    assert_eq!(
        hits.iter().map(|h| h.matched.clone()).collect::<Vec<_>>(),
        [
            Match::Network { listed: "2001:db8:1234:5678::/63".into() },
            Match::Network { listed: "2001:db8:1234::/48".into() },
            Match::Network { listed: "2001:db8:1234::/47".into() },
            Match::Network { listed: "2001:db8::/32".into() },
            Match::Network { listed: "2001::/16".into() },
            Match::Network { listed: "::/1".into() },
            Match::Network { listed: "::/0".into() },
        ]
    );
    assert_eq!(ids(&idx.lookup_ip(ip("8000::1"))), [vec![0]]);
    assert_eq!(ids(&idx.lookup_ip(ip("10.1.2.3"))), [vec![101]]);
    assert_eq!(ids(&idx.lookup_exact(K::Cidr, "2001:db8::/32")), [vec![3]]);
    assert!(idx.lookup_exact(K::Cidr, "2001:db8::/33").is_empty());
}

#[test]
fn url_prefixes() {
    let mut b = IndicatorIndex::builder();
    b.add(K::Url, "http://x.com", 1).unwrap();
    b.add(K::Url, "http://x.com/a/b/", 2).unwrap();
    b.add(K::Url, "http://x.com/a/b/c", 3).unwrap();
    b.add(K::Url, "https://x.com/a", 4).unwrap();
    b.add(K::Url, "http://x.com:8080/a", 5).unwrap();
    b.add(K::Url, "http://x.com/a/b/c?d=1", 6).unwrap();
    b.add(K::Url, "http://[2001:db8::1]/p", 7).unwrap();
    let idx = b.build();
    assert_eq!(ids(&idx.lookup_url("http://X.com/a/b/c/d?e")), [vec![3], vec![2], vec![1]]);
    assert_eq!(ids(&idx.lookup_url("http://x.com/a/b/c?d=1")), [vec![6], vec![3], vec![2], vec![1]]);
    assert_eq!(idx.lookup_url("http://x.com/a/b/c?d=1")[0].matched, Match::Exact);
    assert_eq!(ids(&idx.lookup_url("http://x.com/a/bc")), [vec![1]]);
    assert_eq!(ids(&idx.lookup_url("https://x.com/a/b")), [vec![4]]);
    assert_eq!(ids(&idx.lookup_url("http://x.com:8080/a/z")), [vec![5]]);
    assert!(idx.lookup_url("http://y.com/a").is_empty());
    assert_eq!(ids(&idx.lookup_url("http://[2001:db8::1]/p/q")), [vec![7]]);
    let mut listed = Vec::new();
    idx.visit_url("http://x.com/a/b/c/d", None, |h| match h.matched {
        anbao_intel::index::MatchRef::UrlPrefix(l) => listed.push(l.as_str()),
        other => panic!("{other:?}"),
    });
    // The last one listed as `http://x.com`, normalised with the path `/`.
    assert_eq!(listed, ["http://x.com/a/b/c", "http://x.com/a/b/", "http://x.com/"]);
}

#[test]
fn sizes() {
    let empty = IndicatorIndex::builder().build();
    assert_eq!(empty.len(), 0);
    assert!(empty.is_empty());
    assert!(empty.lookup("evil.com").is_empty());
    assert_eq!(empty.visit_domains(&["a.b"], None, |_, _| {}), 0);
    let mut b = IndicatorIndex::builder();
    for i in 0..10_000u64 {
        b.add(K::Domain, &format!("host{i}.example.com"), i).unwrap();
    }
    let idx = b.build();
    assert_eq!(idx.len(), 10_000);
    // Arena (name + ~4 bytes) plus about 9 bytes of slots per value, and a
    // phantom slot for example.com and com.
    let per = idx.heap_bytes() / idx.len();
    assert!((20..60).contains(&per), "{per} bytes per domain");
}
