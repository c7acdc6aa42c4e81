//! STIX 2.1: the pattern grammar (accepted and refused patterns, printer
//! round trip), pattern → lookups, bundle reading (the OASIS examples in
//! `../shared/data/stix`, a Poison-Ivy-like fixture, hostile shapes), and
//! bundle export (round trip, and the OASIS validator as oracle).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use anbao_intel::stix::pattern::{
    Comparison, ComparisonExpr, Constant, ObservationExpr, Operator, PathStep, Qualifier,
};
use anbao_intel::stix::{
    BundleWriter, ExportOptions, IndicatorMeta, Lookups, TlpVersion, indicator_id, lookups, parse, pattern_for,
    read_bundle, write_bundle,
};
use anbao_intel::{Category, Collected, FeedItem, Indicator, IndicatorKind, StixObject, Tlp};
use time::macros::datetime;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/stix");
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/test_data/stix");

const SHA256: &str = "ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c";
const SHA1: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
const MD5: &str = "808e21d6efa2884811fbd0adf67fda78";

use IndicatorKind as K;

// ------------------------------------------------------------------ grammar

/// Patterns the OASIS pattern validator (stix2-patterns 2.1) accepts.
const VALID: &[&str] = &[
    "[ipv4-addr:value = '198.51.100.1']",
    "[ ipv4-addr:value = '10.0.0.0' ]",
    "[x-foo:'a-b'.c[*].'d e'[1] = 1]",
    "[x:y = -0]",
    "[x:a.b.c = 1]",
    "[a:b = 1] OR [c:d = 2] AND [e:f = 3]",
    "[a:b = 1 AND c:d = 1 OR c:d = 2]",
    "([a:b = 1 AND c:d = 1]) AND [c:d = 2]",
    "[EXISTS a:b]",
    "[NOT EXISTS a:b]",
    "[a:b = 1] /* hi */ // there",
    "[a:b MATCHES 'x']",
    "[a:b = t'2020-01-01T00:00:00.123Z']",
    "[a:b ISSUBSET '1.2.3.0/24']",
    "[a:b ISSUPERSET '1.2.3.0/24']",
    "[a:b LIKE 'x%']",
    "[a:b = 'x' ] START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:00Z'",
    "[a:b = 'x' ] WITHIN 1.5 SECONDS",
    "[a:b = 'x' ] REPEATS +3 TIMES",
    "[a:b = +.5]",
    "[a:b == 1]",
    "[a:b <> 1]",
    "[a:b IN (1, 'a', true)]",
    "[a:b IN ()]",
    "[a:'b c' = 1]",
    "[a:b.'' = 1]",
    "[a: b = 1]",
    "[a :b = 1]",
    "[a:b . c = 1]",
    "[a:b [ 1 ] = 1]",
    "[a:b = 'x']FOLLOWEDBY[a:b = 'x']",
    "[a:b = 'x'] FOLLOWEDBY ([a:b = 'x'] OR [c:d = 1]) WITHIN 5 SECONDS",
    "[a:b = b'AAA=']",
    "[a:b = b'AA==']",
    "[a:b = h'']",
    "[a:b = h'00fF']",
    "[(a:b = 1)]",
    "[((a:b = 1) OR a:c = 2) AND a:d = 3]",
    "[a_b:c = 1]",
    "[_a:c = 1]",
    "[a:b = 'é']",
    "[a:b = 'x']   ",
    "[a:b = 'x'] START t'2020-01-01T00:00:60Z' STOP t'2020-02-31T23:59:60.1Z'",
    "[a:b = 'x'] WITHIN 0.0 SECONDS",
    "[a:b = 'x'] WITHIN 5 SECONDS REPEATS 2 TIMES",
    "[a:b NOT IN ('x')]",
    "[a:b NOT = 'x']",
    "[a:b NOT LIKE 'x']",
    "[a:b = 'x' AND EXISTS a:c]",
    "[a:b = 'it\\'s a \\\\ path']",
    "[a:b = true] AND [a:b = false]",
    "[a:b > 1.25 AND a:b < -.5 AND a:b >= t'2020-01-01T00:00:00Z' AND a:b <= 'z']",
    "[a:b > h'ff'] OR [a:b < b'AAAA']",
    "[email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']",
    "[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']",
    "(([a:b = 1]))",
    "[a:b = 1]\u{a0}OR\u{3000}[a:b = 2]",
    "[x:ANDROID = 1]",
    "[a:b = 9223372036854775807]",
];

/// Patterns it refuses, with the byte offset we report and a piece of
/// what we say we expected.
const INVALID: &[(&str, usize, &str)] = &[
    ("", 0, "'[' or '('"),
    ("ipv4addr:value = '219.76.208.163'", 0, "'[' or '('"),
    ("[domain-name:value = 'x'].", 25, "the end"),
    ("[a:b = 'x'] and [c:d = 1]", 12, "observation operator"),
    ("[a:b = 'x", 7, "closing quote"),
    ("[x:y[01] = 1]", 5, "leading zeros"),
    ("[x:y = 'a\\b']", 10, "the only escapes"),
    ("[a:b-c = 1]", 3, "quote names"),
    ("[a:b = t'2020-13-01T00:00:00Z']", 7, "timestamp"),
    ("[a:b = h'0']", 7, "pairs of hex"),
    ("[a:b = b'']", 7, "base64"),
    ("[a:b = b'A===']", 7, "base64"),
    ("[a:b > true]", 7, "orderable"),
    ("[a:b LIKE 5]", 10, "a string"),
    ("[a:b MATCHES t'2020-01-01T00:00:00Z']", 13, "a string"),
    ("[a:b = 'x'] WITHIN -1 SECONDS", 19, "non-negative number"),
    ("[a:b = 'x'] REPEATS 1.0 TIMES", 20, "non-negative integer"),
    ("[a:b = 'x'] WITHIN 05 SECONDS", 19, "leading zeros"),
    ("[a:b = 'x'] START '2020-01-01T00:00:00Z' STOP '2020-01-01T00:00:00Z'", 18, "timestamp"),
    ("[NOT a:b = 1]", 5, "EXISTS"),
    ("[a:b NOT EXISTS]", 9, "comparison operator"),
    ("[a:b = 1e5]", 8, "']'"),
    ("[a:b = 1.]", 8, "']'"),
    ("[a:b IN ('a',)]", 13, "a constant"),
    ("[1a:c = 1]", 1, "a comparison"),
    ("[x:y = True]", 7, "a constant"),
    ("[a:b = 'x'] OR", 14, "'[' or '('"),
    ("[a:b = 'x'] AND", 15, "'[' or '('"),
    ("[a:b = 1] /* unterminated", 10, "'*/'"),
    ("[a:b = 1]]", 9, "the end"),
    ("[]", 1, "a comparison"),
    ("[a:b]", 4, "comparison operator"),
    ("[a:b = 1 OR]", 11, "a comparison"),
    ("[AND:b = 1]", 1, "a comparison"),
    ("[a:LAST = 1]", 3, "property name"),
    ("[a:b = 'x'] WITHIN 5", 20, "SECONDS"),
    ("[a:b = 'x'] REPEATS 5", 21, "TIMES"),
    ("[a:b = @]", 7, "a token"),
    ("[a:b ! 1]", 5, "a token"),
    ("[a:b = -]", 7, "a number"),
];

