//! Tests of `quic`. The real traffic is every QUIC datagram of the
//! Suricata-Verify captures (as tshark extracted them: test_data/quic/
//! datagrams.tsv, made by make-fixtures.sh); what must come out is what
//! tshark itself decrypted from them (hellos.tsv): the same ClientHellos, at
//! the same frame, with the same SNI and ALPN. Synthetic packets, sealed
//! with the public Initial keys, cover reassembly orders, bounds and
//! hostile input.
//!
//! SNI and ALPN are read here by a minimal ClientHello walk of our own
//! (`sni_and_alpn`), independent of `tls`, whose parser lands separately;
//! `datagram` is checked to agree with `tls::parse_client_hello_handshake`
//! on the same bytes, and with tshark's SNI/ALPN/JA3 once that parser reads
//! the hello.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;

use anbao_net::quic::{CryptoOutcome, FlowKey, MAX_CRYPTO_BYTES, QuicInitials, QuicOutcome, seal_client_initial};
use anbao_net::tls::{HelloStatus, parse_client_hello_handshake};

fn test_data(name: &str) -> String {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("test_data/quic").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn hex(text: &str) -> Vec<u8> {
    let digits: Vec<u8> = text.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits.chunks(2).map(|pair| u8::from_str_radix(std::str::from_utf8(pair).unwrap(), 16).unwrap()).collect()
}

fn rows(name: &str) -> Vec<Vec<String>> {
    test_data(name)
        .lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| line.split('\t').map(str::to_owned).collect())
        .collect()
}

struct Datagram {
    frame: u32,
    flow: FlowKey,
    payload: Vec<u8>,
}

/// Datagrams by capture file, in capture order.
fn captures() -> BTreeMap<String, Vec<Datagram>> {
    let mut captures: BTreeMap<String, Vec<Datagram>> = BTreeMap::new();
    for row in rows("datagrams.tsv") {
        let [file, frame, src, sport, dst, dport, payload] = <[String; 7]>::try_from(row).unwrap();
        let flow = (src.parse().unwrap(), sport.parse().unwrap(), dst.parse().unwrap(), dport.parse().unwrap());
        captures.entry(file).or_default().push(Datagram {
            frame: frame.parse().unwrap(),
            flow,
            payload: hex(&payload),
        });
    }
    captures
}

#[derive(Debug, PartialEq)]
struct Seen {
    frame: u32,
    sni: Option<String>,
    alpn: String,
}

/// A ClientHello as tshark decrypted it.
struct TsharkHello {
    seen: Seen,
    ja3: String,
}

/// tshark's ClientHellos by capture file.
fn tshark_hellos() -> BTreeMap<String, Vec<TsharkHello>> {
    let mut hellos: BTreeMap<String, Vec<TsharkHello>> = BTreeMap::new();
    for row in rows("hellos.tsv") {
        let [file, frame, sni, alpn, ja3] = <[String; 5]>::try_from(row).unwrap();
        let seen = Seen { frame: frame.parse().unwrap(), sni: Some(sni), alpn };
        hellos.entry(file).or_default().push(TsharkHello { seen, ja3 });
    }
    hellos
}

