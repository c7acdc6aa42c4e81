//! Tests of `dns`: every DNS message Wireshark finds in the Suricata-Verify
//! captures, decoded by us and compared with tshark's reading
//! (test_data/dns/tshark_dns.jsonl, made by make_table.py there); then edge
//! cases built by hand from the RFCs.

use std::net::IpAddr;

use anbao_net::dns::{DnsError, MAX_ANSWERS, parse_message, parse_message_detailed};
use anbao_net::event::{AnswerData, ClientSubnet, Qr, Rcode, RrType};
use serde_json::Value;

const TABLE: &str = include_str!("../../test_data/dns/tshark_dns.jsonl");

/// Where we deliberately differ from tshark: (file, frame, what differs, why).
const DIFFERENCES: &[(&str, u64, &str, &str)] = &[(
    "dns__dns-truncated-rname__poc2.pcap",
    6,
    "error",
    "1,500 questions of names over 255 bytes: tshark prints `<Name too long>`, we refuse the message",
)];

fn describe(row: &Value) -> Vec<String> {
    let file = row["file"].as_str().unwrap();
    let frame = row["frame"].as_u64().unwrap();
    let bytes = hex(row["hex"].as_str().unwrap());
    let mut problems = Vec::new();
    let dns = match parse_message_detailed(&bytes) {
        Ok(parsed) => {
            let malformed = row["malformed"].as_bool().unwrap();
            if parsed.damage.is_some() != malformed {
                problems
                    .push(format!("{file} {frame}: damage: ours {:?}, tshark malformed {malformed}", parsed.damage));
            }
            parsed.dns
        }
        Err(e) => {
            problems.push(format!("{file} {frame}: error {e}"));
            return problems;
        }
    };
    let mut check = |what: &str, ours: String, theirs: String| {
        if ours != theirs {
            problems.push(format!("{file} {frame}: {what}: ours {ours:?}, tshark {theirs:?}"));
        }
    };
    check("id", dns.id.to_string(), row["id"].to_string());
    let qr = match dns.qr {
        Qr::Query => "query",
        Qr::Response => "response",
    };
    check("qr", qr.into(), row["qr"].as_str().unwrap().into());
    check("qname", dns.qname.clone(), row["qname"].as_str().unwrap_or("<none>").into());
    check("qtype", dns.qtype.0.to_string(), row["qtype"].to_string());
    check("rcode", dns.rcode.0.to_string(), row["rcode"].to_string());
    let theirs = row["answers"].as_array().unwrap();
    check("answer count", dns.answers.len().to_string(), theirs.len().to_string());
    for (index, (ours, theirs)) in dns.answers.iter().zip(theirs).enumerate() {
        check(&format!("answer {index} name"), ours.name.clone(), theirs[0].as_str().unwrap().into());
        check(&format!("answer {index} type"), ours.rtype.0.to_string(), theirs[1].to_string());
        check(&format!("answer {index} ttl"), ours.ttl.to_string(), theirs[2].to_string());
        if let Some(data) = theirs[3].as_str() {
            check(&format!("answer {index} data"), ours.data.to_string(), data.into());
        }
    }
    problems
}

#[test]
fn every_message_agrees_with_tshark() {
    let rows: Vec<Value> = TABLE.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert!(rows.len() > 200, "the table has {} messages", rows.len());
    let files: std::collections::BTreeSet<&str> = rows.iter().map(|r| r["file"].as_str().unwrap()).collect();
    assert!(files.len() >= 15, "{files:?}");

    let mut unexpected = Vec::new();
    let mut seen_differences = vec![false; DIFFERENCES.len()];
    for row in &rows {
        for problem in describe(row) {
            let known = DIFFERENCES
                .iter()
                .position(|(file, frame, what, _)| problem.starts_with(&format!("{file} {frame}: {what}")));
            match known {
                Some(index) => seen_differences[index] = true,
                None => unexpected.push(problem),
            }
        }
    }
    assert!(unexpected.is_empty(), "{} disagreements with tshark:\n{}", unexpected.len(), unexpected.join("\n"));
    for (seen, difference) in seen_differences.iter().zip(DIFFERENCES) {
        assert!(seen, "documented difference no longer occurs: {difference:?}");
    }
}

