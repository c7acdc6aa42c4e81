//! Warninglists and the allowlist.

use anbao_intel::IndicatorKind as K;
use anbao_intel::allowlist::{Allowlist, AllowlistBuilder, Warninglist, WarninglistType};

fn wl(name: &str) -> Warninglist {
    let bytes = std::fs::read(format!("{}/test_data/warninglists/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap();
    Warninglist::from_json(&bytes).unwrap()
}

fn all() -> Allowlist {
    let mut b = AllowlistBuilder::new();
    for f in
        ["top-domains.json", "public-dns.json", "vendor-regex.json", "substring.json", "hashes.json", "btc-only.json"]
    {
        b.add_warninglist(&wl(f));
    }
    b.build()
}

fn hit(a: &Allowlist, kind: K, v: &str) -> Option<(String, String)> {
    a.allows(kind, v).map(|h| (h.list.to_owned(), h.entry.to_owned()))
}

const TOP: &str = "Top 10 domains (test excerpt)";
const DNS: &str = "List of known public DNS resolvers (test excerpt)";

#[test]
fn reading_warninglists() {
    let top = wl("top-domains.json");
    assert_eq!(top.list_type, WarninglistType::Hostname);
    assert_eq!(top.version, 20240601);
    assert_eq!(top.entries.len(), 8);
    assert_eq!(top.matching_attributes, ["hostname", "domain", "url", "domain|ip"]);
    let dns = wl("public-dns.json");
    assert_eq!(
        (dns.list_type, dns.version, dns.category.as_deref()),
        (WarninglistType::Cidr, 3, Some("false_positive"))
    );
    assert!(dns.entries.contains(&"1.1.1.0/24".to_owned()));
    assert_eq!(wl("vendor-regex.json").list_type, WarninglistType::Regex);

    for bad in [&b"{}"[..], b"[]", br#"{"name":"x","type":"glob","list":[]}"#, br#"{"name":"x"}"#, b"{"] {
        assert!(Warninglist::from_json(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
    let minimal = Warninglist::from_json(br#"{"name":"m","list":["a"]}"#).unwrap();
    assert_eq!((minimal.list_type, minimal.version), (WarninglistType::String, 1));
}

#[test]
fn bad_entries_are_reported_and_skipped() {
    let mut b = AllowlistBuilder::new();
    let bad = b.add_warninglist(&wl("top-domains.json"));
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].entry, "not a domain!");
    let bad = b.add_warninglist(&wl("public-dns.json"));
    assert_eq!(bad.iter().map(|e| e.entry.as_str()).collect::<Vec<_>>(), ["not-an-ip"]);
    let bad = b.add_warninglist(&wl("vendor-regex.json"));
    assert_eq!(bad.iter().map(|e| e.entry.as_str()).collect::<Vec<_>>(), ["/[unclosed/"]);
}

#[test]
fn hostnames_and_subdomains() {
    let a = all();
    let top = |e: &str| Some((TOP.to_owned(), e.to_owned()));
    assert_eq!(hit(&a, K::Domain, "google.com"), top("google.com"));
    assert_eq!(hit(&a, K::Domain, "mail.google.com"), top("google.com"));
    assert_eq!(hit(&a, K::Domain, "www.google.com"), top("www.google.com"));
    assert_eq!(hit(&a, K::Domain, "google.com.evil.net"), None);
    assert_eq!(hit(&a, K::Domain, "notgoogle.com"), None);
    assert_eq!(hit(&a, K::Domain, "facebook.com"), top("facebook.com"));
    assert_eq!(hit(&a, K::Domain, "icloud.apple.com"), top("apple.com"));
    assert_eq!(hit(&a, K::Domain, "s3.amazonaws.com"), top("amazonaws.com"));
    assert_eq!(hit(&a, K::Domain, "xn--bcher-kva.example"), top("xn--bcher-kva.example"));
    assert_eq!(hit(&a, K::Url, "https://docs.google.com/x?y=1"), top("google.com"));
    assert_eq!(hit(&a, K::Url, "http://user:pw@microsoft.com:8080/"), top("microsoft.com"));
    assert_eq!(hit(&a, K::Url, "http://google.com.evil.net/"), None);
    // Not in the list's matching attributes: e-mail addresses.
    assert_eq!(hit(&a, K::Email, "someone@google.com"), None);
}

#[test]
fn networks() {
    let a = all();
    let dns = |e: &str| Some((DNS.to_owned(), e.to_owned()));
    assert_eq!(hit(&a, K::Ipv4, "8.8.8.8"), dns("8.8.8.8/32"));
    assert_eq!(hit(&a, K::Ipv4, "8.8.4.4"), dns("8.8.4.4/32"));
    assert_eq!(hit(&a, K::Ipv4, "1.1.1.1"), dns("1.1.1.0/24"));
    assert_eq!(hit(&a, K::Ipv4, "9.200.1.1"), dns("9.0.0.0/8"));
    assert_eq!(hit(&a, K::Ipv4, "8.8.8.9"), None);
    assert_eq!(hit(&a, K::Ipv6, "2001:4860:4860::8888"), dns("2001:4860:4860::8888/128"));
    assert_eq!(hit(&a, K::Ipv6, "2606:4700:4700::1111"), dns("2606:4700:4700::/48"));
    assert_eq!(hit(&a, K::Cidr, "1.1.1.128/25"), dns("1.1.1.0/24"));
    assert_eq!(hit(&a, K::Cidr, "1.1.0.0/16"), None, "wider than the listed network");
    assert_eq!(hit(&a, K::Cidr, "1.1.1.0/24"), dns("1.1.1.0/24"));
    // URL hosts are checked only when the list matches URLs: this one does not.
    assert_eq!(hit(&a, K::Url, "http://8.8.8.8/dns-query"), None);
}

#[test]
fn strings_substrings_and_regexes() {
    let a = all();
    let hashes = "Empty-file hashes (test)";
    assert_eq!(hit(&a, K::Md5, "d41d8cd98f00b204e9800998ecf8427e").unwrap().0, hashes);
    assert_eq!(
        hit(&a, K::Sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855").unwrap().0,
        hashes
    );
    // The same hex as a JA3 fingerprint is not a file hash.
    assert_eq!(hit(&a, K::Ja3, "d41d8cd98f00b204e9800998ecf8427e"), None);
    let sub = "Sinkhole substrings (test)";
    assert_eq!(hit(&a, K::Domain, "sinkhole.shadowserver.example"), Some((sub.to_owned(), "sinkhole".to_owned())));
    assert_eq!(hit(&a, K::Url, "http://x.example/sinkholed"), Some((sub.to_owned(), "sinkhole".to_owned())));
    assert_eq!(hit(&a, K::Md5, "0cc175b9c0f1b6a831c399e269772661"), None);
    let re = "Security vendor URLs (test regex)";
    assert_eq!(hit(&a, K::Url, "https://www.virustotal.com/gui/file/abc").unwrap().0, re);
    assert_eq!(hit(&a, K::Url, "https://virustotal.com.evil.net/gui/").map(|h| h.0), None);
    assert_eq!(hit(&a, K::Domain, "img.example-cdn.net").unwrap().0, re);
    // The BTC-only list applies to none of our kinds and is not loaded.
    assert!(all().list_names().all(|n| n != "BTC addresses (test)"));
}

#[test]
fn ad_hoc_entries() {
    let mut b = Allowlist::builder();
    let bad = b.add_entries(
        "our partners",
        ["Partner.Example", "*.cdn.example", "192.0.2.0/24", "2001:db8::1", "http://intranet.example/x", "??", ""],
    );
    assert_eq!(bad.len(), 1);
    assert_eq!(bad[0].entry, "??");
    let a = b.build();
    assert!(!a.is_empty());
    fn list(v: Option<anbao_intel::allowlist::AllowHit<'_>>) -> Option<(&str, &str)> {
        v.map(|h| (h.list, h.entry))
    }
    assert_eq!(list(a.allows(K::Domain, "www.partner.example")), Some(("our partners", "partner.example")));
    assert_eq!(list(a.allows(K::Domain, "img.cdn.example")), Some(("our partners", "cdn.example")));
    assert_eq!(list(a.allows(K::Email, "ceo@partner.example")), Some(("our partners", "partner.example")));
    assert_eq!(list(a.allows(K::Ipv4, "192.0.2.200")), Some(("our partners", "192.0.2.0/24")));
    assert_eq!(list(a.allows(K::Url, "http://192.0.2.9/")), Some(("our partners", "192.0.2.0/24")));
    assert_eq!(list(a.allows(K::Url, "http://[2001:db8::1]/")), Some(("our partners", "2001:db8::1/128")));
    assert_eq!(
        list(a.allows(K::Url, "http://intranet.example/x")),
        Some(("our partners", "http://intranet.example/x"))
    );
    assert_eq!(list(a.allows(K::Url, "http://intranet.example/y")), None);
    assert!(Allowlist::builder().build().is_empty());
}

#[test]
fn a_big_hostname_list_is_quick() {
    let mut b = AllowlistBuilder::new();
    let names: Vec<String> = (0..200_000).map(|i| format!("site{i}.example")).collect();
    let wl = Warninglist {
        name: "big".into(),
        description: String::new(),
        version: 1,
        list_type: WarninglistType::Hostname,
        category: None,
        matching_attributes: vec![],
        entries: names,
    };
    assert!(b.add_warninglist(&wl).is_empty());
    let a = b.build();
    let start = std::time::Instant::now();
    let mut n = 0;
    for i in 0..200_000 {
        if a.allows(K::Domain, &format!("a.b.site{}.example", i * 7)).is_some() {
            n += 1;
        }
    }
    assert_eq!(n, 28_572);
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
}
