//! The matcher on events shaped like the decoders' output.

use std::net::IpAddr;

use anbao_detect::{AlertBook, Field, Intel, MatchHow, MatchStats};
use anbao_intel::allowlist::Allowlist;
use anbao_intel::{IndicatorIndex, IndicatorKind};
use anbao_net::Timestamp;
use anbao_net::event::{Answer, AnswerData, Dns, Endpoints, Event, Http, Message, Proto, Qr, Rcode, RrType, TlsHello};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn index() -> IndicatorIndex {
    let mut b = IndicatorIndex::builder();
    b.add(IndicatorKind::Domain, "evil.example", 1).unwrap();
    b.add(IndicatorKind::Ipv4, "192.0.2.66", 2).unwrap();
    b.add(IndicatorKind::Cidr, "198.51.100.0/24", 3).unwrap();
    b.add(IndicatorKind::Url, "http://bad.example/payload", 4).unwrap();
    b.add(IndicatorKind::Ja3, "e7d705a3286e19ea42f587b344ee6865", 5).unwrap();
    b.add_expiring(IndicatorKind::Domain, "gone.example", 6, 1_000).unwrap();
    b.build()
}

fn allowlist() -> Allowlist {
    let mut b = Allowlist::builder();
    assert!(b.add_entries("ops", ["safe.evil.example"]).is_empty());
    b.build()
}

fn udp(src: &str, sport: u16, dst: &str, dport: u16) -> Endpoints {
    Endpoints { src: ip(src), sport: Some(sport), dst: Some(ip(dst)), dport: Some(dport), proto: Proto::Udp }
}

fn dns(qr: Qr, qname: &str, answers: Vec<Answer>) -> Message {
    Message::Dns(Dns {
        id: 1,
        qr,
        qname: qname.into(),
        qtype: RrType::A,
        rcode: Rcode::NOERROR,
        answers,
        client_subnet: None,
    })
}

fn event(secs: i64, endpoints: Endpoints, message: Message) -> Event {
    Event { ts: Timestamp::from_secs_nanos(secs, 0), endpoints, message }
}

#[test]
fn a_query_below_a_listed_domain_names_the_asking_client() {
    let (index, allow) = (index(), allowlist());
    let intel = Intel::new(&index, &allow);
    let mut stats = MatchStats::default();
    let mut out = vec![];
    let e = event(2_000, udp("10.0.0.5", 40000, "10.0.0.53", 53), dns(Qr::Query, "WWW.Evil.Example.", vec![]));
    intel.match_event(&e, &mut stats, &mut out);
    assert_eq!(out.len(), 1, "{out:?}");
    let d = &out[0];
    assert_eq!((d.victim, d.field, d.how), (ip("10.0.0.5"), Field::DnsQname, MatchHow::ParentDomain));
    assert_eq!((d.indicator_id, d.listed.as_str(), d.observed.as_str()), (1, "evil.example", "WWW.Evil.Example."));
}

#[test]
fn a_response_pointing_into_a_listed_network_names_the_receiver() {
    let (index, allow) = (index(), allowlist());
    let intel = Intel::new(&index, &allow);
    let (mut stats, mut out) = (MatchStats::default(), vec![]);
    let answer = Answer {
        name: "cdn.innocent.example".into(),
        rtype: RrType::A,
        data: AnswerData::Address(ip("198.51.100.7")),
        ttl: 30,
    };
    let e =
        event(2_000, udp("10.0.0.53", 53, "10.0.0.6", 40001), dns(Qr::Response, "cdn.innocent.example", vec![answer]));
    intel.match_event(&e, &mut stats, &mut out);
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!((out[0].victim, out[0].field, out[0].how), (ip("10.0.0.6"), Field::DnsAnswer, MatchHow::CoveringCidr));
    assert_eq!(out[0].listed, "198.51.100.0/24");
}

