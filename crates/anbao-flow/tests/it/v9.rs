//! NetFlow v9 built by hand: templates arriving late, per-source templates,
//! options sampling, sequence gaps, malformed templates.

use std::time::Duration;

use anbao_flow::{Decoder, DecoderConfig, FlowError, Timestamp};

use crate::build::{V4_FIELDS, set, template, v4_record, v9};
use crate::{decoder, feed, health};

const SECS: u32 = 1_700_000_000;

fn data(records: &[Vec<u8>]) -> Vec<u8> {
    set(256, &records.concat())
}

fn one_flow() -> Vec<u8> {
    data(&[v4_record([10, 0, 0, 1], [10, 0, 0, 2], 1234, 80, 3, 180, 9_000, 9_500)])
}

#[test]
fn a_data_set_before_its_template_waits_for_it() {
    let mut d = decoder();
    let (r, flows) = feed(&mut d, 1, &v9(SECS, 10_000, 1, 0, &[one_flow()]));
    assert!(r.unwrap().problems.is_empty());
    assert!(flows.is_empty());
    assert_eq!(health(&d).parked_sets, 1);

    let (r, flows) = feed(&mut d, 2, &v9(SECS, 10_000, 2, 0, &[set(0, &template(256, &V4_FIELDS))]));
    assert_eq!(r.unwrap().flows, 1);
    let f = flows[0];
    assert_eq!(
        (f.src.to_string(), f.dst.to_string(), f.sport, f.dport, f.proto),
        ("10.0.0.1".into(), "10.0.0.2".into(), 1234, 80, 6)
    );
    assert_eq!((f.packets, f.bytes, f.tcp_flags, f.sampling_rate), (3, 180, 0x12, 1));
    // First switched 9.0 s into an uptime of 10.0 s at the export second.
    assert_eq!(f.start, Timestamp(i64::from(SECS) * 1_000_000_000 - 1_000_000_000));
    assert_eq!(f.end, Timestamp(i64::from(SECS) * 1_000_000_000 - 500_000_000));
    let h = health(&d);
    assert_eq!((h.late_sets, h.dropped_sets, h.flows, h.templates), (1, 0, 1, 1));
}

#[test]
fn waiting_data_sets_are_bounded_in_count_and_age() {
    let config =
        DecoderConfig { max_pending_sets: 2, pending_max_age: Duration::from_secs(10), ..DecoderConfig::default() };
    let mut d = Decoder::new(config);
    for i in 0..3 {
        feed(&mut d, 1, &v9(SECS, 10_000, i, 0, &[one_flow()])).0.unwrap();
    }
    assert_eq!((health(&d).parked_sets, health(&d).dropped_sets), (2, 1));
    // 20 s later the two waiting sets are too old; the template finds none.
    let (_, flows) = feed(&mut d, 21, &v9(SECS, 10_000, 3, 0, &[set(0, &template(256, &V4_FIELDS))]));
    assert!(flows.is_empty());
    assert_eq!(health(&d).dropped_sets, 3);

    // With waiting switched off, a set without template is dropped at once.
    let mut d = Decoder::new(DecoderConfig { max_pending_sets: 0, ..DecoderConfig::default() });
    feed(&mut d, 1, &v9(SECS, 10_000, 1, 0, &[one_flow()])).0.unwrap();
    assert_eq!((health(&d).parked_sets, health(&d).dropped_sets), (0, 1));
}

#[test]
fn templates_belong_to_their_source_id() {
    let mut d = decoder();
    // Source 1 defines 256 as the IPv4 template; source 2 as a shorter one.
    feed(&mut d, 1, &v9(SECS, 10_000, 1, 1, &[set(0, &template(256, &V4_FIELDS))])).0.unwrap();
    feed(&mut d, 1, &v9(SECS, 10_000, 1, 2, &[set(0, &template(256, &[(12, 4), (1, 4)]))])).0.unwrap();
    let (_, a) = feed(&mut d, 2, &v9(SECS, 10_000, 2, 1, &[one_flow()]));
    let (_, b) = feed(&mut d, 2, &v9(SECS, 10_000, 2, 2, &[set(256, &[10, 7, 7, 7, 0, 0, 0, 99])]));
    assert_eq!((a.len(), a[0].domain, a[0].bytes), (1, 1, 180));
    assert_eq!((b.len(), b[0].domain, b[0].dst.to_string(), b[0].bytes), (1, 2, "10.7.7.7".into(), 99));
    assert_eq!(d.sources().count(), 2);
}

