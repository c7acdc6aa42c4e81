//! Tests of `packet`: real frames (the fixtures in every link layer, and
//! corpus captures), whole and cut at every byte.

use anbao_net::capture::LinkType;
use anbao_net::packet::{self, PacketError, Transport};

use crate::capture::{read_file, tshark_table};
use crate::extract::{corpus_dir, test_data};

fn payload_of(t: &Transport<'_>) -> Vec<u8> {
    match t {
        Transport::Udp(u) => u.payload.to_vec(),
        Transport::Tcp(s) => s.payload.to_vec(),
        Transport::Fragment { payload, .. } => payload.to_vec(),
        Transport::Other { .. } => vec![],
    }
}

#[test]
fn ipv6_extension_headers_are_walked_to_udp() {
    let (_, frames) = read_file(&test_data("links.pcapng"));
    let rows = tshark_table("links.pcapng");
    // Frame 11: the answer over IPv6; frame 13: the same behind hop-by-hop
    // and destination-options headers.
    let plain = packet::decode(LinkType(frames[10].link_type), &frames[10].data).unwrap().unwrap();
    let with_options = packet::decode(LinkType(frames[12].link_type), &frames[12].data).unwrap().unwrap();
    let Transport::Udp(u) = with_options.transport else { panic!("{with_options:?}") };
    assert_eq!((Some(u.sport), Some(u.dport)), (rows[12].sport, rows[12].dport));
    assert_eq!(with_options.src.to_string(), rows[12].src);
    assert_eq!(u.payload, payload_of(&plain.transport));
    assert_eq!(u.payload.len(), 231, "the DNS answer of the source capture's frame 2");
}

/// Cuts every frame at every length: nothing but "truncated" errors (at an
/// offset inside what is left), and an untruncated result is the whole
/// frame's.
fn check_prefixes(link: LinkType, frame: &[u8]) {
    let whole = packet::decode(link, frame).unwrap();
    for cut in 0..frame.len() {
        match packet::decode(link, &frame[..cut]) {
            Err(PacketError::Truncated { offset, .. }) => assert!(offset <= cut),
            Err(e) => panic!("cut at {cut} of {frame:02x?}: {e}"),
            Ok(None) => assert_eq!(whole, None),
            Ok(Some(p)) => {
                let whole = whole.unwrap();
                assert_eq!((p.src, p.dst), (whole.src, whole.dst));
                if !p.truncated {
                    assert_eq!(payload_of(&p.transport), payload_of(&whole.transport), "cut at {cut}");
                }
            }
        }
    }
}

#[test]
fn real_frames_cut_anywhere_decode_as_far_as_they_go() {
    for file in ["links.pcapng", "fragments.pcap"] {
        let (_, frames) = read_file(&test_data(file));
        for f in &frames {
            check_prefixes(LinkType(f.link_type), &f.data);
        }
    }
    for name in [
        "http-post-file__input.pcap",               // BSD loopback, IPv6, TCP
        "http-response-line__input.pcap",           // 802.1Q, IPv6
        "tls__tls-certs-alert__input.pcap",         // Ethernet, IPv6
        "datasets-05-state__input.pcap",            // 802.1Q, DNS
        "dns__dns-corrupt-additionals__input.pcap", // raw IP
    ] {
        let (_, frames) = read_file(&corpus_dir().join(name));
        for f in frames.iter().take(12) {
            check_prefixes(LinkType(f.link_type), &f.data);
        }
    }
}

#[test]
fn the_corpus_link_types_are_the_ones_tshark_names() {
    // capinfos: http-post-file is "NULL/Loopback", dns-corrupt-additionals "Raw IP".
    let (_, frames) = read_file(&corpus_dir().join("http-post-file__input.pcap"));
    assert_eq!(frames[0].link_type, LinkType::NULL.0);
    let (_, frames) = read_file(&corpus_dir().join("dns__dns-corrupt-additionals__input.pcap"));
    assert_eq!(frames[0].link_type, LinkType::RAW.0);
}