#[test]
fn http_hosts_urls_and_tls_fingerprints_match_and_allowlisted_names_do_not() {
    let (index, allow) = (index(), allowlist());
    let intel = Intel::new(&index, &allow);
    let (mut stats, mut out) = (MatchStats::default(), vec![]);
    let tcp = Endpoints { proto: Proto::Tcp, ..udp("10.0.0.7", 50000, "192.0.2.66", 80) };
    let http = Message::Http(Http {
        method: "GET".into(),
        host: Some("bad.example:80".into()),
        uri: "/payload/x.apk".into(),
        user_agent: None,
    });
    intel.match_event(&event(2_000, tcp, http), &mut stats, &mut out);
    assert_eq!(
        out.iter().map(|d| (d.field, d.how, d.indicator_id)).collect::<Vec<_>>(),
        [(Field::HttpUrl, MatchHow::UrlPrefix, 4)]
    );
    out.clear();
    let hello = |sni: &str| {
        Message::Tls(TlsHello {
            sni: Some(sni.into()),
            alpn: vec![],
            ja3: Some("E7D705A3286E19EA42F587B344EE6865".into()),
            ja4: None,
        })
    };
    intel.match_event(&event(2_000, tcp, hello("safe.evil.example")), &mut stats, &mut out);
    assert_eq!(out.iter().map(|d| (d.field, d.indicator_id)).collect::<Vec<_>>(), [(Field::TlsJa3, 5)]);
    assert_eq!(stats.allowlisted, 1, "the SNI is allowlisted");
    // Flow endpoints: a listed destination.
    out.clear();
    intel.match_endpoints(&tcp, Some(2_000), &mut stats, &mut out);
    assert_eq!(
        out.iter().map(|d| (d.victim, d.field, d.indicator_id)).collect::<Vec<_>>(),
        [(ip("10.0.0.7"), Field::FlowDst, 2)]
    );
}

#[test]
fn expiry_is_judged_at_the_event_time() {
    let (index, allow) = (index(), allowlist());
    let intel = Intel::new(&index, &allow);
    let (mut stats, mut out) = (MatchStats::default(), vec![]);
    let q = |t| event(t, udp("10.0.0.5", 40000, "10.0.0.53", 53), dns(Qr::Query, "gone.example", vec![]));
    intel.match_event(&q(999), &mut stats, &mut out);
    assert_eq!(out.len(), 1, "valid before its valid-until");
    out.clear();
    intel.match_event(&q(1_001), &mut stats, &mut out);
    assert!(out.is_empty(), "expired: {out:?}");
}

#[test]
fn repeats_fold_into_one_alert_per_victim_and_indicator() {
    let (index, allow) = (index(), allowlist());
    let intel = Intel::new(&index, &allow);
    let mut book = AlertBook::new(100);
    let (mut stats, mut out) = (MatchStats::default(), vec![]);
    for (t, client, name) in [
        (2_005, "10.0.0.5", "a.evil.example"),
        (2_001, "10.0.0.5", "b.evil.example"),
        (2_003, "10.0.0.9", "evil.example"),
    ] {
        let e = event(t, udp(client, 40000, "10.0.0.53", 53), dns(Qr::Query, name, vec![]));
        intel.match_event(&e, &mut stats, &mut out);
        for d in out.drain(..) {
            book.record(d, &e, "sensor-1");
        }
    }
    let alerts = book.into_alerts();
    assert_eq!(alerts.len(), 2);
    let first = &alerts[0];
    assert_eq!((first.victim, first.count), (ip("10.0.0.5"), 2));
    assert_eq!((first.first_seen.secs(), first.last_seen.secs()), (2_001, 2_005));
    assert_eq!(first.evidence.summary, "query A a.evil.example");
    assert_eq!(first.evidence.sensor, "sensor-1");
    assert_eq!((alerts[1].victim, alerts[1].count, alerts[1].how), (ip("10.0.0.9"), 1, MatchHow::Exact));
    let json = serde_json::to_value(&alerts[0]).unwrap();
    assert_eq!(json["match"], "parent_domain");
    assert_eq!(json["field"], "dns.qname");
    assert_eq!(json["indicator"], "evil.example");
}

#[test]
fn a_full_book_counts_what_it_drops() {
    let (index, allow) = (index(), allowlist());
    let intel = Intel::new(&index, &allow);
    let mut book = AlertBook::new(1);
    let (mut stats, mut out) = (MatchStats::default(), vec![]);
    for client in ["10.0.0.1", "10.0.0.2", "10.0.0.1"] {
        let e = event(2_000, udp(client, 1, "10.0.0.53", 53), dns(Qr::Query, "evil.example", vec![]));
        intel.match_event(&e, &mut stats, &mut out);
        for d in out.drain(..) {
            book.record(d, &e, "s");
        }
    }
    assert_eq!((book.len(), book.dropped()), (1, 1));
    assert_eq!(book.into_alerts()[0].count, 2);
}

#[test]
fn endpoint_pairs_are_offered_once_and_domain_only_indexes_have_no_addresses() {
    let mut pairs = anbao_detect::EndpointPairs::default();
    assert!(pairs.first_time(ip("10.0.0.1"), ip("192.0.2.1")));
    assert!(!pairs.first_time(ip("10.0.0.1"), ip("192.0.2.1")));
    assert!(pairs.first_time(ip("192.0.2.1"), ip("10.0.0.1")), "each direction is a pair");
    let mut b = IndicatorIndex::builder();
    b.add(IndicatorKind::Domain, "evil.example", 1).unwrap();
    assert!(!b.build().has_addresses());
    assert!(index().has_addresses());
}
