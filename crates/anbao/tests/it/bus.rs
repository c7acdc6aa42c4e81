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

pub(crate) fn nats_url() -> String {
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

/// A JetStream stream name of its own for one test, deleted when dropped.
pub(crate) struct StreamGuard(pub(crate) String);

impl StreamGuard {
    /// `PREFIX_<pid>_<nanos>`: no two tests (or runs) share a stream.
    pub(crate) fn unique(prefix: &str) -> StreamGuard {
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
        StreamGuard(format!("{prefix}_{}_{nanos}", std::process::id()))
    }
}

impl Drop for StreamGuard {
    fn drop(&mut self) {
        delete_stream(&self.0);
    }
}

#[test]
fn two_workers_one_killed_mid_stream_process_every_event_exactly_once() {
    let dir = TempDir::new().unwrap();
    let db = PgDb::create();
    let guard = StreamGuard::unique("ANBAO_TEST");
    let stream = guard.0.clone();

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

/// With `--partitions 2` each worker owns the clients of one partition, so
/// the per-client heuristics see all of a client's traffic: 40 tunnelling
/// queries (the DNS-tunnel heuristic needs 30 in its window before it
/// judges) spread over many messages become one alert, although with a
/// shared consumer each worker would see only its share of them.
#[test]
fn partitioned_workers_each_own_their_clients_and_judge_all_of_their_traffic() {
    let dir = TempDir::new().unwrap();
    let db = PgDb::create();
    let guard = StreamGuard::unique("ANBAO_TEST_P");
    let stream = guard.0.clone();
    let list = dir.path().join("none.txt");
    std::fs::write(&list, "nothing-listed.example\n").unwrap();
    anbao(["intel", "import", "--quiet"]).arg(&list).database(Some(&db.url)).data_dir(dir.path()).run().ok();

    let mut log = String::new();
    for i in 0..400u32 {
        let secs = i / 4;
        let ts = format!("2026-11-25T10:{:02}:{:02}Z", secs / 60, secs % 60);
        if i % 10 == 3 {
            // 32 hex characters, different for every query.
            let label: String = (0..4u32)
                .map(|k| format!("{:08x}", (i + 1).wrapping_mul(2_654_435_761) ^ k.wrapping_mul(0x9e37_79b9)))
                .collect();
            log.push_str(&format!("{ts} 10.9.0.7 {label}.t.tunnel-test.example TXT\n"));
        } else {
            log.push_str(&format!("{ts} 10.9.{}.{} www{}.site{}.example A\n", i % 5, 20 + i % 17, i % 30, i % 11));
        }
    }
    let log_path = dir.path().join("queries.log");
    std::fs::write(&log_path, &log).unwrap();
    let sensor = anbao(["sensor", "--bus", &nats_url(), "--stream", &stream, "--batch", "5", "--partitions", "2"])
        .arg(&log_path)
        .run()
        .ok();
    let per_partition: Vec<i64> = sensor
        .stderr
        .split('(')
        .nth(1)
        .map(|rest| rest.trim_end().trim_end_matches(')').split(' ').map(|p| p[3..].parse().unwrap()).collect())
        .unwrap_or_else(|| panic!("sensor summary names the messages per partition: {sensor}"));
    assert_eq!(per_partition.len(), 2, "{sensor}");
    assert!(per_partition.iter().all(|&n| n > 0), "both partitions get clients: {sensor}");

    let worker = |partition: &str| {
        anbao(["worker", "--bus", &nats_url(), "--stream", &stream, "--partition", partition])
            .database(Some(&db.url))
            .data_dir(dir.path())
            .start_until("start consuming", |l| l.starts_with("anbao worker consuming"))
    };
    let applied = || -> i64 {
        db.psql(&format!("SELECT COUNT(*) FROM bus_applied WHERE stream = '{stream}'")).trim().parse().unwrap_or(0)
    };
    let wait_for = |n: i64, what: &str| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while applied() < n {
            assert!(Instant::now() < deadline, "{what}: {} of {n} messages applied", applied());
            std::thread::sleep(Duration::from_millis(50));
        }
    };
    // Partition 0's worker alone takes exactly partition 0's messages.
    let p0 = worker("0");
    wait_for(per_partition[0], "partition 0");
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(applied(), per_partition[0], "partition 1 waits for its own worker: {}", p0.report());

    // A worker without --partition cannot share the stream with partitioned ones.
    let shared =
        anbao(["worker", "--bus", &nats_url(), "--stream", &stream]).database(Some(&db.url)).data_dir(dir.path()).run();
    shared.expect_code(2).expect_mentions(&["--partition"]);

    let p1 = worker("1");
    wait_for(per_partition[0] + per_partition[1], "both partitions");
    let rows = db.psql("SELECT rule, victim, indicator FROM alerts ORDER BY id");
    assert_eq!(rows.trim(), "dns_tunnel|10.9.0.7|tunnel-test.example", "{}\n{}", p0.report(), p1.report());
}