/// The SNI host name and ALPN protocols (comma-joined, as tshark prints
/// them) of a ClientHello handshake message.
fn sni_and_alpn(message: &[u8]) -> (Option<String>, String) {
    assert_eq!(message[0], 1, "handshake type ClientHello");
    let length = usize::from(message[1]) << 16 | usize::from(message[2]) << 8 | usize::from(message[3]);
    assert_eq!(length + 4, message.len(), "exactly one handshake message");
    let body = &message[4..];
    let u16_at = |at: usize| usize::from(body[at]) << 8 | usize::from(body[at + 1]);
    let mut at = 2 + 32; // legacy_version, random
    at += 1 + usize::from(body[at]); // legacy_session_id
    at += 2 + u16_at(at); // cipher_suites
    at += 1 + usize::from(body[at]); // legacy_compression_methods
    let end = at + 2 + u16_at(at);
    at += 2;
    assert_eq!(end, body.len(), "extensions end the message");
    let (mut sni, mut alpn) = (None, Vec::new());
    while at < end {
        let (kind, len) = (u16_at(at), u16_at(at + 2));
        let data = &body[at + 4..at + 4 + len];
        match kind {
            0 => {
                assert_eq!(data[2], 0, "host_name");
                let name_len = usize::from(data[3]) << 8 | usize::from(data[4]);
                sni = Some(String::from_utf8(data[5..5 + name_len].to_vec()).unwrap());
            }
            16 => {
                let mut p = 2;
                while p < data.len() {
                    let n = usize::from(data[p]);
                    alpn.push(String::from_utf8(data[p + 1..p + 1 + n].to_vec()).unwrap());
                    p += 1 + n;
                }
            }
            _ => {}
        }
        at += 4 + len;
    }
    (sni, alpn.join(","))
}

/// Feeds a capture's datagrams in order; returns every hello with its frame.
fn hellos_of(datagrams: &[Datagram]) -> Vec<(u32, Vec<u8>)> {
    let mut quic = QuicInitials::new(64);
    let mut hellos = Vec::new();
    for d in datagrams {
        match quic.datagram_crypto(d.flow, &d.payload) {
            CryptoOutcome::ClientHello(message) => hellos.push((d.frame, message)),
            CryptoOutcome::Undecodable(what) => panic!("frame {}: {what}", d.frame),
            CryptoOutcome::NotQuic => panic!("frame {}: a long header of version 1 read as not QUIC", d.frame),
            CryptoOutcome::Ignored | CryptoOutcome::Pending => {}
        }
    }
    hellos
}

#[test]
fn every_capture_yields_the_client_hellos_tshark_decrypts() {
    let captures = captures();
    let expected = tshark_hellos();
    assert_eq!(captures.len(), 7, "the seven Suricata-Verify captures with QUIC");
    assert_eq!(captures.keys().collect::<Vec<_>>(), expected.keys().collect::<Vec<_>>());
    for (file, datagrams) in &captures {
        let seen: Vec<Seen> = hellos_of(datagrams)
            .into_iter()
            .map(|(frame, message)| {
                let (sni, alpn) = sni_and_alpn(&message);
                Seen { frame, sni, alpn }
            })
            .collect();
        let tshark: Vec<&Seen> = expected[file].iter().map(|h| &h.seen).collect();
        assert_eq!(seen.iter().collect::<Vec<_>>(), tshark, "{file}");
    }
}

#[test]
fn hellos_split_across_datagrams_complete_at_the_last_piece() {
    let captures = captures();
    // quic-frag: 1209 + 645 bytes in two datagrams; -wait: the server
    // answers between the two; -unordered: ten pieces out of order in the
    // first; -middle-gap: the middle arrives last.
    for (file, pieces) in [
        ("quic-frag__input.pcap", 2),
        ("quic-frag-wait__input.pcap", 2),
        ("quic-frag-unordered__input.pcap", 2),
        ("quic-frag-middle-gap__input.pcap", 3),
    ] {
        let datagrams = &captures[file];
        let mut quic = QuicInitials::new(8);
        let outcomes: Vec<CryptoOutcome> =
            datagrams.iter().map(|d| quic.datagram_crypto(d.flow, &d.payload)).take(pieces).collect();
        assert!(outcomes[..pieces - 1].iter().all(|o| *o == CryptoOutcome::Pending), "{file}: {outcomes:?}");
        assert!(matches!(outcomes[pieces - 1], CryptoOutcome::ClientHello(_)), "{file}");
        assert_eq!(quic.buffered_bytes(), 0, "{file}: nothing held once the hello is out");
    }
}

