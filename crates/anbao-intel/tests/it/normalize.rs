use anbao_intel::{IndicatorKind as K, detect_kind, normalize};

#[test]
fn valid_values() {
    let long_label = "a".repeat(63);
    let long_ok = format!("{long_label}.{long_label}.{long_label}.{}.com", "b".repeat(57));
    assert_eq!(long_ok.len(), 253);
    let cases: &[(K, &str, &str)] = &[
        (K::Domain, "例子.测试", "xn--fsqu00a.xn--0zwm56d"),
        (K::Domain, "WWW.Example.COM.", "www.example.com"),
        (K::Domain, "  evil.com\n", "evil.com"),
        (K::Domain, "_dmarc.Example.com", "_dmarc.example.com"),
        (K::Domain, "xn--fsqu00a.xn--0zwm56d", "xn--fsqu00a.xn--0zwm56d"),
        (K::Domain, "Bücher.de", "xn--bcher-kva.de"),
        (K::Domain, "localhost", "localhost"),
        (K::Domain, &long_ok, &long_ok),
        (K::Url, "HTTP://WWW.Example.COM:80/a/./b/../c?x=1#frag", "http://www.example.com/a/c?x=1"),
        (K::Url, "https://example.com:443", "https://example.com/"),
        (K::Url, "https://example.com:8443/", "https://example.com:8443/"),
        (K::Url, "example.com/path", "http://example.com/path"),
        (K::Url, "example.com:8080/p", "http://example.com:8080/p"),
        (K::Url, "//example.com/p", "http://example.com/p"),
        (K::Url, "http://x.com/%7euser/%2fa%2Fb/%41%62", "http://x.com/~user/%2Fa%2Fb/Ab"),
        (K::Url, "http://x.com/a%2e/%2E%2E/b", "http://x.com/b"),
        (K::Url, "http://x.com/?q=%7e%3d", "http://x.com/?q=~%3D"),
        (K::Url, "http://x.com/?", "http://x.com/"),
        (K::Url, "http://x.com/100%", "http://x.com/100%25"),
        (K::Url, "http://例子.测试/路径", "http://xn--fsqu00a.xn--0zwm56d/%E8%B7%AF%E5%BE%84"),
        (K::Url, "http://[::ffff:10.0.0.1]:8080/", "http://10.0.0.1:8080/"),
        (K::Url, "http://[2001:DB8::1]/", "http://[2001:db8::1]/"),
        (K::Url, "http://user:pw@x.com/", "http://user:pw@x.com/"),
        (K::Url, "http://x.com./", "http://x.com/"),
        (K::Ipv4, "10.0.0.1", "10.0.0.1"),
        (K::Ipv6, "::ffff:10.0.0.1", "10.0.0.1"),
        (K::Ipv6, "2001:0DB8:0000::0001", "2001:db8::1"),
        (K::Ipv6, "[2001:db8::1]", "2001:db8::1"),
        (K::Cidr, "10.0.0.0/8", "10.0.0.0/8"),
        (K::Cidr, "0.0.0.0/0", "0.0.0.0/0"),
        (K::Cidr, "2001:DB8::/32", "2001:db8::/32"),
        (K::Cidr, "::ffff:10.0.0.0/104", "10.0.0.0/8"),
        (K::Md5, "D41D8CD98F00B204E9800998ECF8427E", "d41d8cd98f00b204e9800998ecf8427e"),
        (K::Sha1, &"A".repeat(40), &"a".repeat(40)),
        (K::Sha256, &"F".repeat(64), &"f".repeat(64)),
        (K::CertSha256, &["AB"; 32].join(":"), &"ab".repeat(32)),
        (K::Ja3, &"0".repeat(32), &"0".repeat(32)),
        (K::Email, "John.Doe@Example.COM", "John.Doe@example.com"),
        (K::AndroidPackage, "com.Example.app_1", "com.Example.app_1"),
    ];
    for &(kind, raw, want) in cases {
        let got = normalize(kind, raw).unwrap_or_else(|e| panic!("{kind} {raw:?}: {e}"));
        assert_eq!(got, want, "{kind} {raw:?}");
        // Idempotent: the normal form normalises to itself.
        let again = normalize(kind, &got).unwrap_or_else(|e| panic!("{kind} {got:?}: {e}"));
        assert_eq!(again, got, "{kind} {got:?} again");
    }
}