/// Refused on purpose where the OASIS grammar has no limit.
const OUR_LIMITS: &[(&str, usize, &str)] = &[
    ("[a:b = 99999999999999999999]", 7, "fits in 64 bits"),
    ("[a:b = 'x'] REPEATS 99999999999999999999 TIMES", 20, "fits in 64 bits"),
];

#[test]
fn grammar_accepts_and_round_trips() {
    for src in VALID {
        let p = parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}"));
        let printed = p.to_string();
        let again = parse(&printed).unwrap_or_else(|e| panic!("{src:?} printed as {printed:?}: {e}"));
        assert_eq!(p, again, "{src:?} printed as {printed:?}");
        assert_eq!(printed, again.to_string(), "printing is stable");
    }
}

#[test]
fn grammar_refuses_with_offset_and_expectation() {
    for (src, offset, expected) in INVALID.iter().chain(OUR_LIMITS) {
        let e = parse(src).expect_err(src);
        assert_eq!(e.offset, *offset, "{src:?}: {e}");
        assert!(e.to_string().contains(expected), "{src:?}: {e} (wanted {expected:?})");
    }
}

#[test]
fn lower_case_keywords_are_explained() {
    let e = parse("[a:b = 'x'] or [c:d = 1]").unwrap_err();
    assert!(e.found.contains("upper case"), "{e}");
}

#[test]
fn ast_shape() {
    let p = parse("[a:b = 1] OR [c:d = 2] AND [e:f = 3] FOLLOWEDBY [g:h = 4] WITHIN 5 SECONDS").unwrap();
    let ObservationExpr::FollowedBy(parts) = &p.expr else { panic!("{p:?}") };
    assert_eq!(parts.len(), 2);
    let ObservationExpr::Or(or) = &parts[0] else { panic!("{p:?}") };
    assert!(matches!(&or[1], ObservationExpr::And(v) if v.len() == 2));
    assert!(matches!(&parts[1], ObservationExpr::Qualified(_, Qualifier::Within(Constant::Int(5)))));

    let p = parse("[file:hashes.'SHA-256' NOT IN ('a', 2) AND (x:y[*] > 1.5 OR x:y[-1] LIKE 'q')]").unwrap();
    let ObservationExpr::Observation(ComparisonExpr::And(v)) = &p.expr else { panic!("{p:?}") };
    let ComparisonExpr::Test(Comparison { path, negated: true, op: Operator::In(set) }) = &v[0] else { panic!() };
    assert_eq!(path.object_type, "file");
    assert_eq!(path.steps, vec![PathStep::Key("hashes".into()), PathStep::Key("SHA-256".into())]);
    assert_eq!(set, &vec![Constant::String("a".into()), Constant::Int(2)]);
    let ComparisonExpr::Or(inner) = &v[1] else { panic!() };
    let ComparisonExpr::Test(t) = &inner[1] else { panic!() };
    assert_eq!(t.path.steps[1], PathStep::Index(-1));

    let p = parse("[a:b = 'it\\'s \\\\'] START t'2020-01-01T00:00:00Z' STOP t'2020-01-02T00:00:00Z'").unwrap();
    let ObservationExpr::Qualified(inner, Qualifier::StartStop { start, stop }) = &p.expr else { panic!() };
    assert_eq!((start.as_str(), stop.as_str()), ("2020-01-01T00:00:00Z", "2020-01-02T00:00:00Z"));
    let ObservationExpr::Observation(ComparisonExpr::Test(t)) = &**inner else { panic!() };
    assert_eq!(t.op, Operator::Eq(Constant::String("it's \\".into())));
    assert_eq!(t.to_string(), "a:b = 'it\\'s \\\\'");
}

#[test]
fn hostile_patterns_are_bounded() {
    // Deep nesting is refused, not a stack overflow.
    let observations = format!("{}[a:b = 1]{}", "(".repeat(100_000), ")".repeat(100_000));
    let comparisons = format!("[{}a:b = 1{}]", "(".repeat(100_000), ")".repeat(100_000));
    for src in [observations, comparisons] {
        let e = parse(&src).unwrap_err();
        assert!(e.expected.contains("nested"), "{e}");
        assert_eq!(e.offset, 64);
    }
    let ok = format!("{}[{}a:b = 1{}]{}", "(".repeat(30), "(".repeat(33), ")".repeat(33), ")".repeat(30));
    parse(&ok).unwrap();
    // Long but flat: linear.
    let long = format!("[{}]", vec!["a:b = 'x'"; 50_000].join(" OR "));
    let start = std::time::Instant::now();
    parse(&long).unwrap();
    assert!(start.elapsed().as_secs() < 5);
    // Over the length limit.
    let huge = format!("[a:b = '{}']", "x".repeat(1 << 20));
    assert_eq!(parse(&huge).unwrap_err().offset, 0);
    // Many unterminated comments / strings do not go quadratic.
    let comments = "/*".repeat(200_000);
    assert!(parse(&comments).is_err());
    let quotes = "[a:b = '".to_owned() + &"\\'".repeat(200_000);
    assert!(parse(&quotes).is_err());
}

// ------------------------------------------------------------------ lookups

fn look(src: &str) -> Result<Lookups, String> {
    lookups(&parse(src).unwrap_or_else(|e| panic!("{src:?}: {e}")))
}