fn hex(text: &str) -> Vec<u8> {
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap()).collect()
}

/// A message builder for the hand-made cases below.
struct Message(Vec<u8>);

impl Message {
    fn new(flags: u16, counts: [u16; 4]) -> Self {
        let mut bytes = vec![0xbe, 0xef];
        bytes.extend_from_slice(&flags.to_be_bytes());
        for count in counts {
            bytes.extend_from_slice(&count.to_be_bytes());
        }
        Message(bytes)
    }

    fn raw(mut self, bytes: &[u8]) -> Self {
        self.0.extend_from_slice(bytes);
        self
    }

    fn name(self, labels: &[&[u8]]) -> Self {
        let mut bytes = Vec::new();
        for label in labels {
            bytes.push(u8::try_from(label.len()).unwrap());
            bytes.extend_from_slice(label);
        }
        bytes.push(0);
        self.raw(&bytes)
    }

    fn question(self, labels: &[&[u8]], qtype: u16) -> Self {
        self.name(labels).raw(&qtype.to_be_bytes()).raw(&[0, 1])
    }

    /// A record whose owner is a pointer to the question name (offset 12).
    fn record(self, rtype: u16, ttl: u32, rdata: &[u8]) -> Self {
        let len = u16::try_from(rdata.len()).unwrap();
        self.raw(&[0xc0, 12])
            .raw(&rtype.to_be_bytes())
            .raw(&[0, 1])
            .raw(&ttl.to_be_bytes())
            .raw(&len.to_be_bytes())
            .raw(rdata)
    }

    /// An OPT record (root owner) with this TTL (extended rcode, version, flags) and options.
    fn opt(self, ttl: u32, options: &[u8]) -> Self {
        let len = u16::try_from(options.len()).unwrap();
        self.raw(&[0, 0, 41, 0x10, 0]).raw(&ttl.to_be_bytes()).raw(&len.to_be_bytes()).raw(options)
    }
}

const RESPONSE: u16 = 0x8180;

#[test]
fn header_and_question_problems_are_errors_with_offsets() {
    assert_eq!(parse_message(&[0; 11]), Err(DnsError { offset: 11, what: "header truncated" }));
    let no_question = Message::new(RESPONSE, [0, 0, 0, 0]).0;
    assert_eq!(parse_message(&no_question), Err(DnsError { offset: 4, what: "no question" }));
    let cut_name = Message::new(0x0100, [1, 0, 0, 0]).raw(&[7, b'e', b'x']).0;
    assert_eq!(parse_message(&cut_name), Err(DnsError { offset: 12, what: "label runs past the end" }));
    let cut_type = Message::new(0x0100, [1, 0, 0, 0]).name(&[b"a"]).raw(&[0, 1]).0;
    assert_eq!(parse_message(&cut_type), Err(DnsError { offset: 15, what: "question truncated" }));
    let bad_label_type = Message::new(0x0100, [1, 0, 0, 0]).raw(&[0x41, 0, 0, 1, 0, 1]).0;
    assert_eq!(parse_message(&bad_label_type), Err(DnsError { offset: 12, what: "unsupported label type" }));
}

#[test]
fn compression_loops_and_forward_pointers_are_refused() {
    // Question name "a" then a pointer back to offset 12 where the pointer at 14 leads: 12 -> "a", 14 -> ptr 12
    // is fine; but a pointer at 12 to 14 points forward, and two pointers at each other loop.
    let forward = Message::new(0x0100, [1, 0, 0, 0]).raw(&[0xc0, 14, 0xc0, 12, 0, 1, 0, 1]).0;
    assert_eq!(
        parse_message(&forward),
        Err(DnsError { offset: 12, what: "compression pointer does not point backwards" })
    );
    // An answer whose owner points at itself.
    let mut looping = Message::new(RESPONSE, [1, 1, 0, 0]).question(&[b"a"], 1).0;
    let at = u8::try_from(looping.len()).unwrap();
    looping.extend_from_slice(&[0xc0, at, 0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]);
    let parsed = parse_message_detailed(&looping).unwrap();
    assert_eq!(parsed.dns.qname, "a");
    assert!(parsed.dns.answers.is_empty());
    assert_eq!(
        parsed.damage,
        Some(DnsError { offset: usize::from(at), what: "compression pointer does not point backwards" })
    );
}