#[test]
fn invalid_values() {
    let long = format!("{}.com", ["abcdefghij"; 30].join("."));
    assert!(long.len() > 290);
    let cases: &[(K, &str, &str)] = &[
        (K::Domain, "evil .com", "whitespace"),
        (K::Domain, "", "empty"),
        (K::Domain, &long, "more than 253"),
        (K::Domain, &format!("{}.com", "a".repeat(64)), "more than 63"),
        (K::Domain, "a..b.com", "empty label"),
        (K::Domain, ".", "empty"),
        (K::Domain, "-a.com", "starts or ends with '-'"),
        (K::Domain, "a!.com", "characters other than"),
        (K::Domain, "1.2.3.4", "IP address"),
        (K::Domain, "999.1.1.1", "number"),
        (K::Domain, "[::1]", "IP address"),
        (K::Url, "javascript:alert(1)//x", "not a URL"),
        (K::Url, "file:///etc/passwd", "unsupported scheme"),
        (K::Url, "http://a..b/", "host"),
        (K::Url, "http://x.com/a b", "whitespace"),
        (K::Ipv4, "999.1.1.1", "dotted-quad"),
        (K::Ipv4, "010.1.1.1", "dotted-quad"),
        (K::Ipv4, "::1", "dotted-quad"),
        (K::Ipv6, "fe80::1%eth0", "zone"),
        (K::Ipv6, "1.2.3", "not an IPv6"),
        (K::Cidr, "10.1.2.3/8", "host bits set; the network is 10.0.0.0/8"),
        (K::Cidr, "10.0.0.0/33", "more than 32"),
        (K::Cidr, "10.0.0.0", "missing"),
        (K::Cidr, "10.0.0.0/+8", "not a number"),
        (K::Cidr, "2001:db8::1/32", "the network is 2001:db8::/32"),
        (K::Md5, &"a".repeat(31), "31 characters"),
        (K::Md5, &"g".repeat(32), "not hexadecimal"),
        (K::Sha256, &"a".repeat(65), "not 64"),
        (K::CertSha256, "ABC:DE", "byte pairs"),
        (K::Email, "nobody", "no '@'"),
        (K::Email, "a@b@c.com", "more than one"),
        (K::Email, "@c.com", "local part"),
        (K::Email, "a@c..com", "domain: empty label"),
        (K::AndroidPackage, "app", "two segments"),
        (K::AndroidPackage, "com.1app", "start with a letter"),
    ];
    for &(kind, raw, reason) in cases {
        let err = normalize(kind, raw).expect_err(raw);
        assert_eq!(err.kind, kind);
        assert!(err.reason.contains(reason), "{kind} {raw:?}: {:?} lacks {reason:?}", err.reason);
        assert!(err.value.len() <= 256);
    }
}

#[test]
fn detect() {
    let cases: &[(&str, Option<K>)] = &[
        ("evil.com", Some(K::Domain)),
        ("例子.测试", Some(K::Domain)),
        ("http://evil.com/x", Some(K::Url)),
        ("evil.com/x", Some(K::Url)),
        ("10.0.0.0/8", Some(K::Cidr)),
        ("1.2.3.4", Some(K::Ipv4)),
        ("::ffff:1.2.3.4", Some(K::Ipv6)),
        ("2001:db8::1", Some(K::Ipv6)),
        (&"a".repeat(32), Some(K::Md5)),
        (&"a".repeat(40), Some(K::Sha1)),
        (&"a".repeat(64), Some(K::Sha256)),
        ("a@b.com", Some(K::Email)),
        ("999.1.1.1", None),
        ("word", None),
        ("", None),
        ("# comment", None),
    ];
    for &(raw, want) in cases {
        assert_eq!(detect_kind(raw), want, "{raw:?}");
    }
}