#[test]
fn pattern_table() {
    let md5_up = MD5.to_uppercase();
    // (pattern, lookups), all values valid.
    let ok: Vec<(String, Vec<(K, &str)>)> = vec![
        ("[domain-name:value = 'Example.COM.']".into(), vec![(K::Domain, "example.com")]),
        ("[domain-name:value = '例子.测试']".into(), vec![(K::Domain, "xn--fsqu00a.xn--0zwm56d")]),
        ("[url:value = 'HTTP://Evil.Example:80/a/../b']".into(), vec![(K::Url, "http://evil.example/b")]),
        ("[url:value = 'http://evil.example/it\\'s']".into(), vec![(K::Url, "http://evil.example/it's")]),
        ("[ipv4-addr:value = '10.0.0.0']".into(), vec![(K::Ipv4, "10.0.0.0")]),
        (
            "[ipv4-addr:value = '198.51.100.1/32' OR ipv4-addr:value = '203.0.113.0/24' OR \
             ipv6-addr:value = '2001:0db8:dead:beef:dead:beef:dead:0001/128']"
                .into(),
            vec![(K::Cidr, "198.51.100.1/32"), (K::Cidr, "203.0.113.0/24"), (K::Cidr, "2001:db8:dead:beef:dead:beef:dead:1/128")],
        ),
        ("[ipv6-addr:value = '2001:DB8::1']".into(), vec![(K::Ipv6, "2001:db8::1")]),
        ("[ipv6-addr:value = '::ffff:192.0.2.1']".into(), vec![(K::Ipv4, "192.0.2.1")]),
        ("[ipv4-addr:value IN ('10.0.0.1', '10.0.0.2', '10.0.0.1')]".into(), vec![(K::Ipv4, "10.0.0.1"), (K::Ipv4, "10.0.0.2")]),
        (format!("[file:hashes.MD5 = '{md5_up}']"), vec![(K::Md5, MD5)]),
        (format!("[file:hashes.md5 == '{MD5}']"), vec![(K::Md5, MD5)]),
        (format!("[file:hashes.'SHA-1' = '{SHA1}']"), vec![(K::Sha1, SHA1)]),
        (format!("[file:hashes.SHA1 = '{SHA1}']"), vec![(K::Sha1, SHA1)]),
        (format!("[file:hashes.'sha-256' = '{SHA256}']"), vec![(K::Sha256, SHA256)]),
        (format!("[file:hashes.SHA256 = '{SHA256}']"), vec![(K::Sha256, SHA256)]),
        (format!("[x509-certificate:hashes.'SHA-256' = '{SHA256}']"), vec![(K::CertSha256, SHA256)]),
        ("[email-addr:value = 'Bad.Guy@Evil.Example']".into(), vec![(K::Email, "Bad.Guy@evil.example")]),
        ("[email-message:from_ref.value = 'x@evil.example']".into(), vec![(K::Email, "x@evil.example")]),
        (
            "[domain-name:value = 'a.example'] OR ([url:value = 'http://b.example/'] OR [ipv4-addr:value = '192.0.2.9'])"
                .into(),
            vec![(K::Domain, "a.example"), (K::Url, "http://b.example/"), (K::Ipv4, "192.0.2.9")],
        ),
        ("[(domain-name:value = 'a.example' OR (domain-name:value = 'b.example'))]".into(), vec![(K::Domain, "a.example"), (K::Domain, "b.example")]),
        // The AND decision: hashes identify the file, the rest describes it.
        (format!("[file:hashes.MD5 = '{MD5}' AND file:name = 'x.exe']"), vec![(K::Md5, MD5)]),
        (
            format!("[file:name = 'x.exe' AND (file:hashes.MD5 = '{MD5}' OR file:hashes.'SHA-256' = '{SHA256}') AND file:size > 10]"),
            vec![(K::Md5, MD5), (K::Sha256, SHA256)],
        ),
        (format!("[file:hashes.MD5 = '{MD5}' AND file:hashes.SHA1 = '{SHA1}']"), vec![(K::Md5, MD5), (K::Sha1, SHA1)]),
        (format!("[x509-certificate:hashes.'SHA-256' = '{SHA256}' AND x509-certificate:issuer = 'x']"), vec![(K::CertSha256, SHA256)]),
        ("[domain-name:value IN ()]".into(), vec![]),
    ];
    for (src, want) in &ok {
        let got = look(src).unwrap_or_else(|e| panic!("{src}: {e}"));
        let want: Vec<(K, String)> = want.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        assert_eq!(got.valid, want, "{src}");
        assert!(got.rejected.is_empty(), "{src}: {:?}", got.rejected);
    }

    // Not matchable, with a piece of the reason.
    let not: &[(&str, &str)] = &[
        ("[domain-name:value = 'a.example'] AND [domain-name:value = 'b.example']", "joined by AND"),
        ("[domain-name:value = 'a.example'] FOLLOWEDBY [domain-name:value = 'b.example']", "FOLLOWEDBY"),
        ("[domain-name:value = 'a.example'] WITHIN 300 SECONDS", "WITHIN 300 SECONDS"),
        ("[domain-name:value = 'a.example'] REPEATS 5 TIMES", "REPEATS"),
        ("[domain-name:value = 'a.example'] START t'2020-01-01T00:00:00Z' STOP t'2021-01-01T00:00:00Z'", "START"),
        ("[domain-name:value = 'a.example'] OR [domain-name:value = 'b.example'] WITHIN 5 SECONDS", "WITHIN"),
        ("[domain-name:value != 'a.example']", "operator !="),
        ("[domain-name:value NOT = 'a.example']", "negated"),
        ("[domain-name:value LIKE '%.example']", "operator LIKE"),
        ("[domain-name:value MATCHES '^a']", "operator MATCHES"),
        ("[domain-name:value = 'a.example' OR domain-name:value LIKE '%.b']", "operator LIKE"),
        ("[domain-name:resolves_to_refs[*].value = '192.0.2.1']", "not a property we match"),
        ("[file:name = 'CBricksDoc']", "file:name is not a property"),
        ("[file:hashes.'SHA-512' = 'aa']", "not a property"),
        ("[ipv4addr:value = '60.10.1.114']", "ipv4addr:value is not a property"),
        ("[software:name = 'x']", "not a property"),
        ("[EXISTS domain-name:value]", "operator EXISTS"),
        ("[file:name = 'x' AND file:size = 3]", "joined by AND"),
        ("[file:hashes.MD5 = '808e21d6efa2884811fbd0adf67fda78' AND ipv4-addr:value = '1.2.3.4']", "joined by AND"),
        ("[domain-name:value = 'a.example' AND domain-name:value = 'b.example']", "joined by AND"),
        ("[file:hashes.MD5 != '808e21d6efa2884811fbd0adf67fda78' AND file:name = 'x']", "joined by AND"),
    ];
    for (src, reason) in not {
        let e = look(src).expect_err(src);
        assert!(e.contains(reason), "{src}: {e} (wanted {reason:?})");
    }

    // Bad values are rejected one by one; the rest still count.
    let got = look("[domain-name:value = 'domain autuo.xicp.net' OR ipv4-addr:value = '60.10.1.115']").unwrap();
    assert_eq!(got.valid, vec![(K::Ipv4, "60.10.1.115".to_owned())]);
    assert_eq!(got.rejected.len(), 1);
    assert_eq!(got.rejected[0].path, "domain-name:value");
    assert_eq!(got.rejected[0].value, "domain autuo.xicp.net");
    assert!(got.rejected[0].reason.contains("whitespace"), "{:?}", got.rejected);

    let got = look(
        "[ipv4-addr:value = 5 OR ipv4-addr:value = '2001:db8::/32' OR ipv4-addr:value = '10.1.2.3/8' \
         OR file:hashes.MD5 = 'abc' OR ipv4-addr:value IN ('1.2.3.4', '1.2.3.999')]",
    )
    .unwrap();
    assert_eq!(got.valid, vec![(K::Ipv4, "1.2.3.4".to_owned())]);
    let reasons: Vec<(&str, &str)> = got.rejected.iter().map(|r| (r.value.as_str(), r.reason.as_str())).collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert_eq!(reasons[0], ("5", "not a string constant"));
    assert!(reasons[1].1.contains("IPv6 network"), "{reasons:?}");
    assert!(reasons[2].1.contains("10.0.0.0/8"), "{reasons:?}");
    assert!(reasons[3].1.contains("hex"), "{reasons:?}");
    assert_eq!(reasons[4].0, "1.2.3.999");
}

