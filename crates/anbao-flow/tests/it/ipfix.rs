//! IPFIX built by hand: withdrawal, enterprise and variable-length
//! elements, options (sampling, system init time), absolute times,
//! sequence accounting.

use anbao_flow::{FlowError, Timestamp};

use crate::build::{Put, ipfix, set, template};
use crate::{decoder, feed, health};

const SECS: u32 = 1_700_000_000;

/// src, dst, packets (8), bytes (8), flowStartMilliseconds, flowEndMilliseconds.
const FIELDS: [(u16, u16); 6] = [(8, 4), (12, 4), (2, 8), (1, 8), (152, 8), (153, 8)];

fn record(dst: u8, packets: u64, bytes: u64) -> Vec<u8> {
    let mut r = Vec::new();
    r.bytes(&[10, 0, 0, 1]).bytes(&[10, 0, 0, dst]);
    r.bytes(&packets.to_be_bytes()).bytes(&bytes.to_be_bytes());
    r.bytes(&1_700_000_000_123u64.to_be_bytes()).bytes(&1_700_000_000_456u64.to_be_bytes());
    r
}

#[test]
fn absolute_millisecond_times_and_counts() {
    let mut d = decoder();
    let (r, flows) = feed(
        &mut d,
        1,
        &ipfix(
            SECS,
            0,
            7,
            &[set(2, &template(300, &FIELDS)), set(300, &[record(2, 5, 500), record(3, 1, 40)].concat())],
        ),
    );
    assert!(r.unwrap().problems.is_empty());
    assert_eq!(flows.len(), 2);
    assert_eq!(
        (flows[0].dst.to_string(), flows[0].packets, flows[0].bytes, flows[0].domain),
        ("10.0.0.2".into(), 5, 500, 7)
    );
    assert_eq!(flows[0].start, Timestamp(1_700_000_000_123_000_000));
    assert_eq!(flows[0].end, Timestamp(1_700_000_000_456_000_000));
}

#[test]
fn withdrawn_templates_no_longer_decode() {
    let mut d = decoder();
    feed(&mut d, 1, &ipfix(SECS, 0, 0, &[set(2, &template(300, &FIELDS)), set(2, &template(301, &FIELDS))])).0.unwrap();
    assert_eq!(health(&d).templates, 2);
    // Withdraw 300 (field count 0).
    let (r, _) = feed(&mut d, 2, &ipfix(SECS, 0, 0, &[set(2, &[1, 44, 0, 0])]));
    assert!(r.unwrap().problems.is_empty());
    let (_, flows) = feed(&mut d, 3, &ipfix(SECS, 0, 0, &[set(300, &record(2, 1, 1)), set(301, &record(3, 1, 1))]));
    assert_eq!(flows.len(), 1);
    assert_eq!(flows[0].dst.to_string(), "10.0.0.3");
    assert_eq!(health(&d).parked_sets, 1);
    // Withdraw all data templates (template id 2 in a template set).
    feed(&mut d, 4, &ipfix(SECS, 0, 0, &[set(2, &[0, 2, 0, 0])])).0.unwrap();
    let h = health(&d);
    assert_eq!((h.templates, h.withdrawals), (0, 2));
}

#[test]
fn enterprise_and_variable_length_elements_are_skipped() {
    let mut d = decoder();
    // dst, an enterprise element (PEN 9, 2 bytes), a variable-length
    // element (applicationName, 96), octetDeltaCount (4), another
    // variable-length one of the 3-byte form, packetDeltaCount (2).
    let mut t = Vec::new();
    t.u16(400).u16(6);
    t.u16(12).u16(4);
    t.u16(0x8000 | 100).u16(2).u32(9);
    t.u16(96).u16(65535);
    t.u16(1).u16(4);
    t.u16(0x8000 | 7).u16(65535).u32(2636);
    t.u16(2).u16(2);
    let mut r = Vec::new();
    r.bytes(&[10, 1, 1, 1]).bytes(&[0xaa, 0xbb]);
    r.u8(4).bytes(b"http");
    r.u32(1500);
    r.u8(255).u16(300).bytes(&[0x5a; 300]);
    r.u16(3);
    let (res, flows) = feed(&mut d, 1, &ipfix(SECS, 0, 0, &[set(2, &t), set(400, &[r.clone(), r].concat())]));
    assert!(res.unwrap().problems.is_empty());
    assert_eq!(flows.len(), 2);
    assert_eq!((flows[1].dst.to_string(), flows[1].bytes, flows[1].packets), ("10.1.1.1".into(), 1500, 3));
}

