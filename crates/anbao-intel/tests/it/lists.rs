//! Plain lists, hosts files, CSV, free text, refanging and times.

use anbao_intel::lists::{
    Column, CsvMapping, ListFormat, parse_time, read_csv, read_freetext, read_hosts, read_plain_list, refang,
};
use anbao_intel::{Category, Collected, IndicatorKind as K};
use time::macros::datetime;

fn text(name: &str) -> String {
    std::fs::read_to_string(format!("{}/test_data/lists/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn pairs(c: &Collected) -> Vec<(K, &str)> {
    c.indicators.iter().map(|i| (i.kind, i.value.as_str())).collect()
}

fn rejected(c: &Collected) -> Vec<(&str, &str)> {
    c.rejected.iter().map(|r| (r.location.as_str(), r.value.as_str())).collect()
}

#[test]
fn plain_list_detects_kinds() {
    let mut c = Collected::default();
    read_plain_list(&text("plain.txt"), None, &mut c);
    assert_eq!(
        pairs(&c),
        [
            (K::Domain, "evil.example.com"),
            (K::Ipv4, "203.0.113.9"),
            (K::Cidr, "198.51.100.0/24"),
            (K::Ipv6, "2001:db8::dead"),
            (K::Url, "http://phish.example.net/login"),
            (K::Url, "http://defanged.example.org/x"),
            (K::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
            (K::Email, "user@example.org"),
        ]
    );
    assert_eq!(rejected(&c), [("line 12", "not_a_value"), ("line 13", "10.0.0.1/8"), ("line 14", "1.2.3.4 scanner")]);
    assert!(c.rejected[1].reason.contains("10.0.0.0/8"), "{}", c.rejected[1].reason);
    assert!(c.rejected[2].reason.contains("several"), "{}", c.rejected[2].reason);
}

#[test]
fn plain_list_with_a_declared_kind() {
    let mut c = Collected::default();
    read_plain_list("\u{feff}evil.com\r\n1.2.3.4\r\nxn--fsqu00a.xn--0zwm56d # punycode\r\n", Some(K::Domain), &mut c);
    assert_eq!(pairs(&c), [(K::Domain, "evil.com"), (K::Domain, "xn--fsqu00a.xn--0zwm56d")]);
    assert_eq!(rejected(&c), [("line 2", "1.2.3.4")]);
    assert!(c.rejected[0].reason.starts_with("domain: "), "{}", c.rejected[0].reason);
}

#[test]
fn hosts_file() {
    let mut c = Collected::default();
    read_hosts(&text("hosts.txt"), &mut c);
    assert_eq!(
        pairs(&c),
        [
            (K::Domain, "ads.example.com"),
            (K::Domain, "tracker.example.net"),
            (K::Domain, "malware.example.org"),
            (K::Domain, "ipv6-null.example.com"),
        ]
    );
    assert_eq!(
        rejected(&c),
        [("line 11", "bad_label-.example.com"), ("line 12", "ads.example.com"), ("line 13", "0.0.0.0")]
    );
}

#[test]
fn sniffing() {
    assert_eq!(ListFormat::sniff(&text("plain.txt")), ListFormat::Plain);
    assert_eq!(ListFormat::sniff(&text("hosts.txt")), ListFormat::Hosts);
    assert_eq!(ListFormat::sniff(&text("urlhaus.csv")), ListFormat::Csv { delimiter: b',' });
    assert_eq!(ListFormat::sniff(&text("typed.csv")), ListFormat::Csv { delimiter: b';' });
    assert_eq!(ListFormat::sniff("a\tb\tc\nd\te\tf\n"), ListFormat::Csv { delimiter: b'\t' });
    assert_eq!(ListFormat::sniff("1.2.3.0/24 ; SBL1\n5.6.7.0/24 ; SBL2\n"), ListFormat::Plain);
    assert_eq!(ListFormat::sniff(""), ListFormat::Plain);
}

#[test]
fn csv_with_header_in_a_comment() {
    let m = CsvMapping {
        header_in_comment: true,
        first_seen_column: Some("dateadded".into()),
        last_seen_column: Some("last_online".into()),
        tags_column: Some("tags".into()),
        context_column: Some(Column::Name("THREAT".into())),
        ..CsvMapping::new("url")
    };
    let mut c = Collected::default();
    read_csv(&text("urlhaus.csv"), &m, &mut c).unwrap();
    assert_eq!(
        pairs(&c),
        [
            (K::Url, "http://malware.example-bad.com/a.exe"),
            (K::Url, "http://198.51.100.99/bins/x86"),
            (K::Url, "http://quoted.example.com/%22x%22/y"),
            (K::Url, "http://last.example.com/"),
        ]
    );
    let first = &c.indicators[0];
    assert_eq!(first.tags, ["exe", "Emotet"]);
    assert_eq!(first.first_seen, Some(datetime!(2024-06-01 10:00:01 UTC)));
    assert_eq!(first.last_seen, Some(datetime!(2024-06-01 10:00:01 UTC)));
    assert_eq!(first.context, "malware_download");
    assert_eq!(c.indicators[1].last_seen, None);
    let r = rejected(&c);
    assert_eq!(r.iter().map(|(l, _)| *l).collect::<Vec<_>>(), ["line 8", "line 10", "line 12"]);
    assert!(c.rejected[0].reason.contains("first seen"), "{}", c.rejected[0].reason);
    assert!(c.rejected[1].reason.contains("whitespace"), "{}", c.rejected[1].reason);
    assert_eq!(c.rejected[2].reason, "characters after a closing quote");
}

#[test]
fn csv_with_kind_and_metadata_columns() {
    let m = CsvMapping {
        delimiter: b';',
        has_header: true,
        kind_column: Some("type".into()),
        category_column: Some("category".into()),
        confidence_column: Some("confidence".into()),
        tags_column: Some("tags".into()),
        first_seen_column: Some("first_seen".into()),
        last_seen_column: Some("last_seen".into()),
        context_column: Some("description".into()),
        ..CsvMapping::new("indicator")
    };
    let mut c = Collected::default();
    read_csv(&text("typed.csv"), &m, &mut c).unwrap();
    assert_eq!(
        pairs(&c),
        [
            (K::Domain, "evil.example.com"),
            (K::Ipv4, "198.51.100.7"),
            (K::Domain, "evil.example.org"),
            (K::Ipv4, "192.0.2.1"),
            (K::Sha256, "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"),
            (K::Ja3, "e7d705a3286e19ea42f587b344ee6865"),
        ]
    );
    let d = &c.indicators[0];
    assert_eq!(d.category, Some(Category::BotnetCc));
    assert_eq!(d.confidence, Some(90));
    assert_eq!(d.tags, ["Emotet", "epoch4"]);
    assert_eq!(d.first_seen, Some(datetime!(2024-05-01 10:00 UTC)));
    assert_eq!(d.last_seen, Some(datetime!(2024-06-01 0:00 UTC)));
    assert_eq!(d.context, "Emotet C2");
    assert_eq!(c.indicators[1].first_seen, Some(datetime!(2024-05-29 16:26:40 UTC)));
    assert_eq!(c.indicators[3].context, "both halves");
    assert_eq!(c.indicators[4].category, Some(Category::Trojan));
    assert_eq!(rejected(&c), [("line 6", "203.0.113.0/24"), ("line 7", "example.net")]);
    assert!(c.rejected[0].reason.contains("confidence"), "{}", c.rejected[0].reason);
    assert!(c.rejected[1].reason.contains("unknown kind"), "{}", c.rejected[1].reason);
}

#[test]
fn csv_by_index_with_quotes_and_a_fixed_kind() {
    let m = CsvMapping { kind: Some(K::Domain), ..CsvMapping::new(1) };
    let mut c = Collected::default();
    let csv = "1,\"a.example.com\"\n2, \"b.example.com\" \n3\n\n4,\"c,\"\"x\"\".com\"\n5,\"never closed\n";
    read_csv(csv, &m, &mut c).unwrap();
    assert_eq!(pairs(&c), [(K::Domain, "a.example.com"), (K::Domain, "b.example.com")]);
    assert_eq!(rejected(&c), [("line 3", "3"), ("line 5", "c,\"x\".com"), ("line 6", "5,\"never closed\n")]);
    assert!(c.rejected[0].reason.contains("1 fields"), "{}", c.rejected[0].reason);
}

#[test]
fn csv_mapping_errors() {
    let mut c = Collected::default();
    let err = read_csv("a,b\n1,2\n", &CsvMapping { has_header: true, ..CsvMapping::new("value") }, &mut c).unwrap_err();
    assert!(err.reason.contains("no column named \"value\""), "{err}");
    let err = read_csv("x.com\n", &CsvMapping::new("value"), &mut c).unwrap_err();
    assert!(err.reason.contains("no header"), "{err}");
    let err = read_csv("x.com\n", &CsvMapping { delimiter: b'"', ..CsvMapping::new(0) }, &mut c).unwrap_err();
    assert!(err.reason.contains("delimiter"), "{err}");
    let err =
        read_csv("1,x.com\n", &CsvMapping { header_in_comment: true, ..CsvMapping::new("v") }, &mut c).unwrap_err();
    assert!(err.reason.contains("comment"), "{err}");
}

#[test]
fn refanging() {
    assert_eq!(refang("hxxps://evil[.]com/a"), "https://evil.com/a");
    assert_eq!(refang("HXXP://evil(.)com"), "http://evil.com");
    assert_eq!(refang("fxp://x{.}org"), "ftp://x.org");
    assert_eq!(refang("user[at]evil[dot]com"), "user@evil.com");
    assert_eq!(refang("h[tt]ps://a[:]8080[/]b"), "https://a:8080/b");
    assert_eq!(refang("evil.com"), "evil.com");
    assert!(matches!(refang("evil.com"), std::borrow::Cow::Borrowed(_)));
    assert_eq!(refang("[hxxp://]x.com"), "http://x.com");
    assert_eq!(refang("日本[.]jp"), "日本.jp");
}

#[test]
fn times() {
    assert_eq!(parse_time("2024-06-01T10:00:01Z").unwrap(), datetime!(2024-06-01 10:00:01 UTC));
    assert_eq!(parse_time("2024-06-01 10:00:01").unwrap(), datetime!(2024-06-01 10:00:01 UTC));
    assert_eq!(parse_time("2024-06-01T12:00:01.5+02:00").unwrap(), datetime!(2024-06-01 10:00:01.5 UTC));
    assert_eq!(parse_time("2021-05-19T12:00:00.000000+00:00").unwrap(), datetime!(2021-05-19 12:00 UTC));
    assert_eq!(parse_time("2024-06-01T10:00-0130").unwrap(), datetime!(2024-06-01 11:30 UTC));
    assert_eq!(parse_time("2024-06-01").unwrap(), datetime!(2024-06-01 0:00 UTC));
    assert_eq!(parse_time("1717236001").unwrap(), datetime!(2024-06-01 10:00:01 UTC));
    for bad in ["", "yesterday", "2024-13-01", "2024-06-01T25:00", "2024-06-01X10:00", "2024-06-01T10:00+5", "1e9"] {
        assert!(parse_time(bad).is_err(), "{bad}");
    }
}

#[test]
fn freetext_extraction() {
    let mut c = Collected::default();
    let text = "Payload at hxxps://cdn[.]evil-site[.]com/a.exe, C2 203.0.113.5:443 and evil-site.com.\n\
                Also 'evil-site.com' (again), invoice.exe, readme.txt, mail admin[at]evil-site.com\n\
                hash 0CC175B9C0F1B6A831C399E269772661; net 10.0.0.0/8 and 10.1.1.1/8 <b>bad.example.org</b>\n\
                例子.中国 and 例子.unknowntld";
    read_freetext(text, None, &mut c);
    assert_eq!(
        pairs(&c),
        [
            (K::Url, "https://cdn.evil-site.com/a.exe"),
            (K::Ipv4, "203.0.113.5"),
            (K::Domain, "evil-site.com"),
            (K::Email, "admin@evil-site.com"),
            (K::Md5, "0cc175b9c0f1b6a831c399e269772661"),
            (K::Cidr, "10.0.0.0/8"),
            (K::Domain, "bad.example.org"),
            (K::Domain, "xn--fsqu00a.xn--fiqs8s"),
        ]
    );
    assert_eq!(rejected(&c), [("line 3", "10.1.1.1/8")]);
}
