//! Lookups in the indicator index, hit and miss, one by one and batched
//! (`cargo bench -p anbao-intel --bench index`). The whole-program
//! comparison with the Python baseline is `bench/intel/run`.

use std::hint::black_box;
use std::net::IpAddr;
use std::sync::OnceLock;

use anbao_intel::{IndicatorIndex, IndicatorIndexBuilder, IndicatorKind};

fn main() {
    divan::main();
}

/// Indicators per index: one that fits the CPU caches, one that does not.
const SIZES: [usize; 2] = [10_000, 1_000_000];

/// SplitMix64.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn word(x: u64) -> String {
    (0..8).map(|i| char::from(b'a' + ((x >> (5 * i)) % 26) as u8)).collect()
}

const TLDS: [&str; 8] = ["com", "net", "org", "info", "xyz", "top", "ru", "cn"];

fn listed(i: usize) -> String {
    let x = mix(i as u64);
    format!("{}.{}", word(x), TLDS[(x >> 60) as usize % TLDS.len()])
}

struct Fixture {
    index: IndicatorIndex,
    hits: Vec<String>,
    misses: Vec<String>,
    ip_hits: Vec<IpAddr>,
    ip_misses: Vec<IpAddr>,
}

fn fixture(size: usize) -> &'static Fixture {
    static SMALL: OnceLock<Fixture> = OnceLock::new();
    static LARGE: OnceLock<Fixture> = OnceLock::new();
    let cell = if size == SIZES[0] { &SMALL } else { &LARGE };
    cell.get_or_init(|| {
        let mut b = IndicatorIndexBuilder::with_seed(1);
        for i in 0..size {
            b.add(IndicatorKind::Domain, &listed(i), i as u64).ok();
            if i % 10 == 0 {
                let ip = format!("10.{}.{}.{}", (i >> 16) & 255, (i >> 8) & 255, i & 255);
                b.add(IndicatorKind::Ipv4, &ip, i as u64).ok();
            }
        }
        b.add(IndicatorKind::Cidr, "172.16.0.0/12", 0).ok();
        let n = 4096;
        let pick = |k: usize| mix(k as u64 ^ 0xABCD) as usize % size;
        Fixture {
            index: b.build(),
            hits: (0..n).map(|k| format!("www.{}", listed(pick(k)))).collect(),
            misses: (0..n).map(|k| format!("www.q{}.com", word(mix(k as u64)))).collect(),
            ip_hits: (0..n)
                .map(|k| format!("172.16.{}.{}", k >> 8 & 15, k & 255).parse().unwrap_or([0; 4].into()))
                .collect(),
            ip_misses: (0..n)
                .map(|k| format!("192.168.{}.{}", k >> 8 & 15, k & 255).parse().unwrap_or([0; 4].into()))
                .collect(),
        }
    })
}

fn one_by_one(bencher: divan::Bencher, names: &[String], index: &IndicatorIndex) {
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % names.len();
        index.visit_domain(black_box(&names[i]), None, |_| {})
    });
}

#[divan::bench(args = SIZES)]
fn domain_hit(bencher: divan::Bencher, size: usize) {
    let f = fixture(size);
    one_by_one(bencher, &f.hits, &f.index);
}

#[divan::bench(args = SIZES)]
fn domain_miss(bencher: divan::Bencher, size: usize) {
    let f = fixture(size);
    one_by_one(bencher, &f.misses, &f.index);
}

#[divan::bench(args = SIZES)]
fn domain_hit_vec(bencher: divan::Bencher, size: usize) {
    let f = fixture(size);
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % f.hits.len();
        f.index.lookup_domain(black_box(&f.hits[i]))
    });
}

/// 256 names per iteration through `visit_domains`.
#[divan::bench(args = SIZES, counter = divan::counter::ItemsCount::new(256usize))]
fn domain_hit_batch(bencher: divan::Bencher, size: usize) {
    let f = fixture(size);
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 256) % (f.hits.len() - 256);
        f.index.visit_domains(black_box(&f.hits[i..i + 256]), None, |_, _| {})
    });
}

#[divan::bench(args = SIZES, counter = divan::counter::ItemsCount::new(256usize))]
fn domain_miss_batch(bencher: divan::Bencher, size: usize) {
    let f = fixture(size);
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 256) % (f.misses.len() - 256);
        f.index.visit_domains(black_box(&f.misses[i..i + 256]), None, |_, _| {})
    });
}

#[divan::bench(args = SIZES)]
fn ip_hit(bencher: divan::Bencher, size: usize) {
    let f = fixture(size);
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % f.ip_hits.len();
        f.index.visit_ip(black_box(f.ip_hits[i]), None, |_| {})
    });
}

#[divan::bench(args = SIZES)]
fn ip_miss(bencher: divan::Bencher, size: usize) {
    let f = fixture(size);
    let mut i = 0;
    bencher.bench_local(|| {
        i = (i + 1) % f.ip_misses.len();
        f.index.visit_ip(black_box(f.ip_misses[i]), None, |_| {})
    });
}

#[divan::bench(args = [100_000usize])]
fn build(bencher: divan::Bencher, size: usize) {
    let names: Vec<String> = (0..size).map(listed).collect();
    bencher.bench_local(|| {
        let mut b = IndicatorIndexBuilder::with_seed(1);
        for (i, n) in names.iter().enumerate() {
            b.add(IndicatorKind::Domain, n, i as u64).ok();
        }
        b.build()
    });
}
