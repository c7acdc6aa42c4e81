//! NetFlow v5 built by hand, and every real datagram of the shared
//! captures cut at every byte or damaged: errors with offsets, never a
//! panic, never a record from a datagram cut short (v5).

use anbao_flow::{FlowError, Timestamp};

use crate::build::v5;
use crate::{decoder, feed, health, shared_data, udp_datagrams};

#[test]
fn header_sampling_engine_and_times() {
    let mut d = decoder();
    // Sampling mode 1 (top bits 01), interval 64.
    let (r, flows) = feed(&mut d, 1, &v5(0, 0x4000 | 64, &[([10, 0, 0, 1], [10, 0, 0, 2], 2, 120)]));
    let r = r.unwrap();
    assert_eq!(r.source.domain, 0x0107);
    let f = flows[0];
    assert_eq!((f.raw_packets, f.raw_bytes, f.sampling_rate, f.packets, f.bytes), (2, 120, 64, 128, 7_680));
    assert_eq!((f.sport, f.dport, f.proto, f.tcp_flags, f.in_if, f.out_if), (1234, 80, 6, 0x1b, Some(3), Some(4)));
    // Header at 1_700_000_000.5 s with uptime 60 s; first 50 s, last 59 s.
    assert_eq!(f.start, Timestamp(1_699_999_990_500_000_000));
    assert_eq!(f.end, Timestamp(1_699_999_999_500_000_000));
    assert_eq!(health(&d).announced_sampling_rate, Some(64));
}

#[test]
fn flow_sequence_gaps_count_lost_flows() {
    let mut d = decoder();
    let rec = ([10, 0, 0, 1], [10, 0, 0, 2], 1, 1);
    for seq in [0, 2, 4, 9] {
        feed(&mut d, 1, &v5(seq, 0, &[rec, rec])).0.unwrap();
    }
    let h = health(&d);
    assert_eq!((h.sequence_gaps, h.sequence_lost, h.flows), (1, 3, 8));
}

#[test]
fn a_datagram_cut_short_gives_no_record() {
    let mut d = decoder();
    let full = v5(0, 0, &[([10, 0, 0, 1], [10, 0, 0, 2], 1, 1), ([10, 0, 0, 1], [10, 0, 0, 3], 1, 1)]);
    let (r, flows) = feed(&mut d, 1, &full[..full.len() - 1]);
    assert!(
        matches!(r, Err(FlowError::Truncated { what: "NetFlow v5 records", at: 24, needed: 96, available: 95 })),
        "{r:?}"
    );
    assert!(flows.is_empty());
    assert_eq!(health(&d).malformed, 1);
}

/// Every prefix of every real datagram (v5, v9, IPFIX), fed to a decoder
/// that already knows the templates, and the same datagrams with one byte
/// flipped: no panic, and a cut datagram never yields more than the whole.
#[test]
fn real_datagrams_cut_at_every_byte_or_flipped() {
    for file in ["softflowd-v5.pcap", "softflowd-v9.pcap", "softflowd-v10.pcap"] {
        let datagrams = udp_datagrams(&shared_data().join("flow").join(file));
        let mut warm = decoder();
        for dg in &datagrams {
            warm.decode(dg.src, dg.ts, &dg.payload, &mut |_| {}).unwrap();
        }
        for dg in datagrams.iter().take(4) {
            let mut whole = 0;
            let mut fresh = decoder();
            fresh.decode(dg.src, dg.ts, &dg.payload, &mut |_| whole += 1).unwrap();
            for cut in 0..dg.payload.len() {
                let mut n = 0;
                let r = warm.decode(dg.src, dg.ts, &dg.payload[..cut], &mut |_| n += 1);
                assert!(n <= whole.max(32), "{file}: cut at {cut}: {n} > {whole}");
                if let Err(e) = r {
                    assert!(!e.to_string().is_empty());
                }
            }
            for at in 0..dg.payload.len() {
                let mut p = dg.payload.clone();
                p[at] ^= 0xa5;
                let _ = warm.decode(dg.src, dg.ts, &p, &mut |_| {});
            }
        }
    }
}

#[test]
fn other_udp_payloads_are_not_flow_exports_and_leave_no_state() {
    let mut d = decoder();
    for p in [&b""[..], b"\x00", b"\x12\x34\x01\x00\x00\x01", b"\x00\x0b\x00\x00"] {
        let (r, _) = feed(&mut d, 1, p);
        assert!(matches!(r, Err(FlowError::NotFlowExport { .. })), "{r:?}");
        assert!(!r.unwrap_err().is_problem());
    }
    assert_eq!(d.sources().count(), 0);
}
