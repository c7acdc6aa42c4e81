//! QUIC Initials: arbitrary datagrams, and client Initials sealed with the
//! public keys around arbitrary frames (so inputs get past the AEAD into
//! frame parsing and CRYPTO reassembly), all into one `QuicInitials`: never
//! panics, never holds more connections or bytes than its bounds, and every
//! hello it hands out is one whole ClientHello message.
#![no_main]

use std::net::{IpAddr, Ipv4Addr};

use anbao_net::quic::{CryptoOutcome, FlowKey, MAX_CRYPTO_BYTES, QuicInitials, seal_client_initial};
use libfuzzer_sys::fuzz_target;

const MAX_CONNECTIONS: usize = 8;

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1));
const SERVER: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 9));

/// Two client flows, the first one's reverse (the server), and an odd one.
const FLOWS: [FlowKey; 4] = [
    (CLIENT, 50_000, SERVER, 443),
    (CLIENT, 50_001, SERVER, 443),
    (SERVER, 443, CLIENT, 50_000),
    (CLIENT, 443, SERVER, 4433),
];

/// Two full-length DCIDs and one too short to start a connection.
const DCIDS: [&[u8]; 3] = [&[0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08], &[7; 20], &[1, 2, 3]];

const VERSIONS: [u32; 4] = [0x0000_0001, 0x6b33_43cf, 0xff00_001d, 0x0000_0001];

fuzz_target!(|data: &[u8]| {
    let mut quic = QuicInitials::new(MAX_CONNECTIONS);
    let mut rest = data;
    let mut packet_number = 0u32;
    // Records of [control, length (2 bytes), bytes].
    while let Some((&control, after)) = rest.split_first() {
        let Some((length, after)) = after.split_first_chunk::<2>() else { break };
        let (bytes, after) = after.split_at(usize::from(u16::from_be_bytes(*length)).min(after.len()));
        rest = after;
        let flow = FLOWS[usize::from(control & 3)];
        let payload = if control & 4 == 0 {
            bytes.to_vec()
        } else {
            packet_number = packet_number.wrapping_add(1);
            let dcid = DCIDS[usize::from(control >> 3 & 3) % DCIDS.len()];
            let version = VERSIONS[usize::from(control >> 5 & 3)];
            seal_client_initial(version, dcid, &[9, 9], &[], packet_number, bytes).unwrap_or_default()
        };
        if control & 0x80 == 0 {
            let _ = quic.datagram(flow, &payload);
        } else if let CryptoOutcome::ClientHello(message) = quic.datagram_crypto(flow, &payload) {
            assert_eq!(message.first(), Some(&1), "a ClientHello");
            let declared =
                message.get(1..4).map(|l| usize::from(l[0]) << 16 | usize::from(l[1]) << 8 | usize::from(l[2]));
            assert_eq!(declared.map(|len| len + 4), Some(message.len()), "exactly one handshake message");
            assert!(message.len() <= MAX_CRYPTO_BYTES);
        }
        assert!(quic.connection_count() <= MAX_CONNECTIONS);
        assert!(quic.buffered_bytes() <= MAX_CONNECTIONS * MAX_CRYPTO_BYTES);
    }
});