#[test]
fn pointer_chains_and_long_names_are_bounded() {
    // The first answer's RDATA (an unknown type) holds 200 pointers, each to the one before it and
    // the first to the question; the second answer's owner points at the last, so its name takes
    // 201 hops and the decoder gives up after 128.
    let mut bytes = Message::new(RESPONSE, [1, 2, 0, 0]).question(&[b"a"], 1).0;
    bytes.extend_from_slice(&[0xc0, 12, 0xff, 0, 0, 1, 0, 0, 0, 1, 1, 144]);
    let first = bytes.len();
    bytes.extend_from_slice(&[0xc0, 12]);
    for i in 0..199 {
        let previous = u16::try_from(first + 2 * i).unwrap();
        bytes.extend_from_slice(&(0xc000 | previous).to_be_bytes());
    }
    let last = u16::try_from(bytes.len() - 2).unwrap();
    let owner = bytes.len();
    bytes.extend_from_slice(&(0xc000 | last).to_be_bytes());
    bytes.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0, 1, 0, 4, 1, 2, 3, 4]);
    let parsed = parse_message_detailed(&bytes).unwrap();
    assert_eq!(parsed.dns.answers.len(), 1);
    assert_eq!(parsed.dns.answers[0].data.to_string().len(), "\\# 400 ".len() + 800);
    let damage = parsed.damage.unwrap();
    assert_eq!(damage.what, "too many compression pointers");
    assert!(damage.offset > first && damage.offset < owner, "{damage:?}");

    // 63-byte labels: four make 4 * 64 + 1 = 257 bytes on the wire, over 255.
    let label = [b'x'; 63];
    let long = Message::new(0x0100, [1, 0, 0, 0]).question(&[&label, &label, &label, &label], 1).0;
    assert_eq!(parse_message(&long), Err(DnsError { offset: 12 + 3 * 64, what: "name longer than 255 bytes" }));
    // Three 63-byte labels and one of 61: 3 * 64 + 62 + 1 = 255, the most allowed.
    let longest = Message::new(0x0100, [1, 0, 0, 0]).question(&[&label, &label, &label, &label[..61]], 1).0;
    assert_eq!(parse_message(&longest).unwrap().qname.len(), 63 * 3 + 61 + 3);
}

#[test]
fn names_print_with_master_file_escapes() {
    let query =
        Message::new(0x0100, [1, 0, 0, 0]).question(&[b"a.b", b"c\\d", b"sp ace", b"\x00\x7f\xff", b"MiXeD"], 16).0;
    let dns = parse_message(&query).unwrap();
    assert_eq!(dns.qname, "a\\046b.c\\092d.sp\\032ace.\\000\\127\\255.MiXeD");
    assert_eq!(dns.qtype, RrType::TXT);
    assert_eq!(dns.qr, Qr::Query);

    let root = Message::new(0x0100, [1, 0, 0, 0]).question(&[], 2).0;
    assert_eq!(parse_message(&root).unwrap().qname, ".");
}

