//! `anbao serve` runs the notification worker: an incident opened through
//! the API reaches a signed webhook on loopback, and the record says sent.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::mpsc;
use std::time::Duration;

use serde_json::json;

use crate::harness::{Auth, create_token, init_sqlite, serve};

/// Accepts one HTTP request, answers 200 and hands over its headers and body.
pub(crate) fn webhook_receiver() -> (String, mpsc::Receiver<(Vec<String>, String)>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind a loopback port");
    let url = format!("http://{}/hook", listener.local_addr().expect("local address"));
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().expect("clone the stream"));
            let mut headers = Vec::new();
            let mut length = 0;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
                headers.push(line.trim_end().to_owned());
            }
            let mut body = vec![0; length];
            reader.read_exact(&mut body).expect("read the body");
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
            let _ = tx.send((headers, String::from_utf8(body).expect("UTF-8 body")));
        }
    });
    (url, rx)
}

#[test]
fn serve_delivers_an_incident_notification_to_a_signed_webhook() {
    let (dir, _) = init_sqlite();
    let token = create_token(dir.path(), None, "admin", "notify-test");
    let server = serve().data_dir(dir.path()).env("ANBAO_NOTIFY_INTERVAL_SECONDS", "1").start();
    let client = server.client();
    let (url, received) = webhook_receiver();
    let secret = "the-webhook-signing-secret";
    let channel = client
        .post_json(
            "/api/v1/notifications/channels",
            Auth::Bearer(&token),
            &json!({ "name": "soc", "settings": { "kind": "webhook", "url": url, "secret": secret } }),
        )
        .expect(201)
        .json();
    client
        .post_json(
            "/api/v1/notifications/rules",
            Auth::Bearer(&token),
            &json!({ "channel_id": channel["id"], "event": "incident_opened" }),
        )
        .expect(201);
    let incident = client
        .post_json(
            "/api/v1/incidents",
            Auth::Bearer(&token),
            &json!({ "incident_type": "data_leak", "title": "会员库泄露", "facts": { "records_leaked": 10000000 },
                     "operator_category": "central", "discovered_at": "2026-01-01T08:00:00Z" }),
        )
        .expect(201)
        .json();

    let (headers, body) = received
        .recv_timeout(Duration::from_secs(30))
        .unwrap_or_else(|_| panic!("no webhook within 30 s\n{}", server.report()));
    let header = |name: &str| {
        headers
            .iter()
            .find_map(|h| h.split_once(':').filter(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.trim()))
            .unwrap_or_else(|| panic!("no {name} in {headers:?}"))
            .to_owned()
    };
    let timestamp = header("x-anbao-timestamp");
    // The signature, recomputed here over the body as received.
    let want = format!("sha256={}", hmac_sha256_hex(secret.as_bytes(), format!("{timestamp}.{body}").as_bytes()));
    assert_eq!(header("x-anbao-signature"), want);
    let v: serde_json::Value = serde_json::from_str(&body).expect("JSON body");
    assert_eq!(v["event"], "incident_opened");
    assert_eq!(v["data"]["id"], incident["incident"]["id"]);

    // The record says sent (the worker records after the receiver answered).
    let mut status = String::new();
    for _ in 0..50 {
        let records = client.get("/api/v1/notifications", Auth::Bearer(&token)).expect(200).json();
        status = records[0]["status"].as_str().unwrap_or_default().to_owned();
        if status == "sent" {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert_eq!(status, "sent");
    server.stop();
}

pub(crate) fn hmac_sha256_hex(key: &[u8], message: &[u8]) -> String {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("any key length");
    mac.update(message);
    hex::encode(mac.finalize().into_bytes())
}