// ------------------------------------------------------------------ reading

fn read(bytes: &[u8]) -> Collected {
    let mut c = Collected::default();
    read_bundle(bytes, &mut c).unwrap_or_else(|e| panic!("{e}"));
    c
}

fn items(bytes: &[u8]) -> Vec<FeedItem> {
    let mut v = Vec::new();
    read_bundle(bytes, &mut |i| v.push(i)).unwrap();
    v
}

/// What an OASIS example must give: objects, indicators (kind, value),
/// not-matchable count, rejected count.
type Expected = (usize, Vec<(K, &'static str)>, usize, usize);

fn shared_expectations() -> BTreeMap<&'static str, Expected> {
    BTreeMap::from([
        ("indicator-for-c2-ip-address.json", (1, vec![(K::Ipv4, "10.0.0.0")], 0, 0)),
        ("indicator-to-campaign-relationship.json", (3, vec![(K::Ipv4, "10.0.0.0")], 0, 0)),
        ("indicators-for-C2-with-COA.json", (8, vec![(K::Ipv4, "10.0.0.0"), (K::Sha256, SHA256)], 0, 0)),
        ("infrastructure.json", (10, vec![], 0, 0)),
        ("interop-objectmarking-test.json", (1, vec![], 0, 0)),
        ("malicious-email-indicator-with-attachment.json", (6, vec![], 2, 0)),
    ])
}

#[test]
fn every_shared_example_reads() {
    let dir = Path::new(SHARED);
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e} (CI has ../shared beside the clone)", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    assert!(files.len() >= 6, "{files:?}");
    let expect = shared_expectations();
    for path in &files {
        let name = path.file_name().unwrap().to_str().unwrap();
        let bytes = std::fs::read(path).unwrap();
        let c = read(&bytes);
        // Whatever the file: every indicator and not-matchable points at an
        // emitted indicator object, and every object's JSON parses.
        for o in &c.objects {
            let v: serde_json::Value = serde_json::from_str(&o.json).unwrap();
            assert_eq!(v["id"], o.id.as_str());
        }
        let ids: Vec<&str> = c.objects.iter().filter(|o| o.object_type == "indicator").map(|o| o.id.as_str()).collect();
        for i in &c.indicators {
            assert!(ids.contains(&i.external_id.as_deref().unwrap()), "{name}: {i:?}");
        }
        for n in &c.not_matchable {
            assert!(ids.contains(&n.id.as_str()), "{name}: {n:?}");
        }
        let Some((objects, indicators, not_matchable, rejected)) = expect.get(name) else {
            panic!("{name}: a new example; add its expectation to shared_expectations()");
        };
        assert_eq!(c.objects.len(), *objects, "{name}: {:?}", c.rejected);
        let got: Vec<(K, &str)> = c.indicators.iter().map(|i| (i.kind, i.value.as_str())).collect();
        assert_eq!(&got, indicators, "{name}");
        assert_eq!(c.not_matchable.len(), *not_matchable, "{name}: {:?}", c.not_matchable);
        assert_eq!(c.rejected.len(), *rejected, "{name}: {:?}", c.rejected);
    }
}

#[test]
fn shared_example_metadata() {
    let bytes = std::fs::read(Path::new(SHARED).join("indicator-for-c2-ip-address.json")).unwrap();
    let c = read(&bytes);
    let i = &c.indicators[0];
    assert_eq!(i.category, Some(Category::Other));
    assert_eq!(i.context, "IP Address for known C2 channel: Test description C2 channel.");
    assert_eq!(i.first_seen, Some(datetime!(2014-05-08 09:00:00 UTC)));
    assert_eq!(i.external_id.as_deref(), Some("indicator--33fe3b22-0201-47cf-85d0-97c02164528d"));
    assert_eq!(c.objects[0].version, "2014-05-08T09:00:00.000Z");
    assert_eq!(c.objects[0].spec_version, "2.1");

    let bytes = std::fs::read(Path::new(SHARED).join("malicious-email-indicator-with-attachment.json")).unwrap();
    let c = read(&bytes);
    assert!(c.not_matchable.iter().all(|n| n.reason.contains("not a property we match")), "{:?}", c.not_matchable);
    assert_eq!(
        c.not_matchable[1].pattern,
        "[email-message:body_multipart[*].body_raw_ref.name MATCHES '^Final Report.+\\\\.exe$']"
    );
    assert_eq!(c.not_matchable[0].location, "objects[2] (indicator--8cf9236f-1b96-493d-98be-0c1c1e8b62d7)");
}