#[test]
fn datagram_reads_the_hello_with_tls_and_agrees_with_it() {
    let expected = tshark_hellos();
    for (file, datagrams) in &captures() {
        let mut bytes_only = QuicInitials::new(64);
        let mut full = QuicInitials::new(64);
        for d in datagrams {
            let crypto = bytes_only.datagram_crypto(d.flow, &d.payload);
            let outcome = full.datagram(d.flow, &d.payload);
            match crypto {
                CryptoOutcome::ClientHello(message) => match parse_client_hello_handshake(&message, true) {
                    HelloStatus::Complete(hello) => {
                        assert_eq!(outcome, QuicOutcome::Hello(hello.clone()), "{file} frame {}", d.frame);
                        let tshark = expected[file].iter().find(|h| h.seen.frame == d.frame).unwrap();
                        assert_eq!(hello.sni, tshark.seen.sni, "{file}");
                        assert_eq!(hello.alpn.join(","), tshark.seen.alpn, "{file}");
                        assert_eq!(hello.ja3.as_ref(), Some(&tshark.ja3), "{file}");
                    }
                    HelloStatus::Partial | HelloStatus::NotTls => {
                        assert!(matches!(outcome, QuicOutcome::Undecodable(_)), "{file} frame {}", d.frame)
                    }
                },
                CryptoOutcome::NotQuic => assert_eq!(outcome, QuicOutcome::NotQuic),
                CryptoOutcome::Ignored => assert_eq!(outcome, QuicOutcome::Ignored),
                CryptoOutcome::Pending => assert_eq!(outcome, QuicOutcome::Pending),
                CryptoOutcome::Undecodable(what) => assert_eq!(outcome, QuicOutcome::Undecodable(what)),
            }
        }
    }
}

/// A real ClientHello (quic-frag's, 1854 bytes) to cut up.
fn real_client_hello() -> Vec<u8> {
    let captures = captures();
    let mut hellos = hellos_of(&captures["quic-frag__input.pcap"]);
    assert_eq!(hellos.len(), 1);
    hellos.pop().unwrap().1
}

fn crypto_frame(offset: usize, data: &[u8]) -> Vec<u8> {
    let mut frame = vec![0x06];
    for value in [offset, data.len()] {
        assert!(value < 1 << 14);
        frame.extend_from_slice(&(value as u16 | 0x4000).to_be_bytes());
    }
    frame.extend_from_slice(data);
    frame
}

fn flow(port: u16) -> FlowKey {
    let client: IpAddr = "2001:db8::1".parse().unwrap();
    (client, port, "2001:db8::443".parse().unwrap(), 443)
}

const DCID: [u8; 8] = [0x5a, 1, 2, 3, 4, 5, 6, 7];

/// Deterministic pseudo-random numbers (a 64-bit LCG) for shuffles.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) as usize % n
    }
}

#[test]
fn shuffled_overlapping_pieces_reassemble_to_the_original() {
    let hello = real_client_hello();
    let mut rng = Lcg(7);
    for round in 0..50 {
        // Random pieces that cover the hello, some overlapping, in random
        // order, a random number of frames per packet.
        let mut pieces = Vec::new();
        let mut at = 0;
        while at < hello.len() {
            let len = 1 + rng.below(300);
            let start = at.saturating_sub(rng.below(20));
            let end = (at + len).min(hello.len());
            pieces.push((start, end));
            at = end;
        }
        for i in (1..pieces.len()).rev() {
            pieces.swap(i, rng.below(i + 1));
        }
        let mut quic = QuicInitials::new(4);
        // The hello is whole after the packet that covers the last gap;
        // packets after it are retransmissions.
        let mut covered = vec![false; hello.len()];
        let mut hellos = 0;
        for (pn, chunk) in pieces.chunks(1 + rng.below(4)).enumerate() {
            let mut frames = vec![0x01]; // PING, then the pieces
            for &(start, end) in chunk {
                frames.extend(crypto_frame(start, &hello[start..end]));
                covered[start..end].iter_mut().for_each(|c| *c = true);
            }
            let packet = seal_client_initial(1, &DCID, &[9; 4], &[], pn as u32, &frames).unwrap();
            let expected = match (covered.iter().all(|&c| c), hellos) {
                (false, _) => CryptoOutcome::Pending,
                (true, 0) => CryptoOutcome::ClientHello(hello.clone()),
                (true, _) => CryptoOutcome::Ignored,
            };
            assert_eq!(quic.datagram_crypto(flow(40_000), &packet), expected, "round {round}, packet {pn}");
            hellos += usize::from(covered.iter().all(|&c| c));
        }
        assert!(hellos >= 1, "round {round}");
    }
}

