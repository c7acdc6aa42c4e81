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