#[test]
fn poisonivy_fixture() {
    let bytes = std::fs::read(Path::new(FIXTURES).join("poisonivy-2.1.json")).unwrap();
    let c = read(&bytes);
    assert_eq!(c.objects.len(), 10);
    let by_reason = |s: &str| c.rejected.iter().filter(|r| r.reason.contains(s)).count();
    assert_eq!(c.rejected.len(), 5, "{:#?}", c.rejected);
    assert_eq!(by_reason("id is not malware--<UUID>"), 1);
    assert_eq!(by_reason("invalid STIX pattern"), 2);
    assert_eq!(by_reason("no spec_version"), 1);
    let bad = c.rejected.iter().find(|r| r.value == "domain autuo.xicp.net").unwrap();
    assert_eq!(bad.location, "objects[7] (indicator--4e4c4ad7-4909-456a-b6fa-e24a6f682a40)");
    assert!(bad.reason.starts_with("domain-name:value: ") && bad.reason.contains("whitespace"), "{bad:?}");
    let stray_dot = c.rejected.iter().find(|r| r.location.contains("329ae6e9")).unwrap();
    assert!(stray_dot.reason.contains("at byte 235") && stray_dot.reason.contains("found '.'"), "{stray_dot:?}");

    assert_eq!(c.not_matchable.len(), 2, "{:#?}", c.not_matchable);
    assert!(c.not_matchable[0].reason.contains("file:name"));
    assert!(c.not_matchable[1].reason.contains("ipv4addr:value"));

    // 11 values of the byinter.net indicator, and the one good value next
    // to the malformed domain.
    assert_eq!(c.indicators.len(), 12);
    let byinter: Vec<&Indicator> = c
        .indicators
        .iter()
        .filter(|i| i.external_id.as_deref() == Some("indicator--8da68996-f175-4ae0-bd74-aad4913873b8"))
        .collect();
    assert_eq!(byinter.len(), 11);
    let first = byinter[0];
    assert_eq!((first.kind, first.value.as_str()), (K::Domain, "microsofta.byinter.net"));
    assert_eq!(first.category, Some(Category::BotnetCc));
    assert_eq!(first.tags, vec!["c2".to_owned(), "admin@338".to_owned()]);
    assert_eq!(first.confidence, Some(85));
    assert_eq!(first.tlp, Some(Tlp::Amber), "custom TLP marking definition earlier in the bundle");
    assert!(first.context.starts_with("microsoft.byinter.net: The gwx@123 sample"), "{}", first.context);
    let autuo = c.indicators.last().unwrap();
    assert_eq!((autuo.kind, autuo.value.as_str()), (K::Ipv4, "60.10.1.115"));
    assert_eq!(autuo.tlp, Some(Tlp::Green));
    assert_eq!(autuo.category, Some(Category::Other));
    assert_eq!(autuo.first_seen, Some(datetime!(2015-05-15 09:00:00 UTC)));

    // Order: an object comes before what its indicator yields.
    let all = items(&bytes);
    let pos_obj = all.iter().position(|i| matches!(i, FeedItem::Object(o) if o.id.contains("4e4c4ad7"))).unwrap();
    let pos_bad = all.iter().position(|i| matches!(i, FeedItem::Rejected(r) if r.value.contains("autuo"))).unwrap();
    assert!(pos_obj < pos_bad);
}

#[test]
fn single_object_and_bare_array() {
    let obj = r#"{"type":"indicator","spec_version":"2.1","id":"indicator--c43a0a05-e8d2-4f64-ae37-3f3fb153f8d9",
        "created":"2014-09-09T19:58:39.609Z","modified":"2014-09-10T19:58:39.609Z",
        "pattern":"[url:value = 'http://evil.example/x']","valid_from":"2014-09-09T19:58:39Z"}"#;
    let c = read(obj.as_bytes());
    assert_eq!(c.objects.len(), 1);
    assert_eq!(c.objects[0].version, "2014-09-10T19:58:39.609Z");
    assert_eq!(c.indicators[0].value, "http://evil.example/x");

    let arr = format!("[{obj}, 5, {{\"type\":\"note\"}}, {obj}]");
    let c = read(arr.as_bytes());
    assert_eq!(c.objects.len(), 2);
    assert_eq!(c.rejected.len(), 2);
    assert_eq!(c.rejected[0].location, "[1]");
    assert_eq!(c.rejected[0].reason, "not a JSON object");
    assert_eq!(c.rejected[1].location, "[2]");
    assert!(c.rejected[1].reason.contains("\"id\""));

    // A bundle whose "type" comes last, with a byte-order mark.
    let bundle = format!(
        "\u{feff}{{\"objects\":[{obj}],\"id\":\"bundle--44af6c39-c09b-49c5-9de2-394224b04982\",\"type\":\"bundle\"}}"
    );
    assert_eq!(read(bundle.as_bytes()).indicators.len(), 1);
    // An empty bundle.
    assert_eq!(read(br#"{"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982"}"#), Collected::default());
}

#[test]
fn whole_input_errors_name_line_and_column() {
    let cases: &[(&[u8], &str)] = &[
        (b"not json", "line 1 column 2"),
        (b"42", "line 1 column 2"),
        (b"\"bundle\"", "line 1 column 8"),
        (b"{\"type\":\"bundle\",\n\"objects\": 5}", "line 2 column 12"),
        (b"{\"type\":\"bundle\",\"objects\":[{\"type\":\"x\"}", "line 1 column 40"),
        (b"", "line 1 column 0"),
        (b"{} {}", "line 1 column 4"),
    ];
    for (input, location) in cases {
        let mut seen = 0;
        let e = read_bundle(input, &mut |_| seen += 1).unwrap_err();
        assert_eq!(e.format, "STIX bundle");
        assert_eq!(e.location, *location, "{:?}: {e}", String::from_utf8_lossy(input));
        assert_eq!(seen, 0, "nothing is emitted from a broken input");
    }
    // Deep JSON nesting is an error, not a stack overflow, and refused
    // before the objects ahead of it are emitted.
    let deep = "[".repeat(100_000);
    assert!(read_bundle(deep.as_bytes(), &mut |_| {}).is_err());
    let obj =
        indicator_json("00000000-0000-4000-8000-000000000001", r#","pattern":"[domain-name:value = 'a.example']""#);
    for depth in [200, 5000] {
        let deep = format!(
            "{{\"type\":\"bundle\",\"objects\":[{obj},\n{{\"x\":{}{}}}]}}",
            "[".repeat(depth),
            "]".repeat(depth)
        );
        let mut seen = 0;
        let e = read_bundle(deep.as_bytes(), &mut |_| seen += 1).unwrap_err();
        assert_eq!(seen, 0);
        assert_eq!(e.location, "line 3 column 103", "{e}");
        assert!(e.reason.contains("nested deeper than 100"), "{e}");
    }
    let ok = format!("{{\"type\":\"bundle\",\"objects\":[{obj},{{\"x\":{}{}}}]}}", "[".repeat(90), "]".repeat(90));
    assert_eq!(read(ok.as_bytes()).indicators.len(), 1);
}

fn indicator_json(id: &str, extra: &str) -> String {
    format!(
        r#"{{"type":"indicator","spec_version":"2.1","id":"indicator--{id}","created":"2020-01-01T00:00:00.000Z",
        "modified":"2020-01-01T00:00:00.000Z","valid_from":"2020-01-01T00:00:00Z"{extra}}}"#
    )
}