#[test]
fn overlapping_data_keeps_the_bytes_that_came_first() {
    let hello = real_client_hello();
    let mut forged = hello[100..400].to_vec();
    forged.iter_mut().for_each(|b| *b ^= 0xff);
    let mut quic = QuicInitials::new(4);
    let first = seal_client_initial(1, &DCID, &[], &[], 0, &crypto_frame(100, &hello[100..400])).unwrap();
    let second = seal_client_initial(1, &DCID, &[], &[], 1, &crypto_frame(100, &forged)).unwrap();
    let rest = [crypto_frame(0, &hello[..150]), crypto_frame(350, &hello[350..])].concat();
    let third = seal_client_initial(1, &DCID, &[], &[], 2, &rest).unwrap();
    assert_eq!(quic.datagram_crypto(flow(1), &first), CryptoOutcome::Pending);
    assert_eq!(quic.datagram_crypto(flow(1), &second), CryptoOutcome::Pending);
    assert_eq!(quic.datagram_crypto(flow(1), &third), CryptoOutcome::ClientHello(hello));
}

#[test]
fn coalesced_packets_are_stepped_over_by_their_length() {
    let hello = real_client_hello();
    let (head, tail) = hello.split_at(1000);
    let first = seal_client_initial(1, &DCID, &[], &[], 0, &crypto_frame(0, head)).unwrap();
    let second = seal_client_initial(1, &DCID, &[], &[], 1, &crypto_frame(1000, tail)).unwrap();
    // A Handshake-type packet (type bits 10) of 20 bytes, then padding.
    let mut handshake = vec![0xe0, 0, 0, 0, 1, 8];
    handshake.extend_from_slice(&DCID);
    handshake.extend_from_slice(&[0, 20]);
    handshake.extend_from_slice(&[0xab; 20]);

    let datagram = [first.clone(), handshake.clone(), second.clone(), vec![0; 40]].concat();
    let mut quic = QuicInitials::new(4);
    assert_eq!(quic.datagram_crypto(flow(2), &datagram), CryptoOutcome::ClientHello(hello.clone()));

    let mut quic = QuicInitials::new(4);
    assert_eq!(quic.datagram_crypto(flow(2), &[handshake.clone(), first].concat()), CryptoOutcome::Pending);
    assert_eq!(quic.datagram_crypto(flow(2), &handshake), CryptoOutcome::Ignored);
    assert_eq!(quic.datagram_crypto(flow(2), &second), CryptoOutcome::ClientHello(hello));
}

#[test]
fn connections_and_buffers_stay_within_their_bounds() {
    let hello = real_client_hello();
    let (head, tail) = hello.split_at(1000);
    let mut quic = QuicInitials::new(3);
    for port in 0..10 {
        let first = seal_client_initial(1, &DCID, &[], &[], 0, &crypto_frame(0, head)).unwrap();
        assert_eq!(quic.datagram_crypto(flow(port), &first), CryptoOutcome::Pending);
        assert!(quic.connection_count() <= 3);
        assert!(quic.buffered_bytes() <= 3 * 1000);
    }
    let second = seal_client_initial(1, &DCID, &[], &[], 1, &crypto_frame(1000, tail)).unwrap();
    // The first flows were evicted: their second half alone is a new, gappy
    // connection. The newest still completes.
    assert_eq!(quic.datagram_crypto(flow(0), &second), CryptoOutcome::Pending);
    assert_eq!(quic.datagram_crypto(flow(9), &second), CryptoOutcome::ClientHello(hello));
    assert!(quic.connection_count() <= 3);
}

