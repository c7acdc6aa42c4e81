//! Tests of `http`: every HTTP/1.x request Wireshark finds in the
//! Suricata-Verify captures, read by us and compared with tshark
//! (test_data/http/tshark_http.jsonl, made by make_table.py there); then
//! heads built by hand.

use anbao_net::event::Http;
use anbao_net::http::{HeadStatus, MAX_HEAD, parse_request_head};
use serde_json::Value;

const TABLE: &str = include_str!("../../test_data/http/tshark_http.jsonl");

/// Where we deliberately differ from tshark: (first `where` of the row, what differs, why).
const DIFFERENCES: &[(&str, &str, &str)] = &[(
    "http-connect__http-connect-fragmented__input.pcap:5",
    "host",
    "CONNECT without a Host header: we take the authority-form target as the host, tshark leaves it empty",
)];

fn describe(row: &Value) -> Vec<String> {
    let at = row["where"][0].as_str().unwrap();
    let bytes = hex(row["hex"].as_str().unwrap());
    let mut problems = Vec::new();
    let (request, consumed) = match parse_request_head(&bytes) {
        HeadStatus::Complete { request, consumed } => (request, consumed),
        other => {
            problems.push(format!("{at}: status {other:?}"));
            return problems;
        }
    };
    let mut check = |what: &str, ours: Option<&str>, theirs: &Value| {
        if ours != theirs.as_str() {
            problems.push(format!("{at}: {what}: ours {ours:?}, tshark {theirs}"));
        }
    };
    check("method", Some(&request.method), &row["method"]);
    check("uri", Some(&request.uri), &row["uri"]);
    check("host", request.host.as_deref(), &row["host"]);
    check("user_agent", request.user_agent.as_deref(), &row["user_agent"]);
    // The head ends with an empty line, and nothing of the body is in it.
    let head = &bytes[..consumed];
    if !(head.ends_with(b"\n\n") || head.ends_with(b"\n\r\n")) {
        problems.push(format!("{at}: consumed {consumed} does not end at an empty line"));
    }
    problems
}

