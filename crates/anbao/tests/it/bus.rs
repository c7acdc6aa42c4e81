//! Scale-out against the real NATS JetStream server (R8.4): a sensor
//! publishes a resolver log's events, two workers share the durable
//! consumer and write alerts to one PostgreSQL database; one worker is
//! killed mid-stream and started again. Every event must be processed: the
//! alert counts equal what the log holds, none lost and none doubled.
//!
//! NATS must run at `ANBAO_TEST_NATS` (default nats://127.0.0.1:4222) with
//! JetStream (`nats-server -js`); the test fails, not skips, without it.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::time::{Duration, Instant};

use crate::harness::{PgDb, TempDir, anbao};

fn nats_url() -> String {
    std::env::var("ANBAO_TEST_NATS").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// Deletes a JetStream stream with one request over the NATS text protocol
/// (the test needs no NATS client library for this).
fn delete_stream(name: &str) {
    let addr = nats_url().trim_start_matches("nats://").to_owned();
    let Ok(mut tcp) = std::net::TcpStream::connect(&addr) else { return };
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!(
        "CONNECT {{\"verbose\":false}}\r\nSUB _INBOX.anbao_test 1\r\nPUB $JS.API.STREAM.DELETE.{name} _INBOX.anbao_test 0\r\n\r\nPING\r\n"
    );
    let _ = tcp.write_all(request.as_bytes());
    let mut buf = [0u8; 4096];
    let _ = tcp.read(&mut buf);
}

struct StreamGuard(String);

impl Drop for StreamGuard {
    fn drop(&mut self) {
        delete_stream(&self.0);
    }
}

#[test]
fn two_workers_one_killed_mid_stream_process_every_event_exactly_once() {
    let dir = TempDir::new().unwrap();
    let db = PgDb::create();
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    let stream = format!("ANBAO_TEST_{}_{nanos}", std::process::id());
    let _guard = StreamGuard(stream.clone());

    // Indicators: 20 C&C domains.
    let list = dir.path().join("cc.txt");
    let bad: Vec<String> = (0..20).map(|k| format!("cc{k}.bad.example")).collect();
    std::fs::write(&list, bad.join("\n")).unwrap();
    anbao(["intel", "import", "--category", "botnet_cc", "--quiet"])
        .arg(&list)
        .database(Some(&db.url))
        .data_dir(dir.path())
        .run()
        .ok();

    // A resolver log in the plain format: 6,000 queries from 60 clients,
    // every 7th a name under a listed domain.
    let mut expected: BTreeMap<(String, String), i64> = BTreeMap::new();
    let mut log = String::new();
    for i in 0..6_000u32 {
        let client = format!("10.1.{}.{}", i % 6, 10 + i % 10);
        let secs = i / 10;
        let (name, listed) = if i % 7 == 0 {
            let k = (i / 7) as usize % bad.len();
            (format!("h{i}.{}", bad[k]), Some(bad[k].clone()))
        } else {
            (format!("www{}.good{}.example", i % 50, i % 13), None)
        };
        log.push_str(&format!("2026-11-25T10:{:02}:{:02}Z {client} {name} A\n", secs / 60, secs % 60));
        if let Some(listed) = listed {
            *expected.entry((client, listed)).or_default() += 1;
        }
    }
    let log_path = dir.path().join("queries.log");
    std::fs::write(&log_path, &log).unwrap();
    let total: i64 = expected.values().sum();
    assert!(total > 800, "the log must plant hits: {total}");

    // The sensor publishes everything first; the queue holds it until workers take it.
    let sensor = anbao(["sensor", "--bus", &nats_url(), "--stream", &stream, "--batch", "10", "--sensor", "edge-1"])
        .arg(&log_path)
        .run()
        .ok();
    let messages: i64 = sensor
        .stderr
        .split(" in ")
        .nth(1)
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("sensor summary names the message count: {sensor}"));
    assert_eq!(messages, 600, "{sensor}");

    let worker = || {
        anbao(["worker", "--bus", &nats_url(), "--stream", &stream, "--ack-wait", "2", "--fetch", "4"])
            .database(Some(&db.url))
            .data_dir(dir.path())
            .start_until("start consuming", |l| l.starts_with("anbao worker consuming"))
    };
    let applied = || -> i64 {
        db.psql(&format!("SELECT COUNT(*) FROM bus_applied WHERE stream = '{stream}'")).trim().parse().unwrap_or(0)
    };
    let first = worker();
    let second = worker();
    let deadline = Instant::now() + Duration::from_secs(60);
    while applied() < 60 {
        assert!(Instant::now() < deadline, "workers made no progress: {}\n{}", first.report(), second.report());
        std::thread::sleep(Duration::from_millis(20));
    }
    first.kill();
    let before_restart = applied();
    assert!(before_restart < messages, "the kill must land mid-stream ({before_restart} of {messages} done)");
    let restarted = worker();
    while applied() < messages {
        assert!(
            Instant::now() < deadline,
            "{} of {messages} messages applied:\n{}\n{}",
            applied(),
            second.report(),
            restarted.report()
        );
        std::thread::sleep(Duration::from_millis(50));
    }

    let rows = db.psql("SELECT victim, indicator, count, sensor, category FROM alerts ORDER BY victim, indicator");
    let mut got: BTreeMap<(String, String), i64> = BTreeMap::new();
    for row in rows.lines() {
        let cols: Vec<&str> = row.split('|').collect();
        assert_eq!(cols.len(), 5, "{row}");
        assert_eq!((cols[3], cols[4]), ("edge-1", "botnet_cc"), "{row}");
        let previous = got.insert((cols[0].to_owned(), cols[1].to_owned()), cols[2].parse().unwrap());
        assert!(previous.is_none(), "one alert per victim and indicator: {row}");
    }
    assert_eq!(got, expected, "alert counts must equal the planted queries exactly");
}