#[test]
fn crypto_data_past_the_bound_gives_up_the_connection() {
    let mut quic = QuicInitials::new(4);
    // Two bytes from offset 65535 (a 4-byte varint) end one past the bound.
    let mut frame = vec![0x06];
    frame.extend_from_slice(&((MAX_CRYPTO_BYTES as u32 - 1) | 0x8000_0000).to_be_bytes());
    frame.extend_from_slice(&[2, b'x', b'y']);
    let far = seal_client_initial(1, &DCID, &[], &[], 1, &frame).unwrap();
    let start = seal_client_initial(1, &DCID, &[], &[], 0, &crypto_frame(0, &[1, 0, 0, 9])).unwrap();
    assert_eq!(quic.datagram_crypto(flow(3), &start), CryptoOutcome::Pending);
    assert_eq!(quic.datagram_crypto(flow(3), &far), CryptoOutcome::Undecodable("CRYPTO data beyond the 64 KiB bound"));
    assert_eq!(quic.buffered_bytes(), 0);
    assert_eq!(quic.datagram_crypto(flow(3), &start), CryptoOutcome::Ignored, "given up for good");
}

#[test]
fn a_stream_frame_in_an_initial_is_undecodable_and_keeps_no_state() {
    let mut frames = crypto_frame(0, &[1, 0, 0, 5, 1]);
    frames.extend_from_slice(&[0x08, 0x00, 0x00]); // STREAM
    let packet = seal_client_initial(1, &DCID, &[], &[], 0, &frames).unwrap();
    let mut quic = QuicInitials::new(4);
    assert_eq!(
        quic.datagram_crypto(flow(4), &packet),
        CryptoOutcome::Undecodable("frame type not allowed in an Initial packet")
    );
    assert_eq!(quic.connection_count(), 0);
}

#[test]
fn other_udp_payloads_are_not_quic() {
    let mut quic = QuicInitials::new(4);
    // A DNS query, a short-header packet, nothing, an unknown version.
    let dns = hex("123401000001000000000000076578616d706c6503636f6d0000010001");
    assert_eq!(quic.datagram_crypto(flow(5), &dns), CryptoOutcome::NotQuic);
    assert_eq!(
        quic.datagram_crypto(flow(5), &hex("4cfe4189655e5cd55c41f69080575d7999c25a5bfb")),
        CryptoOutcome::NotQuic
    );
    assert_eq!(quic.datagram_crypto(flow(5), &[]), CryptoOutcome::NotQuic);
    assert_eq!(quic.datagram_crypto(flow(5), &hex("c0deadbeef08")), CryptoOutcome::NotQuic);
    // Version negotiation is QUIC with nothing for us.
    assert_eq!(
        quic.datagram_crypto(flow(5), &hex("80000000000800112233445566770000000100000002")),
        CryptoOutcome::Ignored
    );
    assert_eq!(quic.datagram(flow(5), &dns), QuicOutcome::NotQuic);
}

#[test]
fn damaged_initials_never_pass_and_never_panic() {
    let hello = real_client_hello();
    let mut frames = crypto_frame(0, &hello);
    frames.resize(frames.len().max(1162), 0);
    let packet = seal_client_initial(1, &DCID, &[], &[], 0, &frames).unwrap();
    let mut rng = Lcg(11);
    for _ in 0..300 {
        let mut damaged = packet.clone();
        let at = rng.below(damaged.len());
        damaged[at] ^= 1 << rng.below(8);
        let mut quic = QuicInitials::new(4);
        let outcome = quic.datagram_crypto(flow(6), &damaged);
        assert!(!matches!(outcome, CryptoOutcome::ClientHello(_)), "byte {at} flipped, yet it authenticated");
    }
    for len in 0..packet.len() {
        let mut quic = QuicInitials::new(4);
        let outcome = quic.datagram_crypto(flow(6), &packet[..len]);
        assert!(!matches!(outcome, CryptoOutcome::ClientHello(_) | CryptoOutcome::Pending), "cut at {len}");
    }
    assert_eq!(QuicInitials::new(4).datagram_crypto(flow(6), &packet), CryptoOutcome::ClientHello(hello));
}