#[test]
fn answer_data_in_presentation_form() {
    let bytes = Message::new(RESPONSE, [1, 11, 0, 0])
        .question(&[b"example", b"com"], 255)
        .record(1, 60, &[192, 0, 2, 1])
        .record(28, 60, &[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1])
        // CNAME "www" + pointer to "example.com".
        .record(5, 30, &[3, b'w', b'w', b'w', 0xc0, 12])
        // MX 10 mail.example.com
        .record(15, 300, &[0, 10, 4, b'm', b'a', b'i', b'l', 0xc0, 12])
        // SRV 0 5 5060 sip.example.com
        .record(33, 300, &[0, 0, 0, 5, 0x13, 0xc4, 3, b's', b'i', b'p', 0xc0, 12])
        // SOA ns.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300
        .record(6, 3600, &{
            let mut rdata = vec![2, b'n', b's', 0xc0, 12, 10];
            rdata.extend_from_slice(b"hostmaster");
            rdata.extend_from_slice(&[0xc0, 12]);
            for number in [2_024_010_101u32, 7200, 3600, 1_209_600, 300] {
                rdata.extend_from_slice(&number.to_be_bytes());
            }
            rdata
        })
        // TXT with a quote, a backslash and a control byte, then an empty string.
        .record(16, 5, b"\x09a\"b\\c d\x01e\x00")
        // A record of 3 bytes: not an address, shown as RFC 3597.
        .record(1, 5, &[10, 0, 0])
        // Unknown type 65280 with 2 bytes, and an empty NULL.
        .record(65280, 5, &[0xab, 0x01])
        .record(10, 5, &[])
        // CAA 0 issue "ca.example"
        .record(257, 5, b"\x00\x05issueca.example")
        .0;
    let dns = parse_message(&bytes).unwrap();
    let data: Vec<String> = dns.answers.iter().map(|a| a.data.to_string()).collect();
    assert_eq!(
        data,
        [
            "192.0.2.1",
            "2001:db8::1",
            "www.example.com",
            "10 mail.example.com",
            "0 5 5060 sip.example.com",
            "ns.example.com hostmaster.example.com 2024010101 7200 3600 1209600 300",
            "\"a\\\"b\\\\c d\\001e\" \"\"",
            "\\# 3 0A0000",
            "\\# 2 AB01",
            "\\# 0",
            "0 issue \"ca.example\"",
        ]
    );
    assert_eq!(dns.answers[0].data, AnswerData::Address("192.0.2.1".parse().unwrap()));
    assert_eq!(dns.answers[2].data, AnswerData::Name("www.example.com".into()));
    assert!(dns.answers.iter().all(|a| a.name == "example.com"));
    assert_eq!(dns.answers.iter().map(|a| a.ttl).collect::<Vec<_>>(), [60, 60, 30, 300, 300, 3600, 5, 5, 5, 5, 5]);
    assert_eq!(dns.answers[8].rtype.to_string(), "TYPE65280");
}

#[test]
fn truncated_answer_section_keeps_what_parsed() {
    let whole = Message::new(RESPONSE, [1, 2, 0, 0])
        .question(&[b"a"], 1)
        .record(1, 1, &[1, 2, 3, 4])
        .record(1, 1, &[5, 6, 7, 8])
        .0;
    let cut = &whole[..whole.len() - 2];
    let parsed = parse_message_detailed(cut).unwrap();
    assert_eq!(parsed.dns.answers.len(), 1);
    assert_eq!(parsed.dns.answers[0].data.to_string(), "1.2.3.4");
    let second_rdata = whole.len() - 4;
    assert_eq!(parsed.damage, Some(DnsError { offset: second_rdata, what: "record data runs past the end" }));
    // The plain form gives the same message, silently.
    assert_eq!(parse_message(cut).unwrap(), parsed.dns);
}

#[test]
fn answers_over_the_limit_are_dropped_and_reported() {
    let count = u16::try_from(MAX_ANSWERS + 1).unwrap();
    let mut message = Message::new(RESPONSE, [1, count, 0, 0]).question(&[b"a"], 1);
    for i in 0..=MAX_ANSWERS {
        message = message.record(1, 1, &[10, 0, 0, u8::try_from(i % 256).unwrap()]);
    }
    let parsed = parse_message_detailed(&message.0).unwrap();
    assert_eq!(parsed.dns.answers.len(), MAX_ANSWERS);
    assert_eq!(parsed.damage.unwrap().what, "more answers than the limit");
}

