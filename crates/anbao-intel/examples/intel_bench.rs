//! The anbao side of `bench/intel`: loads `DIR/indicators.tsv` into an
//! [`IndicatorIndex`] and times lookups, single-threaded.
//!
//! ```text
//! cargo run --release -p anbao-intel --example intel_bench -- DIR [--seconds S]
//! ```
//!
//! Prints `key value` lines (see `bench/intel/run`): load time (reading the
//! file, then normalising and adding each value and building: the index
//! time, with its `build()` part), resident memory over the indexing
//! (VmRSS after minus before: the index plus whatever the allocator kept),
//! `heap_bytes()`, and lookups per
//! second for each query file present, with the allocation-free
//! `visit_*` API (and `lookup_domain`, which returns a `Vec<Hit>`, for the
//! domain hits). Addresses are parsed from text inside the timed loop, as
//! the Python baseline must.

use std::hint::black_box;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anbao_intel::{IndicatorIndex, IndicatorKind};

fn status_kib(field: &str) -> u64 {
    let s = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Nanoseconds this thread has run on a CPU (`/proc/thread-self/schedstat`),
/// so that other load on the machine does not count.
fn cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat").ok()?.split_whitespace().next()?.parse().ok()
}

fn read_lines(path: &std::path::Path) -> Option<Vec<String>> {
    let text = std::fs::read_to_string(path).ok()?;
    Some(text.lines().map(str::to_owned).collect())
}

/// Runs `f` over all of `qs` until `min` has passed; lookups per second of
/// wall time and of CPU time, and the share of queries with at least one
/// hit (`f` returns the number of queries that matched).
fn rate(qs: &[String], min: Duration, mut f: impl FnMut(&[String]) -> usize) -> (f64, f64, f64) {
    let matched = f(qs);
    let cpu0 = cpu_ns();
    let start = Instant::now();
    let mut done = 0usize;
    let mut sink = 0usize;
    loop {
        sink += f(black_box(qs));
        done += qs.len();
        if start.elapsed() >= min {
            break;
        }
    }
    black_box(sink);
    let wall = start.elapsed().as_secs_f64();
    let cpu = match (cpu0, cpu_ns()) {
        (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
        _ => wall,
    };
    (done as f64 / wall, done as f64 / cpu, matched as f64 / qs.len().max(1) as f64)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(dir) = args.first().map(std::path::PathBuf::from) else {
        eprintln!("usage: intel_bench DIR [--seconds S]");
        return ExitCode::from(2);
    };
    let seconds: f64 = args
        .iter()
        .position(|a| a == "--seconds")
        .and_then(|i| args.get(i + 1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let min = Duration::from_secs_f64(seconds);

    // Read the file first, so that the resident memory measured over the
    // indexing is the index's (the text stays allocated meanwhile).
    let cpu_start = cpu_ns();
    let t0 = Instant::now();
    let text = match std::fs::read_to_string(dir.join("indicators.tsv")) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{}: {e}", dir.join("indicators.tsv").display());
            return ExitCode::from(2);
        }
    };
    let read_s = t0.elapsed().as_secs_f64();
    let rss0 = status_kib("VmRSS");
    let cpu0 = cpu_ns();
    let t1 = Instant::now();
    let mut b = IndicatorIndex::builder();
    let (mut lines, mut invalid) = (0u64, 0u64);
    for line in text.lines() {
        lines += 1;
        let (kind, value) = line.split_once('\t').unwrap_or(("", ""));
        let ok = kind.parse::<IndicatorKind>().ok().is_some_and(|k| b.add(k, value, lines).is_ok());
        invalid += u64::from(!ok);
    }
    let t_build = Instant::now();
    let idx = b.build();
    let build_s = t_build.elapsed().as_secs_f64();
    let index_s = t1.elapsed().as_secs_f64();
    let index_cpu_s = match (cpu0, cpu_ns()) {
        (Some(a), Some(b)) => (b.saturating_sub(a)) as f64 / 1e9,
        _ => index_s,
    };
    let rss1 = status_kib("VmRSS");
    drop(text);
    println!("lines {lines}");
    println!("invalid {invalid}");
    println!("entries {}", idx.len());
    println!("load_s {:.3}", read_s + index_s);
    println!("index_s {index_s:.3}");
    println!("index_cpu_s {index_cpu_s:.3}");
    if let (Some(a), Some(b)) = (cpu_start, cpu_ns()) {
        println!("load_cpu_s {:.3}", b.saturating_sub(a) as f64 / 1e9);
    }
    println!("build_s {build_s:.3}");
    println!("rss_kib {}", rss1.saturating_sub(rss0));
    println!("hwm_kib {}", status_kib("VmHWM"));
    println!("heap_bytes {}", idx.heap_bytes());

    let each = |f: &dyn Fn(&str) -> usize, qs: &[String]| qs.iter().filter(|q| f(q) > 0).count();
    let domain = |qs: &[String]| each(&|q| idx.visit_domain(q, None, |_| {}), qs);
    let domain_vec = |qs: &[String]| each(&|q| usize::from(!idx.lookup_domain(q).is_empty()), qs);
    let ip = |qs: &[String]| each(&|q| q.parse::<IpAddr>().map_or(0, |a| idx.visit_ip(a, None, |_| {})), qs);
    let batch = |qs: &[String]| {
        // Matched names: count each name once (its hits come together).
        let mut last = usize::MAX;
        let mut matched = 0;
        idx.visit_domains(qs, None, |i, _| {
            matched += usize::from(i != last);
            last = i;
        });
        matched
    };
    for (name, file, f) in [
        ("domain_hits", "domain-hits.txt", &domain as &dyn Fn(&[String]) -> usize),
        ("domain_misses", "domain-misses.txt", &domain),
        ("domain_hits_batch", "domain-hits.txt", &batch),
        ("domain_misses_batch", "domain-misses.txt", &batch),
        ("domain_hits_vec", "domain-hits.txt", &domain_vec),
        ("ip_hits", "ip-hits.txt", &ip),
        ("ip_misses", "ip-misses.txt", &ip),
    ] {
        let Some(qs) = read_lines(&dir.join(file)) else { continue };
        let (per_s, per_cpu_s, matched) = rate(&qs, min, f);
        println!("{name}_per_s {per_s:.0}");
        println!("{name}_per_cpu_s {per_cpu_s:.0}");
        println!("{name}_matched {matched:.4}");
    }
    ExitCode::SUCCESS
}
