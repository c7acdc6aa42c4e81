//! MISP events, feed directories and described freetext/CSV feeds.

use std::collections::BTreeMap;

use anbao_intel::misp::{
    FeedDescription, InputSource, MispOptions, MispSummary, SourceFormat, read_described, read_event, read_hashes_csv,
    read_manifest,
};
use anbao_intel::{Category, Collected, IndicatorKind as K, Tlp};
use time::macros::{date, datetime};

const E1: &str = "5f0c2a11-7b3e-4c1d-9a55-0a1b2c3d4e01";
const E2: &str = "5f0c2a11-7b3e-4c1d-9a55-0a1b2c3d4e02";

fn data(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/test_data/misp/{name}", env!("CARGO_MANIFEST_DIR"))).unwrap()
}

fn shared(name: &str) -> Vec<u8> {
    std::fs::read(format!("{}/{name}", concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/misp"))).unwrap()
}

fn pairs(c: &Collected) -> Vec<(K, &str)> {
    c.indicators.iter().map(|i| (i.kind, i.value.as_str())).collect()
}

fn read(bytes: &[u8], opts: MispOptions) -> (Collected, MispSummary) {
    let mut c = Collected::default();
    let s = read_event(bytes, &opts, &mut c).unwrap();
    (c, s)
}

fn counts(v: &[(&str, u64)]) -> BTreeMap<String, u64> {
    v.iter().map(|(k, n)| ((*k).to_owned(), *n)).collect()
}

#[test]
fn circl_sample_event() {
    let (c, s) = read(&shared("57c4445b-c548-4654-af0b-4be3950d210f.json"), MispOptions::default());
    assert_eq!(
        pairs(&c),
        [
            (K::Md5, "0749bae92ca336a02c83d126e04ec628"),
            (K::Sha1, "77b0c41b7d340b8a3d903f21347bbf06aa766b5b"),
            (K::Sha256, "b3c4ae251f8094fa15b510051835c657eaef2a6cea46075d3aec964b14a99f68"),
        ]
    );
    assert_eq!(
        s,
        MispSummary {
            events: 1,
            attributes: 9,
            indicators: 3,
            rejected: 0,
            skipped_by_type: counts(&[("comment", 1), ("filename", 1), ("link", 2), ("regkey|value", 1), ("text", 1)]),
            not_to_ids: 0,
            deleted: 0,
        }
    );
    let md5 = &c.indicators[0];
    assert_eq!(md5.category, Some(Category::Trojan));
    assert_eq!(md5.tlp, Some(Tlp::Clear));
    assert_eq!(md5.confidence, None);
    assert_eq!(md5.first_seen, Some(datetime!(2016-08-29 0:00 UTC)));
    assert_eq!(md5.last_seen, Some(datetime!(2016-08-29 14:19:55 UTC)));
    assert_eq!(md5.context, "Ransomware - Xorist — Imported via the Freetext Import Tool");
    assert_eq!(md5.external_id.as_deref(), Some("57c4448b-454c-4d17-90d1-4d2f950d210f"));
    assert_eq!(md5.tags.len(), 4);
    assert_eq!(md5.tags[0], "tlp:white");
}

#[test]
fn c2_event_with_objects() {
    let (c, s) = read(&data(&format!("feed/{E1}.json")), MispOptions::default());
    assert_eq!(
        pairs(&c),
        [
            (K::Ipv4, "203.0.113.7"),
            (K::Ipv4, "198.51.100.23"),
            (K::Domain, "c2.example-bad.com"),
            (K::Url, "http://bad.example.net/gate.php"),
            (K::Domain, "evil.example.org"),
            (K::Ipv4, "192.0.2.55"),
            (K::Sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
            (K::Cidr, "198.51.100.0/24"),
            (K::Email, "Phisher@example.com"),
            (K::Domain, "obj.example-bad.com"),
            (K::Ipv4, "192.0.2.77"),
            (K::Md5, "0749bae92ca336a02c83d126e04ec628"),
        ]
    );
    assert_eq!(
        s,
        MispSummary {
            events: 1,
            attributes: 19,
            indicators: 12,
            rejected: 3,
            skipped_by_type: counts(&[("filename", 1), ("text", 1)]),
            not_to_ids: 1,
            deleted: 2,
        }
    );
    let locs: Vec<&str> = c.rejected.iter().map(|r| r.location.as_str()).collect();
    assert_eq!(locs, ["Event.Attribute[6]", "Event.Attribute[7]", "Event.Object[2].Attribute[2]"]);
    assert!(c.rejected[0].reason.contains("10.0.0.0/8"), "{}", c.rejected[0].reason);
    assert!(c.rejected[0].reason.starts_with("ip-dst: cidr: "), "{}", c.rejected[0].reason);

    let ip = &c.indicators[0];
    assert_eq!(ip.category, Some(Category::BotnetCc));
    assert_eq!(ip.tlp, Some(Tlp::Amber));
    assert_eq!(ip.confidence, Some(75));
    assert_eq!(ip.first_seen, Some(datetime!(2024-05-29 0:00 UTC)));
    assert_eq!(ip.last_seen, Some(datetime!(2024-05-29 16:26:40 UTC)));
    assert_eq!(ip.context, "Emotet C2 infrastructure — C2 seen on 443");
    assert_eq!(ip.external_id.as_deref(), Some("6a000000-0000-4000-8000-000000000000"));
    assert_eq!(
        ip.tags,
        [
            "tlp:amber",
            "kill-chain:Command and Control",
            "misp:confidence-level=\"usually-confident\"",
            "misp-galaxy:malpedia=\"Emotet\""
        ]
    );
    // domain|ip: two indicators, distinct external ids.
    assert_eq!(c.indicators[4].external_id.as_deref(), Some("6a000000-0000-4000-8000-000000000004"));
    assert_eq!(c.indicators[5].external_id.as_deref(), Some("6a000000-0000-4000-8000-000000000004|ip"));
    // Attribute tags win: TLP red, ransomware → trojan; a tag-less event C2
    // category on a hash reads as trojan too.
    let sha = &c.indicators[6];
    assert_eq!((sha.tlp, sha.category), (Some(Tlp::Red), Some(Category::Trojan)));
    assert!(sha.tags.contains(&"tlp:red".to_owned()) && sha.tags.contains(&"tlp:amber".to_owned()));
    assert_eq!(c.indicators[11].category, Some(Category::Trojan));
    let mail = &c.indicators[8];
    assert_eq!(mail.category, Some(Category::Phishing));
    assert_eq!(mail.first_seen, Some(datetime!(2024-03-01 10:00 UTC)));
    assert_eq!(mail.last_seen, Some(datetime!(2024-03-05 12:30 UTC)));
    // Object first_seen when the attribute has none.
    assert_eq!(c.indicators[9].first_seen, Some(datetime!(2024-04-01 0:00 UTC)));
}

#[test]
fn non_ids_attributes_on_request() {
    let (c, s) = read(&data(&format!("feed/{E1}.json")), MispOptions { include_non_ids: true });
    assert_eq!(s.not_to_ids, 1);
    assert_eq!(s.indicators, 13);
    assert!(pairs(&c).contains(&(K::Url, "http://benign.example.com/")));
}

#[test]
fn phishing_event() {
    let (c, s) = read(&data(&format!("feed/{E2}.json")), MispOptions::default());
    assert_eq!(
        pairs(&c),
        [
            (K::Url, "https://login.bank-secure.example/verify?id=1"),
            (K::Domain, "kit.example-phish.net"),
            (K::CertSha256, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789"),
            (K::Ja3, "e7d705a3286e19ea42f587b344ee6865"),
            (K::Sha256, "2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"),
            (K::AndroidPackage, "com.bank.secure.update"),
            (K::Email, "victim@example.org"),
        ]
    );
    assert_eq!(s.skipped_by_type, counts(&[("link", 1), ("target-email", 1)]));
    assert!(c.indicators.iter().all(|i| i.category == Some(Category::Phishing)));
    assert!(c.indicators.iter().all(|i| i.tlp == Some(Tlp::Green) && i.confidence == Some(80)));
}

#[test]
fn event_shapes_and_locations() {
    let bare = br#"{"info":"x","Attribute":[{"type":"domain","value":"bad domain"}]}"#;
    let (c, s) = read(bare, MispOptions::default());
    assert_eq!((s.events, c.rejected[0].location.as_str()), (1, "Attribute[0]"));

    let list = br#"[{"Event":{"Attribute":[]}},{"Event":{"Attribute":[{"type":"ip-dst","value":"300.1.1.1"}]}}]"#;
    let (c, s) = read(list, MispOptions::default());
    assert_eq!((s.events, c.rejected[0].location.as_str()), (2, "[1].Event.Attribute[0]"));

    let resp = br#"{"response":[{"Event":{"Object":[{"Attribute":[{"type":"md5","value":"x"}]}]}}]}"#;
    let (c, _) = read(resp, MispOptions::default());
    assert_eq!(c.rejected[0].location, "response[0].Event.Object[0].Attribute[0]");

    // MISP's loose booleans and numbers.
    let loose = br#"{"Event":{"Attribute":[
        {"type":"domain","value":"a.example.com","to_ids":"0"},
        {"type":"domain","value":"b.example.com","to_ids":1,"deleted":"0","timestamp":1717000000},
        {"type":"domain","value":"c.example.com","deleted":1},
        {"type":"domain"},
        "not an object",
        {"type":"ip-dst|port","value":"198.51.100.1"}
    ]}}"#;
    let (c, s) = read(loose, MispOptions::default());
    assert_eq!(pairs(&c), [(K::Domain, "b.example.com")]);
    assert_eq!(c.indicators[0].last_seen, Some(datetime!(2024-05-29 16:26:40 UTC)));
    assert_eq!((s.not_to_ids, s.deleted, s.rejected), (1, 1, 3));
    assert!(c.rejected[2].reason.contains("'|'"), "{}", c.rejected[2].reason);
}

#[test]
fn unreadable_events() {
    let mut c = Collected::default();
    let o = MispOptions::default();
    for bad in [&b"not json"[..], b"[1]", b"42", b"{\"something\":1}", b"{\"Event\":{\"date\":\"someday\"}}", b"\xff"] {
        assert!(read_event(bad, &o, &mut c).is_err(), "{}", String::from_utf8_lossy(bad));
    }
    let err = read_event(b"{\"Event\": {\"info\": }", &o, &mut c).unwrap_err();
    assert_eq!(err.location, "line 1 column 20");
    // Deep nesting is refused by serde_json's recursion limit, not a stack
    // overflow.
    let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    assert!(read_event(deep.as_bytes(), &o, &mut c).is_err());
}

#[test]
fn feed_manifest() {
    let m = read_manifest(&data("feed/manifest.json")).unwrap();
    assert_eq!(m.iter().map(|e| e.uuid.as_str()).collect::<Vec<_>>(), [E1, E2]);
    let e = &m[0];
    assert_eq!(e.info, "Emotet C2 infrastructure");
    assert_eq!(e.date, Some(date!(2024 - 05 - 29)));
    assert_eq!(e.timestamp, Some(datetime!(2024-06-01 0:00 UTC)));
    assert_eq!(e.org.as_deref(), Some("Example CERT"));
    assert_eq!(e.threat_level_id, Some(1));
    assert_eq!(e.analysis, Some(2));
    assert_eq!(e.tags[0], "tlp:amber");

    let err = read_manifest(br#"{"../../etc/passwd": {"timestamp": "1"}}"#).unwrap_err();
    assert!(err.reason.contains("UUID"), "{err}");
    assert!(read_manifest(br#"{"5f0c2a11-7b3e-4c1d-9a55-0a1b2c3d4e01": {"timestamp": "soon"}}"#).is_err());
    assert!(read_manifest(b"[]").is_err());
}

#[test]
fn feed_hashes_csv_gives_value_hashes_not_indicators() {
    let text = String::from_utf8(data("feed/hashes.csv")).unwrap();
    let h = read_hashes_csv(&text).unwrap();
    assert_eq!(h.len(), 32);
    // md5("203.0.113.7"), the first attribute value of the first event.
    assert_eq!(h[0].hash, "68fecd3b63b272e813f600f1a4885e0c");
    assert_eq!(h[0].event_uuid, E1);
    assert_eq!(h.iter().filter(|v| v.event_uuid == E2).count(), 11);
    let err =
        read_hashes_csv("68fecd3b63b272e813f600f1a4885e0c,5f0c2a11-7b3e-4c1d-9a55-0a1b2c3d4e01\nzz,x\n").unwrap_err();
    assert_eq!(err.location, "line 2");
}

#[test]
fn freetext_feed() {
    let desc = FeedDescription::from_json(&data("freetext-feed.json")).unwrap();
    assert_eq!(desc.source_format, SourceFormat::Freetext);
    assert_eq!(desc.input_source, InputSource::Network);
    assert_eq!(desc.name, "Example freetext IOC report");
    assert!(desc.fixed_event && desc.delta_merge && !desc.enabled);
    assert_eq!(desc.exclude_regex.as_deref(), Some("/^https?:\\/\\/(www\\.)?twitter\\.com/i"));
    let text = String::from_utf8(data("freetext.txt")).unwrap();
    let mut c = Collected::default();
    read_described(&text, &desc, &mut c).unwrap();
    assert_eq!(
        pairs(&c),
        [
            (K::Url, "https://cdn-update.example-bad.com/files/setup.exe"),
            (K::Url, "http://198.51.100.14:8080/load.bin"),
            (K::Domain, "c2.example-bad.com"),
            (K::Ipv4, "203.0.113.45"),
            (K::Domain, "backup-c2.example-bad.net"),
            (K::Sha256, "9f86d081884c7d659a2feaf0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
            (K::Md5, "0cc175b9c0f1b6a831c399e269772661"),
            (K::Sha1, "a9993e364706816aba3e25717850c26c9cd0d89d"),
            (K::Email, "billing@example-bad.com"),
            (K::Cidr, "10.20.0.0/16"),
        ]
    );
    assert_eq!(c.rejected.len(), 1);
    assert_eq!((c.rejected[0].location.as_str(), c.rejected[0].value.as_str()), ("line 13", "192.0.2.1/24"));
    // Without the exclude regex the tweet is a URL.
    let mut c = Collected::default();
    read_described(&text, &FeedDescription { exclude_regex: None, ..desc }, &mut c).unwrap();
    assert!(pairs(&c).contains(&(K::Url, "https://twitter.com/someone/status/1")));
}

#[test]
fn csv_feed() {
    let desc = FeedDescription::from_json(&data("csv-feed.json")).unwrap();
    assert_eq!(
        (desc.source_format, desc.csv_value_columns.as_slice(), desc.csv_delimiter),
        (SourceFormat::Csv, &[3][..], b',')
    );
    assert_eq!(desc.exclude_regex, None);
    let text = String::from_utf8(data("csv-feed.csv")).unwrap();
    let mut c = Collected::default();
    read_described(&text, &desc, &mut c).unwrap();
    let want = [
        (K::Url, "http://malware.example-bad.com/a.exe"),
        (K::Url, "http://198.51.100.99/bins/x86"),
        (K::Url, "https://[2001:db8::5]/p.sh"),
    ];
    assert_eq!(pairs(&c), want);
    assert_eq!(c.rejected.len(), 1);
    assert_eq!((c.rejected[0].location.as_str(), c.rejected[0].value.as_str()), ("line 5 column 3", "not a url"));
    // Every column: non-indicators are skipped silently.
    let mut c = Collected::default();
    read_described(&text, &FeedDescription { csv_value_columns: vec![], ..desc.clone() }, &mut c).unwrap();
    assert_eq!(pairs(&c), want);
    assert!(c.rejected.is_empty());
    // A value column past the row's end.
    let mut c = Collected::default();
    read_described("a.example.com\n", &FeedDescription { csv_value_columns: vec![2], ..desc }, &mut c).unwrap();
    assert_eq!(c.rejected.len(), 1);
}

#[test]
fn feed_description_variants() {
    let list = br#"[
        {"Feed": {"name": "a", "source_format": "csv", "settings": "{\"csv\":{\"value\":\"1,3\",\"delimiter\":\"\\\\t\"}}"}},
        {"name": "b", "source_format": "misp", "input_source": "local", "url": "/var/feeds/b", "enabled": "1"},
        {"name": "c", "source_format": "freetext", "settings": {"csv": {"value": [2, "4"], "delimiter": ";"}}}
    ]"#;
    let d = FeedDescription::list_from_json(list).unwrap();
    assert_eq!((d[0].csv_value_columns.as_slice(), d[0].csv_delimiter), (&[1, 3][..], b'\t'));
    assert_eq!((d[1].source_format, d[1].input_source, d[1].enabled), (SourceFormat::Misp, InputSource::Local, true));
    assert_eq!((d[2].csv_value_columns.as_slice(), d[2].csv_delimiter), (&[2, 4][..], b';'));
    let mut c = Collected::default();
    assert!(read_described("x", &d[1], &mut c).is_err());

    for bad in [
        &br#"{"name": "x", "source_format": "stix"}"#[..],
        br#"{"name": "x", "source_format": "csv", "settings": {"csv": {"value": "0"}}}"#,
        br###"{"name": "x", "source_format": "csv", "settings": {"csv": {"delimiter": "##comma##"}}}"###,
        br#"{"name": "x", "source_format": "csv", "settings": {"common": {"excluderegex": "/(/"}}}"#,
        br#"{"name": "x", "source_format": "csv", "settings": "{not json"}"#,
        b"[",
    ] {
        assert!(FeedDescription::from_json(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
}

#[test]
fn long_tag_lists_and_titles_are_capped() {
    let mut tags: Vec<String> = (0..150).map(|i| format!("{{\"name\":\"tag{i}\"}}")).collect();
    tags.push("{\"name\":\"tlp:red\"}".to_owned());
    let info = "x".repeat(10_000);
    let ev = format!(
        "{{\"Event\":{{\"info\":\"{info}\",\"Tag\":[{}],\"Attribute\":[{{\"type\":\"domain\",\"value\":\"a.example.com\"}}]}}}}",
        tags.join(",")
    );
    let (c, _) = read(ev.as_bytes(), MispOptions::default());
    let i = &c.indicators[0];
    assert_eq!(i.tags.len(), anbao_intel::lists::MAX_TAGS);
    assert_eq!(i.tlp, Some(Tlp::Red), "derived from every tag, not only the kept ones");
    assert_eq!(i.context.len(), anbao_intel::lists::MAX_CONTEXT);
}