#[test]
fn edns_extends_the_rcode_and_carries_the_client_subnet() {
    // Header rcode 0 with OPT's higher bits 1: rcode 16, BADVERS (RFC 6891 §9).
    let badvers = Message::new(RESPONSE, [1, 0, 0, 1]).question(&[b"a"], 1).opt(0x0100_0000, &[]).0;
    assert_eq!(parse_message(&badvers).unwrap().rcode, Rcode(16));
    assert_eq!(parse_message(&badvers).unwrap().rcode.to_string(), "BADVERS");
    // Header rcode 3 (NXDOMAIN) with higher bits 0 stays 3; with higher bits 2, 3 | 32 = 35.
    let nx = Message::new(RESPONSE | 3, [1, 0, 0, 1]).question(&[b"a"], 1).opt(0, &[]).0;
    assert_eq!(parse_message(&nx).unwrap().rcode, Rcode::NXDOMAIN);
    let high = Message::new(RESPONSE | 3, [1, 0, 0, 1]).question(&[b"a"], 1).opt(0x0200_0000, &[]).0;
    assert_eq!(parse_message(&high).unwrap().rcode, Rcode(35));

    // ECS (RFC 7871 §6): family 1, source /24, scope /0, three address bytes; after a cookie option.
    let cookie = [0, 10, 0, 8, 1, 2, 3, 4, 5, 6, 7, 8];
    let ecs_v4 = [0, 8, 0, 7, 0, 1, 24, 0, 192, 0, 2];
    let options: Vec<u8> = cookie.iter().chain(&ecs_v4).copied().collect();
    let query = Message::new(0x0100, [1, 0, 0, 1]).question(&[b"example", b"com"], 1).opt(0, &options).0;
    let dns = parse_message(&query).unwrap();
    assert_eq!(
        dns.client_subnet,
        Some(ClientSubnet { address: "192.0.2.0".parse::<IpAddr>().unwrap(), source_prefix: 24, scope_prefix: 0 })
    );
    let json = serde_json::to_value(&dns).unwrap();
    assert_eq!(
        json["client_subnet"],
        serde_json::json!({"address": "192.0.2.0", "source_prefix": 24, "scope_prefix": 0})
    );

    // Family 2, source /56, scope /48: seven bytes of 2001:db8:1234:5600::.
    let ecs_v6 = [0, 8, 0, 11, 0, 2, 56, 48, 0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56];
    let response = Message::new(RESPONSE, [1, 0, 0, 1]).question(&[b"a"], 28).opt(0, &ecs_v6).0;
    assert_eq!(
        parse_message(&response).unwrap().client_subnet,
        Some(ClientSubnet { address: "2001:db8:1234:5600::".parse().unwrap(), source_prefix: 56, scope_prefix: 48 })
    );

    // Family 3 is unknown; five address bytes do not fit IPv4: damage, no subnet, the rest kept.
    for bad in [&[0u8, 8, 0, 5, 0, 3, 8, 0, 10][..], &[0, 8, 0, 9, 0, 1, 32, 0, 1, 2, 3, 4, 5]] {
        let message = Message::new(RESPONSE, [1, 0, 0, 1]).question(&[b"a"], 1).opt(0x0100_0000, bad).0;
        let parsed = parse_message_detailed(&message).unwrap();
        assert_eq!(parsed.dns.client_subnet, None);
        assert_eq!(parsed.dns.rcode, Rcode(16));
        assert_eq!(parsed.damage.unwrap().what, "malformed client subnet option");
    }
    // No OPT record: no subnet and the header rcode.
    assert_eq!(
        parse_message(&Message::new(RESPONSE, [1, 0, 0, 0]).question(&[b"a"], 1).0).unwrap().client_subnet,
        None
    );
}

#[test]
fn authority_records_are_skipped_to_reach_the_opt_record() {
    let bytes = Message::new(RESPONSE | 3, [1, 0, 1, 1])
        .question(&[b"nx", b"example"], 1)
        .record(6, 60, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])
        .opt(0x0100_0000, &[])
        .0;
    let parsed = parse_message_detailed(&bytes).unwrap();
    assert_eq!(parsed.damage, None);
    assert!(parsed.dns.answers.is_empty());
    assert_eq!(parsed.dns.rcode, Rcode(16 | 3));
}
