//! Tests of `defrag`: DNS answers in IPv4 and IPv6 fragments
//! (`fragments.pcap`, see `make_fixtures.py`) reassembled where tshark
//! reassembles them, and the bounds under a flood of fragments.

use std::net::IpAddr;
use std::time::Duration;

use anbao_net::Timestamp;
use anbao_net::capture::{Frame, LinkType};
use anbao_net::defrag::{DefragLimits, Defragmenter, FragmentKey, Reassembly};
use anbao_net::event::Message;
use anbao_net::extract::{Extractor, Limits};
use anbao_net::packet::Fragment;

use crate::capture::tshark_table;
use crate::extract::{run_with, stand_ins, test_data};

#[test]
fn fragmented_dns_answers_are_read_where_tshark_reassembles_them() {
    let run = run_with(&test_data("fragments.pcap"), Limits::default(), stand_ins());
    // tshark decodes DNS in the frame that completes each datagram.
    let rows = tshark_table("fragments.pcap");
    let expected: Vec<(i64, String, u16, u16, u16)> =
        rows.iter().filter_map(|r| Some((r.time?, r.src.clone(), r.sport?, r.dport?, r.dns_id?))).collect();
    assert_eq!(expected.len(), 3);
    let got: Vec<(i64, String, u16, u16, u16)> = run
        .events
        .iter()
        .map(|e| {
            let Message::Dns(d) = &e.message else { panic!("{e:?}") };
            (e.ts.0, e.endpoints.src.to_string(), e.endpoints.sport.unwrap(), e.endpoints.dport.unwrap(), d.id)
        })
        .collect();
    assert_eq!(got, expected);
    // As make_fixtures.py cut them: the IPv4 answer in three fragments plus a
    // repeat and an overlap, the IPv6 answer in two.
    assert_eq!((run.stats.ipv4_fragments, run.stats.ipv6_fragments), (5, 2));
    assert_eq!(run.stats.fragments.datagrams_reassembled, 2);
    assert_eq!(run.stats.fragments.fragments_overlapping, 3);
    assert_eq!(run.stats.problems, vec![]);
    // Every fragment still gives the caller its IP endpoints.
    assert!(run.endpoints.iter().all(Option::is_some));
}

fn key(id: u32) -> FragmentKey {
    let src: IpAddr = "192.0.2.1".parse().unwrap();
    FragmentKey { src, dst: "192.0.2.2".parse().unwrap(), id, protocol: 17 }
}

#[test]
fn a_flood_of_incomplete_datagrams_stays_within_the_limits() {
    let limits = DefragLimits { max_datagrams: 100, max_bytes: 256 * 1024, timeout: Duration::from_secs(30) };
    let mut d = Defragmenter::new(limits);
    let chunk = [0xAAu8; 1480];
    for id in 0..20_000u32 {
        // First halves only, a millisecond apart: none ever completes.
        let r =
            d.fragment(Timestamp(i64::from(id) * 1_000_000), key(id), Fragment { id, offset: 0, more: true }, &chunk);
        assert_eq!(r, Reassembly::Held);
        assert!(d.held() <= 100 && d.held_bytes() <= 256 * 1024, "{} {}", d.held(), d.held_bytes());
    }
    let s = d.stats();
    assert_eq!(s.datagrams_reassembled, 0);
    assert_eq!(s.datagrams_evicted + s.datagrams_expired + d.held() as u64, 20_000);
    // After 30 s of capture time without fragments, what is left expires.
    d.fragment(Timestamp(100_000_000_000), key(1), Fragment { id: 1, offset: 0, more: true }, b"x");
    assert_eq!(d.held(), 1);
}

#[test]
fn oversized_and_overlapping_fragments_through_the_extractor() {
    // IPv4 fragments of a UDP datagram claiming offsets up to 65528: the
    // extractor drops them as too long, and counts them.
    let mut extractor = Extractor::new(Limits::default());
    let mut events = 0;
    for (offset_units, more) in [(8191u16, true), (0, true), (1, false)] {
        let mut ip = vec![0x45, 0, 0, 0, 0x12, 0x34, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
        let flags = offset_units | if more { 0x2000 } else { 0 };
        ip[6..8].copy_from_slice(&flags.to_be_bytes());
        ip.extend_from_slice(&[0; 16]);
        let len = ip.len() as u16;
        ip[2..4].copy_from_slice(&len.to_be_bytes());
        let frame = Frame { ts: Timestamp(0), link_type: LinkType::RAW, data: &ip, original_len: len.into() };
        assert!(extractor.frame(&frame, &mut |_| events += 1).is_some());
    }
    let stats = extractor.stats();
    assert_eq!((stats.ipv4_fragments, stats.fragments.datagrams_invalid), (3, 1));
    // 0..16 then 8..24 (the last): complete, with 8..16 overlapping.
    assert_eq!((stats.fragments.datagrams_reassembled, stats.fragments.fragments_overlapping), (1, 1));
    assert_eq!(events, 0);
}