#[test]
fn indicator_variants() {
    let objs = [
        indicator_json("00000000-0000-4000-8000-000000000001", r#","pattern_type":"sigma","pattern":"title: x""#),
        indicator_json(
            "00000000-0000-4000-8000-000000000002",
            r#","pattern":"[domain-name:value = 'a.example']","revoked":true"#,
        ),
        indicator_json(
            "00000000-0000-4000-8000-000000000003",
            r#","pattern":"[domain-name:value = 'b.example']","indicator_types":["benign"]"#,
        ),
        indicator_json("00000000-0000-4000-8000-000000000004", ""),
        indicator_json(
            "00000000-0000-4000-8000-000000000005",
            r#","pattern":"[domain-name:value = 'c.example']","spec_version":"2.0""#,
        ),
        indicator_json(
            "00000000-0000-4000-8000-000000000006",
            r#","pattern":"[domain-name:value = 'd.example']","labels":["phishing","kit"],"confidence":101,
               "valid_until":"2021-01-01T00:00:00Z","description":"desc","name":"d.example",
               "object_marking_refs":["marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9","marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"]"#,
        ),
        indicator_json(
            "00000000-0000-4000-8000-000000000007",
            r#","pattern":"[domain-name:value = 'e.example']","pattern_type":5"#,
        ),
        indicator_json(
            "00000000-0000-4000-8000-000000000008",
            r#","pattern":"[domain-name:value = 'f.example']","indicator_types":["unknown"],"labels":["botnet_cc"]"#,
        ),
    ];
    let bundle = format!(
        r#"{{"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","objects":[{}]}}"#,
        objs.join(",")
    );
    let c = read(bundle.as_bytes());
    let reasons: Vec<&str> = c.not_matchable.iter().map(|n| n.reason.as_str()).collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert!(reasons[0].contains("\"sigma\""));
    assert!(reasons[1].contains("revoked"));
    assert!(reasons[2].contains("benign"));
    assert!(reasons[3].contains("pattern_type 5"));
    assert_eq!(c.not_matchable[0].pattern, "title: x");
    assert_eq!(c.rejected.len(), 2, "{:?}", c.rejected);
    assert!(c.rejected[0].reason.contains("without a \"pattern\""));
    assert!(c.rejected[1].reason.contains("spec_version"));
    assert_eq!(c.indicators.len(), 2);
    let d = &c.indicators[0];
    assert_eq!(d.value, "d.example");
    assert_eq!(d.category, Some(Category::Phishing));
    assert_eq!(d.tags, vec!["kit".to_owned()], "the label that is the category's name is not a tag");
    assert_eq!(d.confidence, None, "101 is out of range");
    assert_eq!(d.tlp, Some(Tlp::Red), "the most restrictive marking wins");
    assert_eq!(d.valid_until, Some(datetime!(2021-01-01 00:00:00 UTC)));
    assert_eq!(d.context, "desc", "the name is the value itself");
    let f = &c.indicators[1];
    assert_eq!(f.category, Some(Category::BotnetCc));
    assert!(f.tags.is_empty());

    // STIX 2.0 bundles: every SDO is refused with the reason.
    let v20 = r#"{"type":"bundle","id":"bundle--44af6c39-c09b-49c5-9de2-394224b04982","spec_version":"2.0","objects":[
        {"type":"indicator","id":"indicator--00000000-0000-4000-8000-000000000009","created":"2020-01-01T00:00:00.000Z",
         "modified":"2020-01-01T00:00:00.000Z","labels":["malicious-activity"],"pattern":"[domain-name:value = 'a.example']",
         "valid_from":"2020-01-01T00:00:00Z"}]}"#;
    let c = read(v20.as_bytes());
    assert!(c.objects.is_empty() && c.indicators.is_empty());
    assert!(c.rejected[0].reason.contains("spec_version \"2.0\""), "{:?}", c.rejected);
}

// ------------------------------------------------------------------ export

fn sample_indicators() -> Vec<Indicator> {
    let mut v = Vec::new();
    let mut add = |kind, value: &str, f: &dyn Fn(&mut Indicator)| {
        let mut i = Indicator::new(kind, value);
        f(&mut i);
        v.push(i);
    };
    add(K::Domain, "evil.example", &|i| {
        i.category = Some(Category::BotnetCc);
        i.confidence = Some(90);
        i.tlp = Some(Tlp::Amber);
        i.first_seen = Some(datetime!(2024-01-02 03:04:05 UTC));
        i.valid_until = Some(datetime!(2025-01-02 03:04:05 UTC));
        i.tags = vec!["apt-x".into(), "c2 server".into()];
        i.context = "Seen in the March campaign".into();
    });
    add(K::Url, "http://evil.example/it's/a%5Cpath?q=1", &|i| i.category = Some(Category::Phishing));
    add(K::Ipv4, "192.0.2.7", &|i| {
        i.category = Some(Category::Scanner);
        i.tlp = Some(Tlp::Clear);
    });
    add(K::Ipv6, "2001:db8::7", &|i| i.tlp = Some(Tlp::Green));
    add(K::Cidr, "198.51.100.0/24", &|i| i.tlp = Some(Tlp::AmberStrict));
    add(K::Cidr, "2001:db8:1::/48", &|i| i.tlp = Some(Tlp::Red));
    add(K::Md5, MD5, &|i| i.category = Some(Category::Trojan));
    add(K::Sha1, SHA1, &|i| i.category = Some(Category::MaliciousDownload));
    add(K::Sha256, SHA256, &|i| i.category = Some(Category::MobileMalware));
    add(K::CertSha256, SHA256, &|i| i.category = Some(Category::MaliciousUrl));
    add(K::Email, "o'brien\\x@evil.example", &|i| i.category = Some(Category::Spam));
    add(K::Domain, "xn--fsqu00a.xn--0zwm56d", &|i| i.category = Some(Category::Other));
    add(K::AndroidPackage, "com.evil.app", &|_| {});
    add(K::Ja3, MD5, &|_| {});
    add(K::Ja4, "t13d1516h2_8daaf6152771_02713d6af862", &|_| {});
    v
}

