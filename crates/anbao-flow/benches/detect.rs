//! Detector micro-benchmarks (`cargo bench -p anbao-flow --bench detect`):
//! flow records per second through [`Detector::record`] for a /16 of
//! protected hosts: ordinary traffic (a few thousand hosts, repeat
//! sources), a spoofed-source flood (every record a new source, many
//! destinations, the host table at its bound) and many hosts (65,536
//! active destinations in random order, the table at its default bound:
//! what bench/flow replays, where the table no longer fits in the cache),
//! one by one and in datagrams of 30 (`record_batch`). And the scale-out bus form:
//! records per second through `wire::BatchWriter` (collector side) and
//! `wire::Batch` (worker side), in batches of 2000.

use std::hint::black_box;
use std::net::IpAddr;

use anbao_flow::{Detector, FlowRecord, ModelConfig, Timestamp, Version};
use divan::Bencher;
use divan::counter::ItemsCount;

fn main() {
    divan::main();
}

const N: u32 = 100_000;

fn config() -> ModelConfig {
    let mut c: ModelConfig = toml::from_str(
        "[[group]]\nname = \"dc\"\nprefixes = [\"10.1.0.0/16\", \"192.0.2.0/24\", \"2001:db8::/32\"]\nhost = { pps = 1000000 }\ngroup = { pps = 100000000 }\n",
    )
    .unwrap_or_default();
    c.max_hosts = 16_384;
    c
}

#[derive(Clone, Copy, PartialEq)]
enum Traffic {
    Ordinary,
    Spoofed,
    ManyHosts,
}

fn records(traffic: Traffic) -> Vec<FlowRecord> {
    let mut state = 0x9e37_79b9u32;
    (0..N)
        .map(|i| {
            let mut r = FlowRecord::empty(IpAddr::from([192, 0, 2, 1]), Version::NetflowV9, 0, Timestamp(0));
            r.src = if traffic == Traffic::Spoofed {
                IpAddr::from((0x6400_0000 + i).to_be_bytes())
            } else {
                IpAddr::from([198, 51, 100, (i % 200) as u8])
            };
            let host = match traffic {
                Traffic::Ordinary => i % 3000,
                Traffic::Spoofed => i % 60_000,
                Traffic::ManyHosts => {
                    // xorshift: a destination order no prefetcher guesses.
                    state ^= state << 13;
                    state ^= state >> 17;
                    state ^= state << 5;
                    state % 65_536
                }
            };
            r.dst = IpAddr::from([10, 1, (host >> 8) as u8, host as u8]);
            r.proto = if i % 3 == 0 { 17 } else { 6 };
            r.sport = if i % 7 == 0 { 53 } else { 40000 };
            r.dport = 443;
            r.tcp_flags = 0x1b;
            r.set_counts(10, 6000, 1);
            r
        })
        .collect()
}

fn run(bencher: Bencher, traffic: Traffic) {
    run_as(bencher, traffic, false);
}

fn run_as(bencher: Bencher, traffic: Traffic, batched: bool) {
    let input = records(traffic);
    let mut config = config();
    if traffic == Traffic::ManyHosts {
        config.max_hosts = 65_536;
    }
    let mut d = Detector::new(config);
    let mut sec = 1_700_000_000i64;
    let mut datagram = Vec::with_capacity(30);
    bencher.counter(ItemsCount::new(input.len())).bench_local(|| {
        sec += 1;
        if batched {
            // As the collector hands them over: a datagram's 30 records.
            for (i, records) in input.chunks(30).enumerate() {
                let at = Timestamp(sec * 1_000_000_000 + i as i64);
                datagram.clear();
                datagram.extend(records.iter().map(|r| (*black_box(r), at)));
                d.record_batch(&datagram);
            }
        } else {
            for (i, r) in input.iter().enumerate() {
                d.record(black_box(r), Timestamp(sec * 1_000_000_000 + i as i64));
            }
        }
        d.tick(Timestamp(sec * 1_000_000_000 + 999_999_999));
        black_box(d.take_events());
    });
}

#[divan::bench]
fn ordinary_traffic(bencher: Bencher) {
    run(bencher, Traffic::Ordinary);
}

#[divan::bench]
fn spoofed_flood(bencher: Bencher) {
    run(bencher, Traffic::Spoofed);
}

#[divan::bench]
fn many_hosts(bencher: Bencher) {
    run(bencher, Traffic::ManyHosts);
}

/// The same in datagrams of 30 through `Detector::record_batch`.
#[divan::bench]
fn many_hosts_batched(bencher: Bencher) {
    run_as(bencher, Traffic::ManyHosts, true);
}

#[divan::bench]
fn wire_encode(bencher: Bencher) {
    let input = records(Traffic::Ordinary);
    let mut w = anbao_flow::wire::BatchWriter::default();
    bencher.counter(ItemsCount::new(input.len())).bench_local(|| {
        for chunk in input.chunks(2000) {
            for r in chunk {
                w.push(black_box(r), r.start);
            }
            black_box(w.finish(Timestamp(1)));
        }
    });
}

#[divan::bench]
fn wire_decode(bencher: Bencher) {
    let input = records(Traffic::Ordinary);
    let mut w = anbao_flow::wire::BatchWriter::default();
    let batches: Vec<Vec<u8>> = input
        .chunks(2000)
        .map(|chunk| {
            for r in chunk {
                w.push(r, r.start);
            }
            w.finish(Timestamp(1))
        })
        .collect();
    bencher.counter(ItemsCount::new(input.len())).bench_local(|| {
        for b in &batches {
            let batch = anbao_flow::wire::Batch::parse(black_box(b)).unwrap_or_else(|e| panic!("{e}"));
            for r in batch.records() {
                black_box(r.ok());
            }
        }
    });
}
