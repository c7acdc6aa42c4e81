//! Tests of `tls`: every ClientHello Wireshark finds in the Suricata-Verify
//! captures (TLS over TCP and QUIC Initials), read by us and compared with
//! tshark (test_data/tls/tshark_tls.jsonl, made by make_table.py there):
//! SNI, ALPN, JA3 string and hash, and JA4 (tshark 4.0 has no JA4 field:
//! the table's JA4 is computed from tshark's dissected lists, and checked
//! here against the values Suricata-Verify's ja4 test asserts); then hellos
//! reframed or built by hand.

use anbao_net::event::TlsHello;
use anbao_net::tls::{ClientHello, HelloStatus, MAX_HELLO, parse_client_hello_handshake, parse_client_hello_records};
use serde_json::Value;

const TABLE: &str = include_str!("../../test_data/tls/tshark_tls.jsonl");

/// Where we deliberately differ from tshark: (first `where` of the row, what differs, why).
const DIFFERENCES: &[(&str, &str, &str)] = &[(
    "tls__tls-altname-zero__input.pcap:4",
    "status NotTls",
    "an SSLv2-framed ClientHello (also in tls-glupteba-mb): not read; tshark dissects it but has no JA3 for it either",
)];

struct Row {
    at: String,
    quic: bool,
    bytes: Vec<u8>,
    value: Value,
}

fn rows() -> Vec<Row> {
    TABLE
        .lines()
        .map(|line| {
            let value: Value = serde_json::from_str(line).unwrap();
            Row {
                at: value["where"][0].as_str().unwrap().to_string(),
                quic: value["transport"] == "quic",
                bytes: hex(value["hex"].as_str().unwrap()),
                value,
            }
        })
        .collect()
}

/// The handshake message inside TLS records (their bodies joined).
fn handshake_of(records: &[u8]) -> Vec<u8> {
    let mut message = Vec::new();
    let mut rest = records;
    while rest.len() >= 5 && rest[0] == 22 {
        let len = usize::from(u16::from_be_bytes([rest[3], rest[4]]));
        message.extend_from_slice(&rest[5..5 + len]);
        rest = &rest[5 + len..];
    }
    message
}