#[test]
fn every_request_agrees_with_tshark() {
    let rows: Vec<Value> = TABLE.lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    let requests: usize = rows.iter().map(|r| r["where"].as_array().unwrap().len()).sum();
    assert!(rows.len() > 300 && requests > 350, "{} rows, {requests} requests", rows.len());

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

fn complete(bytes: &[u8]) -> (Http, usize) {
    match parse_request_head(bytes) {
        HeadStatus::Complete { request, consumed } => (request, consumed),
        other => panic!("{:?}: {other:?}", String::from_utf8_lossy(bytes)),
    }
}

#[test]
fn head_fields_and_consumed() {
    let head = b"POST /upload?id=1 HTTP/1.1\r\nhOsT:  example.com:8080 \r\nUSER-AGENT:\tcurl/8.5.0\r\nHost: second.example\r\nContent-Length: 4\r\n\r\nbody";
    let (request, consumed) = complete(head);
    assert_eq!(
        request,
        Http {
            method: "POST".into(),
            host: Some("example.com:8080".into()),
            uri: "/upload?id=1".into(),
            user_agent: Some("curl/8.5.0".into()),
        }
    );
    assert_eq!(consumed, head.len() - 4);
    assert_eq!(request.url().as_deref(), Some("http://example.com:8080/upload?id=1"));
}

#[test]
fn bare_line_feeds_and_leading_empty_lines_are_tolerated() {
    let head = b"\r\n\nGET / HTTP/1.0\nHost: a\r\nUser-Agent: b\n\nrest";
    let (request, consumed) = complete(head);
    assert_eq!(
        (request.method.as_str(), request.host.as_deref(), request.user_agent.as_deref()),
        ("GET", Some("a"), Some("b"))
    );
    assert_eq!(consumed, head.len() - 4);
    // Five empty lines first is more than we skip.
    assert_eq!(parse_request_head(b"\r\n\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\n\r\n"), HeadStatus::NotHttp);
}

#[test]
fn absolute_form_targets_give_the_host_when_the_header_is_missing() {
    let (request, _) = complete(b"GET http://user:pw@proxy.example:3128/a?b HTTP/1.1\r\nUser-Agent: x\r\n\r\n");
    assert_eq!(request.host.as_deref(), Some("proxy.example:3128"));
    assert_eq!(request.uri, "http://user:pw@proxy.example:3128/a?b");
    assert_eq!(request.url().as_deref(), Some("http://user:pw@proxy.example:3128/a?b"));
    let (request, _) = complete(b"GET http://target.example/ HTTP/1.1\r\nHost: header.example\r\n\r\n");
    assert_eq!(request.host.as_deref(), Some("header.example"));
    let (request, _) = complete(b"CONNECT tunnel.example:443 HTTP/1.1\r\n\r\n");
    assert_eq!(request.host.as_deref(), Some("tunnel.example:443"));
    let (request, _) = complete(b"GET /only-a-path HTTP/1.1\r\n\r\n");
    assert_eq!((request.host, request.user_agent), (None, None));
}

#[test]
fn every_prefix_of_a_head_is_partial() {
    let head = b"GET /index.html HTTP/1.1\r\nHost: example.com\r\nUser-Agent: t\r\n\r\n";
    for len in 0..head.len() {
        assert_eq!(
            parse_request_head(&head[..len]),
            HeadStatus::Partial,
            "{:?}",
            String::from_utf8_lossy(&head[..len])
        );
    }
    assert!(matches!(parse_request_head(head), HeadStatus::Complete { consumed, .. } if consumed == head.len()));
}

#[test]
fn other_protocols_are_not_http() {
    for bytes in [
        &b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03"[..],
        b"SSH-2.0-OpenSSH_9.6\r\n",
        b"EHLO mail.example.com\r\n",
        b"get / HTTP/1.1\r\n\r\n",
        b"GET / FTP/1.0\r\n\r\n",
        b"GET / HTTP/2.0\r\n\r\n",
        b"GET  HTTP/1.1\r\n\r\n",
        b"GET /\x01 HTTP/1.1\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"VERYLONGMETHODNAMETHATISNOTREAL / HTTP/1.1\r\n\r\n",
    ] {
        assert_eq!(parse_request_head(bytes), HeadStatus::NotHttp, "{:?}", String::from_utf8_lossy(bytes));
    }
}

#[test]
fn requests_without_a_version_need_a_path_and_headers() {
    // As the malware in http-missing-protocol sends it.
    let (request, _) = complete(b"GET /gen.php?x=1\r\nHost: 5.8.88.25\r\n\r\n");
    assert_eq!((request.uri.as_str(), request.host.as_deref()), ("/gen.php?x=1", Some("5.8.88.25")));
    assert_eq!(parse_request_head(b"GET /\r\n"), HeadStatus::Partial);
    assert_eq!(parse_request_head(b"QUIT now\r\n\r\n"), HeadStatus::NotHttp);
}

#[test]
fn heads_are_bounded_by_max_head() {
    let mut head = b"GET / HTTP/1.1\r\nX-Pad: ".to_vec();
    head.resize(MAX_HEAD - 4, b'a');
    head.extend_from_slice(b"\r\n\r\n");
    assert_eq!(head.len(), MAX_HEAD);
    assert!(matches!(parse_request_head(&head), HeadStatus::Complete { consumed: MAX_HEAD, .. }));
    // One byte more of padding and the blank line ends past the limit.
    head.insert(30, b'a');
    assert_eq!(parse_request_head(&head), HeadStatus::NotHttp);
    assert_eq!(parse_request_head(&head[..MAX_HEAD - 1]), HeadStatus::Partial);
    assert_eq!(parse_request_head(&head[..MAX_HEAD]), HeadStatus::NotHttp);
}

#[test]
fn odd_header_lines_are_skipped_and_bytes_converted_lossily() {
    let (request, _) = complete(
        b"GET /\xff HTTP/1.1\r\nno colon here\r\n Host: folded.example\r\nHost: h\xe9.example\r\nUser-Agent:\r\n\r\n",
    );
    assert_eq!(request.uri, "/\u{fffd}");
    assert_eq!(request.host.as_deref(), Some("h\u{fffd}.example"));
    assert_eq!(request.user_agent.as_deref(), Some(""));
}