#[test]
fn a_variable_length_field_past_the_set_stops_the_set() {
    let mut d = decoder();
    let mut t = Vec::new();
    t.u16(400).u16(2).u16(12).u16(4).u16(96).u16(65535);
    let mut r = Vec::new();
    r.bytes(&[10, 1, 1, 1]).u8(200).bytes(b"short");
    let (res, flows) = feed(&mut d, 1, &ipfix(SECS, 0, 0, &[set(2, &t), set(400, &r)]));
    let res = res.unwrap();
    assert!(flows.is_empty());
    assert!(matches!(res.problems[..], [FlowError::Truncated { what: "data record", .. }]), "{:?}", res.problems);
}

#[test]
fn options_give_sampling_per_selector_and_system_init_time() {
    let mut d = decoder();
    // Options template 500: scope selectorId (302, 4); samplingPacketInterval
    // (305, 4), samplingPacketSpace (306, 4). Options 501: scope
    // meteringProcessId (143, 4); systemInitTimeMilliseconds (160, 8).
    let mut o = Vec::new();
    o.u16(500).u16(3).u16(1).u16(302).u16(4).u16(305).u16(4).u16(306).u16(4);
    o.u16(501).u16(2).u16(1).u16(143).u16(4).u16(160).u16(8);
    let mut od = Vec::new();
    od.u32(9).u32(1).u32(99); // selector 9: 1 of 100
    let mut init = Vec::new();
    init.u32(1).bytes(&1_699_999_000_000u64.to_be_bytes());
    // Data: dst, bytes (4), selectorId (4), flowStartSysUpTime (22), flowEndSysUpTime (21).
    let t = template(600, &[(12, 4), (1, 4), (302, 4), (22, 4), (21, 4)]);
    let mut rec = Vec::new();
    rec.bytes(&[10, 2, 2, 2]).u32(64).u32(9).u32(1_000).u32(2_500);
    let (res, flows) =
        feed(&mut d, 1, &ipfix(SECS, 0, 0, &[set(3, &o), set(500, &od), set(501, &init), set(2, &t), set(600, &rec)]));
    assert!(res.unwrap().problems.is_empty());
    let f = flows[0];
    assert_eq!((f.sampling_rate, f.raw_bytes, f.bytes), (100, 64, 6_400));
    assert_eq!(f.start, Timestamp(1_699_999_001_000_000_000));
    assert_eq!(f.end, Timestamp(1_699_999_002_500_000_000));
    assert_eq!(health(&d).options_records, 2);
}

#[test]
fn options_templates_with_a_bad_scope_count_are_refused() {
    let mut d = decoder();
    let mut o = Vec::new();
    o.u16(500).u16(1).u16(2).u16(302).u16(4);
    let (res, _) = feed(&mut d, 1, &ipfix(SECS, 0, 0, &[set(3, &o)]));
    assert!(matches!(res.unwrap().problems[..], [FlowError::BadTemplate { id: 500, .. }]));
    assert_eq!(health(&d).template_errors, 1);
}

#[test]
fn the_sequence_counts_data_records() {
    let mut d = decoder();
    let t = set(2, &template(300, &FIELDS));
    let two = set(300, &[record(2, 1, 1), record(3, 1, 1)].concat());
    // RFC 7011: records before this message. 0 (+2) → 2 (+2) → 10: six lost.
    for seq in [0, 2, 10] {
        feed(&mut d, 1, &ipfix(SECS, seq, 0, &[t.clone(), two.clone()])).0.unwrap();
    }
    let h = health(&d);
    assert_eq!((h.sequence_gaps, h.sequence_lost), (1, 6));
}

#[test]
fn a_length_field_beyond_the_datagram_is_truncation() {
    let mut d = decoder();
    let mut m = ipfix(SECS, 0, 0, &[set(2, &template(300, &FIELDS))]);
    m.truncate(m.len() - 3);
    let (r, _) = feed(&mut d, 1, &m);
    assert!(matches!(r, Err(FlowError::Truncated { what: "IPFIX message", at: 0, .. })), "{r:?}");
}