fn opts() -> ExportOptions {
    ExportOptions::new("bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", datetime!(2024-06-01 12:00:00.123456 UTC))
}

fn export(
    indicators: &[Indicator],
    objects: &[StixObject],
    opts: ExportOptions,
) -> (String, anbao_intel::stix::ExportSummary) {
    let (bytes, summary) = write_bundle(Vec::new(), opts, indicators, objects).unwrap();
    (String::from_utf8(bytes).unwrap(), summary)
}

#[test]
fn patterns_for_each_kind() {
    let table: &[(K, &str, &str)] = &[
        (K::Domain, "Evil.Example", "[domain-name:value = 'evil.example']"),
        (K::Url, "http://evil.example/it's", "[url:value = 'http://evil.example/it\\'s']"),
        (K::Ipv4, "192.0.2.1", "[ipv4-addr:value = '192.0.2.1']"),
        (K::Ipv6, "2001:DB8::1", "[ipv6-addr:value = '2001:db8::1']"),
        (K::Ipv6, "::ffff:192.0.2.1", "[ipv4-addr:value = '192.0.2.1']"),
        (K::Cidr, "10.0.0.0/8", "[ipv4-addr:value = '10.0.0.0/8']"),
        (K::Cidr, "2001:db8::/32", "[ipv6-addr:value = '2001:db8::/32']"),
        (K::Md5, MD5, "[file:hashes.MD5 = '808e21d6efa2884811fbd0adf67fda78']"),
        (K::Sha1, SHA1, "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']"),
        (
            K::Sha256,
            SHA256,
            "[file:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']",
        ),
        (
            K::CertSha256,
            SHA256,
            "[x509-certificate:hashes.'SHA-256' = 'ef537f25c895bfa782526529a9b63d97aa631564d5d789c2b765448c8635fb6c']",
        ),
        (K::Email, "o'brien\\x@evil.example", "[email-addr:value = 'o\\'brien\\\\x@evil.example']"),
    ];
    for (kind, value, want) in table {
        let p = pattern_for(*kind, value).unwrap();
        assert_eq!(&p, want);
        // And it reads back as the same lookup.
        let l = lookups(&parse(&p).unwrap()).unwrap();
        assert_eq!(l.valid.len(), 1, "{p}");
        assert_eq!(l.valid[0].1, anbao_intel::normalize(*kind, value).unwrap());
    }
    for kind in [K::AndroidPackage, K::Ja3, K::Ja4] {
        assert!(pattern_for(kind, "x").unwrap_err().contains("no cyber-observable"));
    }
    assert!(pattern_for(K::Domain, "bad domain").is_err());
}

#[test]
fn export_round_trips() {
    let inds = sample_indicators();
    let (json, summary) = export(&inds, &[], opts());
    assert_eq!(summary.indicators, 12);
    let skipped: Vec<K> = summary.not_exportable.iter().map(|n| n.kind).collect();
    assert_eq!(skipped, vec![K::AndroidPackage, K::Ja3, K::Ja4]);
    assert_eq!(summary.markings, 5, "one definition per TLP level used");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["type"], "bundle");
    assert_eq!(v["id"], "bundle--5d0092c5-5f74-4287-9642-33f4c354e56d");
    let first = &v["objects"][0];
    assert_eq!(first["created"], "2024-06-01T12:00:00.123Z");
    assert_eq!(first["valid_from"], "2024-01-02T03:04:05.000Z");
    assert_eq!(first["indicator_types"], serde_json::json!(["malicious-activity"]));
    assert_eq!(first["labels"], serde_json::json!(["botnet_cc", "apt-x", "c2 server"]));
    assert_eq!(
        first["object_marking_refs"],
        serde_json::json!(["marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"])
    );
    assert_eq!(v["objects"][2]["indicator_types"], serde_json::json!(["anomalous-activity"]));

    let back = read(json.as_bytes());
    assert!(back.rejected.is_empty() && back.not_matchable.is_empty(), "{back:?}");
    assert_eq!(back.objects.len(), 12 + 5);
    let exportable: Vec<&Indicator> = inds.iter().filter(|i| !skipped.contains(&i.kind)).collect();
    assert_eq!(back.indicators.len(), exportable.len());
    for (orig, got) in exportable.iter().zip(&back.indicators) {
        let mut want = (*orig).clone();
        want.value = anbao_intel::normalize(orig.kind, &orig.value).unwrap();
        // What the export fills in.
        want.first_seen = Some(orig.first_seen.unwrap_or(datetime!(2024-06-01 12:00:00.123 UTC)));
        want.external_id = Some(indicator_id(&opts().id_namespace, orig.kind, &want.value));
        assert_eq!(got, &want);
    }
}

