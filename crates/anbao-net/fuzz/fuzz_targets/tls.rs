//! TLS ClientHellos from records and bare handshakes: never panics; what
//! completes has well-formed fingerprints and bounded ALPN; a hello read
//! from records reads the same from its bare handshake message.
#![no_main]

use anbao_net::event::TlsHello;
use anbao_net::tls::{ClientHello, HelloStatus, MAX_ALPN, parse_client_hello_handshake, parse_client_hello_records};
use libfuzzer_sys::fuzz_target;

fn is_lower_hex(text: &str) -> bool {
    text.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn check(hello: &TlsHello, quic: bool) {
    let ja3 = hello.ja3.as_deref().unwrap();
    assert!(ja3.len() == 32 && is_lower_hex(ja3), "{ja3:?}");
    let ja4 = hello.ja4.as_deref().unwrap();
    let parts: Vec<&str> = ja4.split('_').collect();
    assert_eq!(parts.len(), 3, "{ja4:?}");
    assert_eq!(parts[0].len(), 10, "{ja4:?}");
    assert!(parts[0].is_ascii(), "{ja4:?}");
    assert!(parts[0].starts_with(if quic { 'q' } else { 't' }), "{ja4:?}");
    assert!(parts[1..].iter().all(|p| p.len() == 12 && is_lower_hex(p)), "{ja4:?}");
    assert!(hello.alpn.len() <= MAX_ALPN);
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, data)) = data.split_first() else { return };
    let quic = mode & 1 == 1;
    if let HelloStatus::Complete(hello) = parse_client_hello_handshake(data, quic) {
        check(&hello, quic);
        assert!(ClientHello::parse(data).is_ok());
    }
    if let HelloStatus::Complete(hello) = parse_client_hello_records(data) {
        check(&hello, false);
        // The same hello as one bare handshake message: the record bodies joined.
        let mut message = Vec::new();
        let mut rest = data;
        while let [22, _, _, high, low, tail @ ..] = rest {
            let len = usize::from(u16::from_be_bytes([*high, *low]));
            // The last record may be cut short once the hello is whole.
            let Some(body) = tail.get(..len) else {
                message.extend_from_slice(tail);
                break;
            };
            message.extend_from_slice(body);
            rest = &tail[len..];
        }
        assert_eq!(parse_client_hello_handshake(&message, false), HelloStatus::Complete(hello));
    }
});