#[test]
fn options_data_sets_the_sampling_rate() {
    let mut d = decoder();
    // Options template 300: scope System (type 1, 4 bytes); SAMPLING_INTERVAL
    // (34, 4 bytes) and SAMPLING_ALGORITHM (35, 1 byte).
    let mut options = Vec::new();
    options.extend_from_slice(&300u16.to_be_bytes());
    options.extend_from_slice(&4u16.to_be_bytes());
    options.extend_from_slice(&8u16.to_be_bytes());
    for (ty, len) in [(1u16, 4u16), (34, 4), (35, 1)] {
        options.extend_from_slice(&ty.to_be_bytes());
        options.extend_from_slice(&len.to_be_bytes());
    }
    options.extend_from_slice(&[0, 0]); // padding
    let options_data = set(300, &[0, 0, 0, 0, 0, 0, 0, 100, 2, 0, 0, 0]);
    let (r, _) =
        feed(&mut d, 1, &v9(SECS, 10_000, 1, 0, &[set(1, &options), options_data, set(0, &template(256, &V4_FIELDS))]));
    assert!(r.unwrap().problems.is_empty());
    let (_, flows) = feed(&mut d, 2, &v9(SECS, 10_000, 2, 0, &[one_flow()]));
    let f = flows[0];
    assert_eq!((f.sampling_rate, f.raw_packets, f.raw_bytes, f.packets, f.bytes), (100, 3, 180, 300, 18_000));
    let h = health(&d);
    assert_eq!((h.options_records, h.announced_sampling_rate), (1, Some(100)));

    // The operator's override wins.
    let config = DecoderConfig {
        sampling_overrides: [(crate::exporter(), 7)].into_iter().collect(),
        ..DecoderConfig::default()
    };
    let mut d = Decoder::new(config);
    feed(
        &mut d,
        1,
        &v9(
            SECS,
            10_000,
            1,
            0,
            &[set(1, &options), set(300, &[0, 0, 0, 0, 0, 0, 0, 100, 2, 0, 0, 0]), set(0, &template(256, &V4_FIELDS))],
        ),
    )
    .0
    .unwrap();
    let (_, flows) = feed(&mut d, 2, &v9(SECS, 10_000, 2, 0, &[one_flow()]));
    assert_eq!((flows[0].sampling_rate, flows[0].packets), (7, 21));
}

#[test]
fn a_sampler_id_in_the_record_picks_its_rate() {
    let mut d = decoder();
    // Options 301: scope Interface; FLOW_SAMPLER_ID (48, 1), FLOW_SAMPLER_RANDOM_INTERVAL (50, 4).
    let mut options = Vec::new();
    for v in [301u16, 4, 8, 2, 4, 48, 1, 50, 4] {
        options.extend_from_slice(&v.to_be_bytes());
    }
    let samplers = set(301, &[0, 0, 0, 1, 5, 0, 0, 0, 10, 0, 0, 0, 2, 6, 0, 0, 3, 232]);
    let mut fields = V4_FIELDS.to_vec();
    fields.push((48, 1));
    let mut rec = v4_record([10, 0, 0, 1], [10, 0, 0, 2], 1, 2, 1, 100, 9_000, 9_000);
    rec.push(6);
    feed(&mut d, 1, &v9(SECS, 10_000, 1, 0, &[set(1, &options), samplers, set(0, &template(256, &fields))])).0.unwrap();
    let (_, flows) = feed(&mut d, 2, &v9(SECS, 10_000, 2, 0, &[set(256, &rec)]));
    assert_eq!((flows[0].sampling_rate, flows[0].bytes), (1000, 100_000));
}

#[test]
fn sequence_gaps_count_lost_datagrams() {
    let mut d = decoder();
    let t = set(0, &template(256, &V4_FIELDS));
    for seq in [1, 2, 6, 7, 3] {
        feed(&mut d, 1, &v9(SECS, 10_000, seq, 0, std::slice::from_ref(&t))).0.unwrap();
    }
    // 2 → 6 lost three; 7 → 3 is a restart, not a loss.
    let h = health(&d);
    assert_eq!((h.packets, h.sequence_gaps, h.sequence_lost), (5, 1, 3));
}

#[test]
fn malformed_templates_are_refused_and_the_rest_is_read() {
    let mut d = decoder();
    // A zero-length field, then in a second set a good template and data.
    let bad = set(0, &template(257, &[(8, 4), (12, 0)]));
    let (r, flows) = feed(&mut d, 1, &v9(SECS, 10_000, 1, 0, &[bad, set(0, &template(256, &V4_FIELDS)), one_flow()]));
    let r = r.unwrap();
    assert!(matches!(r.problems[..], [FlowError::BadTemplate { id: 257, at: 24, .. }]), "{:?}", r.problems);
    assert_eq!(flows.len(), 1);
    assert_eq!(health(&d).template_errors, 1);

    // A field count far beyond the set; a template id under 256.
    for t in [
        {
            let mut t = Vec::new();
            t.extend_from_slice(&[1, 44, 0xff, 0xff, 0, 8, 0, 4]);
            t
        },
        template(255, &[(8, 4)]),
    ] {
        let (r, flows) = feed(&mut d, 1, &v9(SECS, 10_000, 2, 0, &[set(0, &t)]));
        assert_eq!(r.unwrap().problems.len(), 1);
        assert!(flows.is_empty());
    }
    assert_eq!(health(&d).template_errors, 3);

    // Templates per source are bounded.
    let mut d = Decoder::new(DecoderConfig { max_templates_per_source: 2, ..DecoderConfig::default() });
    let sets: Vec<Vec<u8>> = (256..260).map(|id| set(0, &template(id, &V4_FIELDS))).collect();
    let (r, _) = feed(&mut d, 1, &v9(SECS, 10_000, 1, 0, &sets));
    assert_eq!(r.unwrap().problems.len(), 2);
    assert_eq!(health(&d).templates, 2);
}

#[test]
fn a_set_longer_than_the_datagram_is_an_error_with_its_offset() {
    let mut d = decoder();
    let mut dgram = v9(SECS, 10_000, 1, 0, &[set(0, &template(256, &V4_FIELDS))]);
    dgram[22] = 0x10; // set length 4096+…
    let (r, _) = feed(&mut d, 1, &dgram);
    assert!(matches!(r, Err(FlowError::Truncated { what: "set", at: 20, .. })), "{r:?}");
    assert_eq!(health(&d).malformed, 1);
}