#[test]
fn export_ids_tlp_versions_and_pass_through() {
    let inds = sample_indicators();
    let (a, _) = export(&inds, &[], opts());
    let (b, _) = export(&inds, &[], opts());
    assert_eq!(a, b, "deterministic");
    let mut other_ns = opts();
    other_ns.id_namespace = [7; 16];
    let (c, _) = export(&inds[..1], &[], other_ns);
    assert!(!a.contains(&c[c.find("indicator--").unwrap()..][..47]));
    let id = indicator_id(&opts().id_namespace, K::Domain, "evil.example");
    assert!(anbao_intel::stix::is_stix_id(&id, "indicator"));
    assert_eq!(&id[11..][14..15], "4", "version nibble 4: {id}");

    // TLP 1.0 ids; amber+strict falls back to the 2.0 definition.
    let mut v1 = opts();
    v1.tlp = TlpVersion::V1;
    let (json, summary) = export(&inds, &[], v1);
    assert_eq!(summary.markings, 5);
    for id in [
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
    ] {
        assert_eq!(json.matches(id).count(), 2, "{id}: referenced once, defined once");
    }
    assert_eq!(read(json.as_bytes()).indicators.iter().filter(|i| i.tlp == Some(Tlp::Clear)).count(), 1);

    // Kept objects pass through; a kept TLP definition is not repeated.
    let shared = std::fs::read(Path::new(SHARED).join("indicators-for-C2-with-COA.json")).unwrap();
    let mut kept = read(&shared).objects;
    let green = read(
        br#"{"type":"marking-definition","spec_version":"2.1","id":"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb","created":"2022-10-01T00:00:00.000Z","name":"TLP:GREEN","extensions":{"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d":{"extension_type":"property-extension","tlp_2_0":"green"}}}"#,
    )
    .objects;
    kept.extend(green);
    let (json, summary) = export(&inds, &kept, opts());
    assert_eq!(summary.objects, 9);
    assert_eq!(summary.markings, 4);
    assert_eq!(json.matches("\"id\":\"marking-definition--bab4a63c").count(), 1);
    let back = read(json.as_bytes());
    assert_eq!(back.objects.len(), 12 + 9 + 4);
    for k in &kept {
        assert!(back.objects.contains(k), "{}", k.id);
    }

    // Caller-given id and times; bad ids are errors.
    let mut w = BundleWriter::new(Vec::new(), opts()).unwrap();
    let meta = IndicatorMeta {
        id: Some("indicator--33fe3b22-0201-47cf-85d0-97c02164528d".into()),
        created: Some(datetime!(2020-01-01 00:00:00 UTC)),
        modified: Some(datetime!(2019-01-01 00:00:00 UTC)),
    };
    assert_eq!(
        w.indicator(&inds[0], &meta).unwrap().as_deref(),
        Some("indicator--33fe3b22-0201-47cf-85d0-97c02164528d")
    );
    let bad =
        IndicatorMeta { id: Some("malware--33fe3b22-0201-47cf-85d0-97c02164528d".into()), ..IndicatorMeta::default() };
    assert!(w.indicator(&inds[0], &bad).is_err());
    assert!(
        w.object(&StixObject {
            id: "x".into(),
            object_type: "x".into(),
            spec_version: "2.1".into(),
            version: String::new(),
            json: "[1]".into()
        })
        .is_err()
    );
    let (bytes, _) = w.finish().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(v["objects"][0]["modified"], "2020-01-01T00:00:00.000Z", "modified is never before created");
    assert!(BundleWriter::new(Vec::new(), ExportOptions::new("bundle--nope", datetime!(2024-01-01 0:00 UTC))).is_err());

    // valid_until not after valid_from is left out; an empty bundle is valid JSON.
    let mut i = Indicator::new(K::Domain, "x.example");
    i.first_seen = Some(datetime!(2024-01-01 0:00 UTC));
    i.valid_until = Some(datetime!(2023-01-01 0:00 UTC));
    let (json, _) = export(&[i], &[], opts());
    assert!(!json.contains("valid_until"));
    let (json, _) = export(&[], &[], opts());
    assert_eq!(serde_json::from_str::<serde_json::Value>(&json).unwrap()["objects"], serde_json::json!([]));
}

/// The interpreter with the OASIS stix2-validator installed: `$ANBAO_PYTHON`,
/// else `python3`.
fn python() -> String {
    std::env::var("ANBAO_PYTHON").unwrap_or_else(|_| "python3".to_owned())
}

const INSTALL_HINT: &str = "install the OASIS validator: python3 -m venv /tmp/stixvenv && \
     /tmp/stixvenv/bin/pip install stix2-validator, then run the tests with ANBAO_PYTHON=/tmp/stixvenv/bin/python";

#[test]
fn export_passes_the_oasis_validator() {
    let py = python();
    let probe = Command::new(&py).args(["-c", "import stix2validator, stix2patterns"]).output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            panic!("{py} cannot import stix2validator ({}); {INSTALL_HINT}", String::from_utf8_lossy(&o.stderr).trim())
        }
        Err(e) => panic!("cannot run {py}: {e}; {INSTALL_HINT}"),
    }
    let dir = std::env::temp_dir().join(format!("anbao-stix-validate-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let inds = sample_indicators();
    let mut kept = Vec::new();
    for name in
        ["indicators-for-C2-with-COA.json", "infrastructure.json", "malicious-email-indicator-with-attachment.json"]
    {
        kept.extend(read(&std::fs::read(Path::new(SHARED).join(name)).unwrap()).objects);
    }
    // The examples share an identity; one copy is enough.
    let mut seen = std::collections::HashSet::new();
    kept.retain(|o| seen.insert(o.id.clone()));
    let mut files = Vec::new();
    for (name, version, objects) in [("v2.json", TlpVersion::V2, &kept[..]), ("v1.json", TlpVersion::V1, &[][..])] {
        let mut o = opts();
        o.tlp = version;
        let (json, _) = export(&inds, objects, o);
        let path = dir.join(name);
        std::fs::write(&path, json).unwrap();
        files.push(path);
    }
    // The validator's own command-line entry point (the package has no
    // `__main__`, so `-m stix2validator` does not run).
    let out = Command::new(&py)
        .args([
            "-c",
            "import sys; from stix2validator.scripts.stix2_validator import main; sys.exit(main())",
            "--no-cache",
        ])
        .args(&files)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    println!("{stdout}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "stix2-validator failed:\n{stdout}");
    assert_eq!(stdout.matches("STIX JSON: Valid").count(), files.len(), "{stdout}");
    assert!(!stdout.contains("[X]"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Our grammar agrees with the OASIS pattern validator on every table
/// pattern (it is installed with stix2-validator).
#[test]
fn grammar_agrees_with_the_oasis_pattern_validator() {
    let py = python();
    // The validator raises on some inputs (an empty pattern): that is a refusal too.
    let script = "import sys, json\nfrom stix2patterns.validator import run_validator\n\
        def check(p):\n    try:\n        return not run_validator(p)\n    except Exception:\n        return False\n\
        for p in json.load(sys.stdin):\n    print('ok' if check(p) else 'err')\n";
    let patterns: Vec<&str> = VALID.iter().copied().chain(INVALID.iter().map(|(p, _, _)| *p)).collect();
    let mut child = match Command::new(&py)
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
    {
        Ok(c) => c,
        Err(e) => panic!("cannot run {py}: {e}; {INSTALL_HINT}"),
    };
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().unwrap();
        stdin.write_all(serde_json::to_string(&patterns).unwrap().as_bytes()).unwrap();
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{py} with stix2patterns failed; {INSTALL_HINT}");
    let verdicts: Vec<String> = String::from_utf8_lossy(&out.stdout).lines().map(str::to_owned).collect();
    assert_eq!(verdicts.len(), patterns.len());
    for (p, v) in patterns.iter().zip(&verdicts) {
        let ours = if parse(p).is_ok() { "ok" } else { "err" };
        assert_eq!(ours, v, "{p:?}: we say {ours}, the OASIS validator says {v}");
    }
}