fn describe(row: &Row) -> Vec<String> {
    let at = &row.at;
    let mut problems = Vec::new();
    let status =
        if row.quic { parse_client_hello_handshake(&row.bytes, true) } else { parse_client_hello_records(&row.bytes) };
    let hello = match status {
        HelloStatus::Complete(hello) => hello,
        other => {
            problems.push(format!("{at}: status {other:?}"));
            return problems;
        }
    };
    let message = if row.quic { row.bytes.clone() } else { handshake_of(&row.bytes) };
    let parsed = ClientHello::parse(&message).unwrap();
    let theirs = &row.value;
    let mut check = |what: &str, ours: Option<&str>, theirs: &Value| {
        if ours != theirs.as_str() {
            problems.push(format!("{at}: {what}: ours {ours:?}, tshark {theirs}"));
        }
    };
    check("sni", hello.sni.as_deref(), &theirs["sni"]);
    check("ja3_full", Some(&parsed.ja3_string()), &theirs["ja3_full"]);
    check("ja3", hello.ja3.as_deref(), &theirs["ja3"]);
    check("ja4", hello.ja4.as_deref(), &theirs["ja4"]);
    check("ja4_r", Some(&parsed.ja4_raw(row.quic)), &theirs["ja4_r"]);
    let alpn: Vec<&str> = theirs["alpn"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    if hello.alpn != alpn {
        problems.push(format!("{at}: alpn: ours {:?}, tshark {alpn:?}", hello.alpn));
    }
    problems
}

#[test]
fn every_client_hello_agrees_with_tshark() {
    let rows = rows();
    let hellos: usize = rows.iter().map(|r| r.value["where"].as_array().unwrap().len()).sum();
    assert!(rows.len() >= 25 && hellos >= 28, "{} rows, {hellos} hellos", rows.len());
    assert!(rows.iter().filter(|r| r.quic).count() >= 7);

    let mut unexpected = Vec::new();
    let mut seen = vec![false; DIFFERENCES.len()];
    for row in &rows {
        for problem in describe(row) {
            match DIFFERENCES.iter().position(|(at, what, _)| problem.starts_with(&format!("{at}: {what}"))) {
                Some(index) => seen[index] = true,
                None => unexpected.push(problem),
            }
        }
    }
    assert!(unexpected.is_empty(), "{} disagreements with tshark:\n{}", unexpected.len(), unexpected.join("\n"));
    for (seen, difference) in seen.iter().zip(DIFFERENCES) {
        assert!(seen, "documented difference no longer occurs: {difference:?}");
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

fn row(at: &str) -> Row {
    rows().into_iter().find(|r| r.at == at).unwrap()
}

fn complete(status: HelloStatus) -> TlsHello {
    match status {
        HelloStatus::Complete(hello) => hello,
        other => panic!("{other:?}"),
    }
}

/// Suricata-Verify's ja4 test (tests/ja4-rules-disabled/test.rules) matches
/// these two JA4 hashes on its capture; the TLS one is also the worked
/// example of FoxIO's JA4.md.
#[test]
fn ja4_matches_the_values_suricata_verify_asserts() {
    let tcp = row("ja4-rules-disabled__input.pcap:4");
    let hello = complete(parse_client_hello_records(&tcp.bytes));
    assert_eq!(hello.ja4.as_deref(), Some("t13d1516h2_8daaf6152771_e5627efa2ab1"));
    assert_eq!(hello.sni.as_deref(), Some("cloudflare-quic.com"));
    assert_eq!(hello.alpn, ["h2", "http/1.1"]);
    // JA4_r as the spec's Raw Output section spells it for the same hello.
    let message = handshake_of(&tcp.bytes);
    let parsed = ClientHello::parse(&message).unwrap();
    assert_eq!(
        parsed.ja4_raw(false),
        "t13d1516h2_002f,0035,009c,009d,1301,1302,1303,c013,c014,c02b,c02c,c02f,c030,cca8,cca9_0005,000a,000b,000d,\
         0012,0015,0017,001b,0023,002b,002d,0033,4469,ff01_0403,0804,0401,0503,0805,0501,0806,0601"
    );

    let quic = row("ja4-rules-disabled__input.pcap:47");
    assert!(quic.quic);
    let hello = complete(parse_client_hello_handshake(&quic.bytes, true));
    assert_eq!(hello.ja4.as_deref(), Some("q13d0310h3_55b375c5d22e_cd85d2d88918"));
    assert_eq!(hello.alpn, ["h3"]);
    // The same bytes read as TLS over TCP differ only in the prefix.
    let as_tcp = complete(parse_client_hello_handshake(&quic.bytes, false));
    assert_eq!(as_tcp.ja4.as_deref(), Some("t13d0310h3_55b375c5d22e_cd85d2d88918"));
    assert_eq!(as_tcp.ja3, hello.ja3);
}

/// Wraps a handshake message in handshake records of at most `size` bytes each.
fn records(message: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in message.chunks(size) {
        out.extend_from_slice(&[22, 3, 1]);
        out.extend_from_slice(&u16::try_from(chunk.len()).unwrap().to_be_bytes());
        out.extend_from_slice(chunk);
    }
    out
}

#[test]
fn a_hello_spread_over_records_reads_the_same() {
    let tcp = row("tls__tls-fin-close-data-01__debug-s13.pcap:4");
    let message = handshake_of(&tcp.bytes);
    assert!(message.len() > 1800);
    let whole = complete(parse_client_hello_records(&tcp.bytes));
    assert_eq!(whole.sni.as_deref(), Some("rr4---sn-5hne6nzy.googlevideo.com"));
    // Record bodies of 1 byte (the handshake header itself split), 3, 100 and 1000 bytes.
    for size in [1, 3, 100, 1000] {
        let framed = records(&message, size);
        assert_eq!(complete(parse_client_hello_records(&framed)), whole, "records of {size}");
        // Every cut before the end needs more bytes; after the last record, extra bytes are ignored.
        for cut in (0..framed.len()).step_by(97).chain([framed.len() - 1]) {
            assert_eq!(
                parse_client_hello_records(&framed[..cut]),
                HelloStatus::Partial,
                "records of {size}, cut {cut}"
            );
        }
        let mut longer = framed.clone();
        longer.extend_from_slice(&[20, 3, 3, 0, 1, 1]);
        assert_eq!(complete(parse_client_hello_records(&longer)), whole);
    }
    // One record that goes on after the hello (its length says 100 bytes more than have come):
    // the hello is whole, so it is read without waiting; likewise when the last of several
    // records is cut after the hello's end.
    let mut one = records(&message, 16_000);
    let declared = u16::try_from(message.len() + 100).unwrap().to_be_bytes();
    one[3..5].copy_from_slice(&declared);
    assert_eq!(complete(parse_client_hello_records(&one)), whole);
    let mut tail = message.clone();
    tail.extend_from_slice(&[0; 50]);
    let mut several = records(&tail, 1000);
    several.truncate(several.len() - 20);
    assert_eq!(complete(parse_client_hello_records(&several)), whole);
}

#[test]
fn handshake_prefixes_are_partial() {
    let quic = row("quic-frag__input.pcap:2");
    let whole = complete(parse_client_hello_handshake(&quic.bytes, true));
    assert_eq!(whole.sni.as_deref(), Some("token.services.mozilla.com"));
    for cut in 0..quic.bytes.len() {
        assert_eq!(parse_client_hello_handshake(&quic.bytes[..cut], true), HelloStatus::Partial, "cut {cut}");
    }
}

#[test]
fn other_bytes_are_not_tls() {
    let tcp = row("ja4-rules-disabled__input.pcap:4");
    let mut alert_first = tcp.bytes.clone();
    alert_first[0] = 21;
    let mut sslv4 = tcp.bytes.clone();
    sslv4[1] = 4;
    let mut server_hello = tcp.bytes.clone();
    server_hello[5] = 2;
    for bytes in [&b"GET / HTTP/1.1\r\n"[..], &alert_first, &sslv4, &server_hello, &[22, 3, 5]] {
        assert_eq!(parse_client_hello_records(bytes), HelloStatus::NotTls, "{:?}", &bytes[..bytes.len().min(8)]);
    }
    assert_eq!(parse_client_hello_handshake(&[2, 0, 0, 4, 3, 3, 0, 0], true), HelloStatus::NotTls);
    // A handshake length over the cap is refused at once, without waiting.
    let len = u32::try_from(MAX_HELLO).unwrap().to_be_bytes();
    assert_eq!(parse_client_hello_handshake(&[1, len[1], len[2], len[3]], false), HelloStatus::NotTls);
    assert_eq!(parse_client_hello_records(&[22, 3, 1, 0, 4, 1, len[1], len[2], len[3]]), HelloStatus::NotTls);
    let under = u32::try_from(MAX_HELLO - 4).unwrap().to_be_bytes();
    assert_eq!(parse_client_hello_handshake(&[1, under[1], under[2], under[3]], false), HelloStatus::Partial);
    // A record body over 2^14 + 2048 bytes is not TLS.
    assert_eq!(parse_client_hello_records(&[22, 3, 1, 0x48, 0x01, 1]), HelloStatus::NotTls);
}

/// Builds a ClientHello handshake message from its parts.
fn hello_message(version: u16, ciphers: &[u16], extensions: Option<&[(u16, Vec<u8>)]>) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(&[7; 32]);
    body.push(0);
    body.extend_from_slice(&u16::try_from(ciphers.len() * 2).unwrap().to_be_bytes());
    for cipher in ciphers {
        body.extend_from_slice(&cipher.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]);
    if let Some(extensions) = extensions {
        let mut block = Vec::new();
        for (extension_type, data) in extensions {
            block.extend_from_slice(&extension_type.to_be_bytes());
            block.extend_from_slice(&u16::try_from(data.len()).unwrap().to_be_bytes());
            block.extend_from_slice(data);
        }
        body.extend_from_slice(&u16::try_from(block.len()).unwrap().to_be_bytes());
        body.extend_from_slice(&block);
    }
    let mut message = vec![1, 0];
    message.extend_from_slice(&u16::try_from(body.len()).unwrap().to_be_bytes());
    message.extend_from_slice(&body);
    message
}

#[test]
fn a_hello_without_extensions_and_the_empty_list_rules() {
    // TLS 1.0, two ciphers, no extensions block at all.
    let message = hello_message(0x0301, &[0x0035, 0x002f], None);
    let parsed = ClientHello::parse(&message).unwrap();
    assert_eq!(parsed.ja3_string(), "769,53-47,,,");
    assert_eq!(parsed.ja3(), md5_hex("769,53-47,,,"));
    // No extensions: JA4_c is the all-zero placeholder; b is the hash of "002f,0035".
    let ja4 = parsed.ja4(false);
    assert_eq!(&ja4[..10], "t10i020000");
    assert_eq!(&ja4[24..], "000000000000");
    assert_eq!(&ja4[11..23], &sha256_hex("002f,0035")[..12]);

    // No ciphers at all, GREASE-only ciphers: b is the placeholder too.
    let message = hello_message(0x0303, &[0x1a1a], Some(&[(0x0a0a, vec![]), (0x0017, vec![])]));
    let parsed = ClientHello::parse(&message).unwrap();
    assert_eq!(parsed.ja3_string(), "771,,23,,");
    assert_eq!(parsed.ja4_raw(false), "t12i000100__0017");
    assert_eq!(parsed.ja4(false), format!("t12i000100_000000000000_{}", &sha256_hex("0017")[..12]));

    // Only SNI and ALPN: the sorted extension list is empty, so c is the placeholder even though
    // the counts include them.
    let sni = [0, 6, 0, 0, 3, b'a', b'.', b'b'].to_vec();
    let alpn = [0, 3, 2, b'h', b'2'].to_vec();
    let message = hello_message(0x0303, &[0x1301], Some(&[(0, sni), (16, alpn)]));
    let parsed = ClientHello::parse(&message).unwrap();
    assert_eq!(parsed.ja4(false), format!("t12d0102h2_{}_000000000000", &sha256_hex("1301")[..12]));
    assert_eq!(parsed.server_name(), Some(&b"a.b"[..]));
}

#[test]
fn ja4_version_and_alpn_corner_cases() {
    // supported_versions with GREASE and TLS 1.3 and 1.2: 13. Draft 0x7f1c is highest: 00.
    let versions = |list: &[u16]| {
        let mut data = vec![u8::try_from(list.len() * 2).unwrap()];
        for v in list {
            data.extend_from_slice(&v.to_be_bytes());
        }
        data
    };
    let ja4_a = |extensions: &[(u16, Vec<u8>)]| {
        let message = hello_message(0x0303, &[0x1301], Some(extensions));
        ClientHello::parse(&message).unwrap().ja4(true)[..10].to_string()
    };
    assert_eq!(ja4_a(&[(43, versions(&[0x3a3a, 0x0304, 0x0303]))]), "q13i010100");
    assert_eq!(ja4_a(&[(43, versions(&[0x7f1c, 0x0303]))]), "q00i010100");
    assert_eq!(ja4_a(&[(43, versions(&[0x0a0a]))]), "q12i010100");
    // ALPN whose first protocol starts with a non-alphanumeric byte: hex digits.
    assert_eq!(ja4_a(&[(16, vec![0, 4, 3, 0xab, b'x', b'1'])]), "q12i0101a1");
    // An empty first protocol: 00. A malformed ALPN list: counted, but no protocols.
    assert_eq!(ja4_a(&[(16, vec![0, 1, 0])]), "q12i010100");
    let message = hello_message(0x0303, &[0x1301], Some(&[(16, vec![0, 9, 2, b'h'])]));
    let hello = complete(parse_client_hello_handshake(&message, false));
    assert_eq!(hello.alpn, Vec::<String>::new());
    assert_eq!(&hello.ja4.unwrap()[..10], "t12i010100");
}

#[test]
fn malformed_hellos_say_where() {
    let message = hello_message(0x0303, &[0x1301], Some(&[(0, vec![0, 9])]));
    // Cut the extension data short by rewriting the extensions length: the block claims more than there is.
    let mut bad = message.clone();
    let block_len_at = 4 + 2 + 32 + 1 + 2 + 2 + 2;
    bad[block_len_at + 1] += 1;
    let error = ClientHello::parse(&bad).unwrap_err();
    // The offset is where the block starts, after its two length bytes.
    assert_eq!((error.offset, error.what), (block_len_at + 2, "extensions run past the message"));
    let mut odd = message.clone();
    odd[4 + 2 + 32 + 1 + 1] = 3;
    assert_eq!(ClientHello::parse(&odd).unwrap_err().what, "odd cipher suites length");
    assert_eq!(parse_client_hello_handshake(&odd, false), HelloStatus::NotTls);
}

fn md5_hex(text: &str) -> String {
    use md5::Digest as _;
    md5::Md5::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(text: &str) -> String {
    use sha2::Digest as _;
    sha2::Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}
