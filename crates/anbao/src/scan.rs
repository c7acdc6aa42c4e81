//! `anbao scan`: match captures and logs offline against indicators, from
//! files (`--indicators`, any format `anbao intel import` reads) or from the
//! platform's store (its allowlists applied), and print the alerts: victim,
//! indicator, category, sources, counts and the first evidence.
//!
//! Exit status (like grep): 0 when nothing matched, 1 when something did,
//! 2 on error (an input or indicator file that could not be read at all),
//! 3 when nothing matched but some records of the input could not be read
//! (so "clean" is never claimed for input that was not all seen).

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::net::IpAddr;
use std::process::ExitCode;

use anbao_detect::heuristics::category_of;
use anbao_detect::{AlertBook, Detection, EndpointPairs, Finding, Heuristics, HeuristicsConfig, Intel, MatchStats};
use anbao_feeds::{Format, ImportOptions, Input};
use anbao_intel::allowlist::Allowlist;
use anbao_intel::{Category, FeedItem, IndicatorIndex, IndicatorKind};
use anbao_net::{Endpoints, Event, Extractor, Limits, Timestamp};
use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Serialize;

use crate::net::{endpoint, input_status, progress_bar};
use crate::traffic::{InputFormat, ReadOptions, TrafficSink, read_input};
use crate::{DataArgs, open_store};

#[derive(Debug, Args)]
pub struct ScanArgs {
    /// Capture or log files; `-` reads stdin; `iface:NAME` captures live from an interface
    /// (alerts then print as they are first seen). gzip is undone transparently.
    #[arg(required = true, value_name = "FILE")]
    inputs: Vec<String>,
    #[command(flatten)]
    live: crate::live::LiveArgs,
    /// Match against these indicator files (STIX, MISP, lists, hosts, CSV …) instead of the store.
    #[arg(long, value_name = "FILE|DIR|URL")]
    indicators: Vec<String>,
    /// Format of the --indicators files.
    #[arg(long, default_value = "auto")]
    indicator_format: Format,
    /// Category for --indicators values whose feed names none.
    #[arg(long, value_name = "C")]
    category: Option<Category>,
    /// Input format (default: recognised by content).
    #[arg(long, value_enum, default_value = "auto")]
    format: InputFormat,
    /// Keep reading log files as they grow; alerts print as they are first seen (stop with Ctrl-C).
    #[arg(long)]
    follow: bool,
    /// Sensor name recorded in the evidence. Default: the host name.
    #[arg(long)]
    sensor: Option<String>,
    /// Heuristics settings (TOML; see docs/heuristics.md). Default: the defaults.
    #[arg(long, value_name = "FILE")]
    heuristics: Option<String>,
    /// A brand domain to protect from lookalikes (repeatable), e.g. --brand icbc.com.cn.
    #[arg(long, value_name = "DOMAIN")]
    brand: Vec<String>,
    /// Only indicator matches: no DGA, tunnelling, lookalike or fast-flux heuristics.
    #[arg(long, conflicts_with_all = ["heuristics", "brand"])]
    no_heuristics: bool,
    /// One alert per line as JSON.
    #[arg(long)]
    json: bool,
    /// No progress bar and no summary on stderr.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    data: DataArgs,
}

/// Indicator details printed with an alert.
#[derive(Debug, Clone, Default, Serialize)]
struct Details {
    category: String,
    sources: Vec<String>,
    confidence: Option<u8>,
}

/// An alert as printed.
#[derive(Serialize)]
struct Printed<'a> {
    rule: &'static str,
    #[serde(flatten)]
    alert: &'a anbao_detect::Alert,
    category: &'a str,
    sources: &'a [String],
    confidence: Option<u8>,
}

struct Loaded {
    index: IndicatorIndex,
    allowlist: Allowlist,
    indicators: u64,
    /// File mode: what the files say about each indicator.
    details: FileDetails,
}

/// What `--indicators` files say about each indicator: a few bytes per
/// indicator, since a million-line list is loaded whole (the category as
/// its enum, the source as an index into the source names).
#[derive(Debug, Default)]
struct FileDetails {
    /// By indicator id (the id is the position).
    records: Vec<Record>,
    /// Source names, one per `--indicators` argument.
    sources: Vec<String>,
    /// Further sources of indicators that several arguments list: (id,
    /// source), sorted once loaded.
    more_sources: Vec<(u32, u32)>,
}

#[derive(Debug, Clone, Copy)]
struct Record {
    category: Category,
    confidence: Option<u8>,
    /// The first source that listed the indicator (index into `sources`).
    source: u32,
}

impl FileDetails {
    fn get(&self, id: u64) -> Option<Details> {
        let index = u32::try_from(id).ok()?;
        let record = self.records.get(usize::try_from(id).ok()?)?;
        let first = self.more_sources.partition_point(|(i, _)| *i < index);
        let more = self.more_sources.get(first..).unwrap_or_default().iter().take_while(|(i, _)| *i == index);
        let more = more.map(|(_, s)| *s);
        let sources = std::iter::once(record.source)
            .chain(more)
            .filter_map(|s| self.sources.get(usize::try_from(s).ok()?).cloned())
            .collect();
        Some(Details { category: record.category.to_string(), sources, confidence: record.confidence })
    }
}

/// A heuristic's finding as printed.
#[derive(Serialize)]
struct PrintedFinding<'a> {
    rule: &'static str,
    victim: IpAddr,
    name: &'a str,
    category: &'static str,
    score: u8,
    reason: &'a str,
    ts: Timestamp,
    evidence: &'a anbao_detect::Evidence,
}

pub async fn run(args: ScanArgs) -> Result<ExitCode> {
    let sensor = args.sensor.clone().unwrap_or_else(host_name);
    let heuristics = if args.no_heuristics {
        None
    } else {
        Some(crate::detect::heuristics_config(args.heuristics.as_deref().unwrap_or_default(), &args.brand)?)
    };
    let (loaded, store) = if args.indicators.is_empty() {
        let config = args.data.config()?;
        let store = open_store(&config).await?;
        let snapshot = anbao_feeds::build_snapshot(&store).await.context("loading the indicators from the store")?;
        let indicators = snapshot.indicators;
        let anbao_feeds::Snapshot { index, allowlist, .. } = snapshot;
        (Loaded { index, allowlist, indicators, details: FileDetails::default() }, Some(store))
    } else {
        let loaded = tokio::task::block_in_place(|| load_files(&args))?;
        (loaded, None)
    };
    if !args.quiet {
        eprintln!("anbao: matching against {} indicators", loaded.indicators);
    }
    let (alerts, findings, reports, stats, dropped) =
        tokio::task::block_in_place(|| scan(&args, &loaded, &sensor, heuristics))?;

    let mut details: HashMap<u64, Details> = HashMap::new();
    if let Some(store) = &store {
        let ids: Vec<i64> = alerts
            .iter()
            .filter_map(|a| i64::try_from(a.indicator_id).ok())
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        for chunk in ids.chunks(500) {
            for stored in store.intel_indicators_by_ids(chunk).await? {
                let sources = store.intel_provenance(stored.id).await?.into_iter().map(|p| p.source).collect();
                let d = Details { category: stored.category.to_string(), sources, confidence: stored.confidence };
                details.insert(u64::try_from(stored.id).unwrap_or_default(), d);
            }
        }
    }
    let describe =
        |id: u64| -> Details { details.get(&id).cloned().or_else(|| loaded.details.get(id)).unwrap_or_default() };

    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    if args.json {
        for alert in &alerts {
            let d = describe(alert.indicator_id);
            let printed =
                Printed { rule: "intel", alert, category: &d.category, sources: &d.sources, confidence: d.confidence };
            serde_json::to_writer(&mut out, &printed)?;
            out.write_all(b"\n")?;
        }
        for (f, evidence) in &findings {
            serde_json::to_writer(&mut out, &printed_finding(f, evidence))?;
            out.write_all(b"\n")?;
        }
    } else if !alerts.is_empty() || !findings.is_empty() {
        writeln!(
            out,
            "{:<22} {:<30} {:<15} {:<14} {:>6}  {:<20}  EVIDENCE",
            "VICTIM", "INDICATOR", "CATEGORY", "MATCH", "COUNT", "FIRST SEEN"
        )?;
        for a in &alerts {
            let d = describe(a.indicator_id);
            writeln!(
                out,
                "{:<22} {:<30} {:<15} {:<14} {:>6}  {:<20}  {} {} → {}",
                a.victim.to_string(),
                a.indicator,
                d.category,
                a.how.as_str(),
                a.count,
                a.first_seen.to_string().get(..19).unwrap_or_default(),
                a.evidence.kind,
                a.evidence.summary,
                a.evidence.dst.map_or_else(|| "-".to_owned(), |d| endpoint(d, a.evidence.dport)),
            )?;
        }
        for (f, evidence) in &findings {
            writeln!(
                out,
                "{:<22} {:<30} {:<15} {:<14} {:>6}  {:<20}  {} ({})",
                f.victim.to_string(),
                f.name,
                category_of(f.heuristic),
                format!("{} {}", f.heuristic, f.score),
                1,
                f.ts.to_string().get(..19).unwrap_or_default(),
                evidence.summary,
                f.reason,
            )?;
        }
    }
    out.flush()?;
    for r in &reports {
        r.print_problems();
    }
    if !args.quiet {
        let victims: HashSet<IpAddr> =
            alerts.iter().map(|a| a.victim).chain(findings.iter().map(|(f, _)| f.victim)).collect();
        let events: u64 = reports.iter().map(|r| r.events).sum();
        eprintln!(
            "anbao: {} alert(s), {} victim(s); {events} messages, {} lookups, {} hits allowlisted{}",
            alerts.len() + findings.len(),
            victims.len(),
            stats.lookups,
            stats.allowlisted,
            if dropped > 0 { format!(", {dropped} detections over the alert limit not kept") } else { String::new() }
        );
    }
    let status = input_status(&reports, 0, 3);
    Ok(ExitCode::from(match (status, alerts.is_empty() && findings.is_empty()) {
        (2, _) => 2,
        (_, false) => 1,
        (s, true) => s,
    }))
}

pub fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "local".to_owned())
}

/// Reads the indicator files into an index; one indicator per (kind,
/// value), with every source that lists it. Indicators stream from the
/// readers into the index builder; what stays per indicator is its
/// [`Record`], and while loading its value once more in [`Seen`].
fn load_files(args: &ScanArgs) -> Result<Loaded> {
    let mut builder = IndicatorIndex::builder();
    let mut details = FileDetails::default();
    let mut seen = Seen::default();
    for arg in &args.indicators {
        let input = Input::parse(arg);
        // Two files of the same name are one source, as the store has it.
        let name = input.default_source();
        let source = match details.sources.iter().position(|s| *s == name) {
            Some(at) => at,
            None => {
                details.sources.push(name);
                details.sources.len() - 1
            }
        };
        let source = u32::try_from(source).context("too many --indicators")?;
        let options = ImportOptions { format: args.indicator_format, category: args.category, ..Default::default() };
        let mut added = 0u64;
        let mut failed: Option<anyhow::Error> = None;
        let mut sink = |item: FeedItem| {
            let FeedItem::Indicator(i) = item else { return };
            if failed.is_some() {
                return;
            }
            added += 1;
            let next = details.records.len();
            let Ok(next_id) = u32::try_from(next) else {
                failed = Some(anyhow::anyhow!("more than {} indicators", u32::MAX));
                return;
            };
            let id = seen.id(i.kind, &i.value, next_id);
            if id == next_id {
                details.records.push(Record {
                    category: i.category.unwrap_or(Category::Other),
                    confidence: i.confidence,
                    source,
                });
                let result = match i.valid_until {
                    Some(until) => {
                        builder.add_expiring(i.kind, &i.value, u64::from(id), until.unix_timestamp()).map(|_| ())
                    }
                    None => builder.add(i.kind, &i.value, u64::from(id)).map(|_| ()),
                };
                if let Err(e) = result {
                    failed =
                        Some(anyhow::Error::new(e).context(format!("indicator {} {:?} from {arg}", i.kind, i.value)));
                }
            } else if details.records.get(id as usize).is_some_and(|r| r.source != source) {
                details.more_sources.push((id, source));
            }
        };
        let read = anbao_feeds::read_inputs_into(std::slice::from_ref(&input), &options, &mut sink);
        if let Some(e) = failed {
            return Err(e);
        }
        if let Some((what, why)) = read.unreadable.first() {
            bail!("cannot read indicators from {what}: {why}");
        }
        if added == 0 && !args.quiet {
            eprintln!("anbao: warning: no indicators in {arg}");
        }
    }
    drop(seen);
    details.records.shrink_to_fit();
    details.more_sources.sort_unstable();
    details.more_sources.dedup();
    let indicators = details.records.len() as u64;
    Ok(Loaded { index: builder.build(), allowlist: Allowlist::builder().build(), indicators, details })
}

/// The (kind, value) pairs loaded so far and their ids, for merging the
/// sources of a value listed twice: the values packed in one buffer and a
/// table of ids hashed by value (about 35 bytes per indicator, where a
/// map of `String`s took over 100).
#[derive(Default)]
struct Seen {
    /// Kind byte and value of each id, back to back.
    bytes: Vec<u8>,
    /// Where each id's bytes end.
    ends: Vec<usize>,
    ids: hashbrown::HashTable<u32>,
    /// Values are chosen by the feed: a seeded hash.
    hasher: foldhash::quality::RandomState,
}

impl Seen {
    fn value(&self, id: u32) -> &[u8] {
        let id = id as usize;
        let start = if id == 0 { 0 } else { self.ends.get(id - 1).copied().unwrap_or(0) };
        let end = self.ends.get(id).copied().unwrap_or(start);
        self.bytes.get(start..end).unwrap_or_default()
    }

    fn hash(&self, key: &[u8]) -> u64 {
        use std::hash::BuildHasher;
        self.hasher.hash_one(key)
    }

    /// The id of (kind, value): an earlier one, or `next` (recorded).
    fn id(&mut self, kind: IndicatorKind, value: &str, next: u32) -> u32 {
        let start = self.bytes.len();
        self.bytes.push(kind as u8);
        self.bytes.extend_from_slice(value.as_bytes());
        let hash = self.hash(self.bytes.get(start..).unwrap_or_default());
        let key = self.bytes.get(start..).unwrap_or_default();
        if let Some(&id) = self.ids.find(hash, |&id| self.value(id) == key) {
            self.bytes.truncate(start);
            return id;
        }
        self.ends.push(self.bytes.len());
        let Self { ids, bytes, ends, hasher } = self;
        ids.insert_unique(hash, next, |&id| {
            let id = id as usize;
            let start = if id == 0 { 0 } else { ends.get(id - 1).copied().unwrap_or(0) };
            let end = ends.get(id).copied().unwrap_or(start);
            use std::hash::BuildHasher;
            hasher.hash_one(bytes.get(start..end).unwrap_or_default())
        });
        next
    }
}

fn printed_finding<'a>(f: &'a Finding, evidence: &'a anbao_detect::Evidence) -> PrintedFinding<'a> {
    PrintedFinding {
        rule: f.heuristic,
        victim: f.victim,
        name: &f.name,
        category: category_of(f.heuristic),
        score: f.score,
        reason: &f.reason,
        ts: f.ts,
        evidence,
    }
}

/// Findings kept for printing, at most.
const MAX_FINDINGS: usize = 1_000_000;

struct Scanner<'a> {
    intel: Intel<'a>,
    heuristics: Option<Heuristics>,
    new_findings: Vec<Finding>,
    findings: Vec<(Finding, anbao_detect::Evidence)>,
    book: AlertBook,
    stats: MatchStats,
    detections: Vec<Detection>,
    sensor: &'a str,
    /// One endpoint lookup per conversation, not per packet.
    pairs: EndpointPairs,
    /// `--follow`: print alerts as they are first raised.
    live: Option<LivePrinter<'a>>,
    live_finding: Option<LiveFindingPrinter<'a>>,
}

/// Prints an alert the moment it is raised (`--follow`).
type LivePrinter<'a> = Box<dyn FnMut(&anbao_detect::Alert) + 'a>;
type LiveFindingPrinter<'a> = Box<dyn FnMut(&Finding, &anbao_detect::Evidence) + 'a>;

impl Scanner<'_> {
    fn record(&mut self, event: &Event) {
        for d in self.detections.drain(..) {
            let key = anbao_detect::AlertKey { victim: d.victim, indicator_id: d.indicator_id };
            let new = self.book.record(d, event, self.sensor) == anbao_detect::alerts::Recorded::New;
            if new
                && let Some(live) = &mut self.live
                && let Some(alert) = self.book.get(&key)
            {
                live(alert);
            }
        }
    }
}

impl TrafficSink for Scanner<'_> {
    fn event(&mut self, event: &Event) {
        self.intel.match_event(event, &mut self.stats, &mut self.detections);
        if !self.detections.is_empty() {
            self.record(event);
        }
        if let Some(h) = &mut self.heuristics {
            h.event(event, &mut self.new_findings);
            for f in self.new_findings.drain(..) {
                if let Some(live) = &mut self.live_finding {
                    live(&f, &anbao_detect::Evidence::of(event, self.sensor));
                }
                if self.findings.len() < MAX_FINDINGS {
                    let evidence = anbao_detect::Evidence::of(event, self.sensor);
                    self.findings.push((f, evidence));
                }
            }
        }
    }

    fn packet(&mut self, ts: Timestamp, endpoints: &Endpoints) {
        self.intel.match_packet(&mut self.pairs, endpoints, ts.secs(), &mut self.stats, &mut self.detections);
        if !self.detections.is_empty() {
            // The evidence of a flow hit is the packet's endpoints.
            self.record(&Event::endpoints_only(ts, *endpoints));
        }
    }
}

type ScanResult = (
    Vec<anbao_detect::Alert>,
    Vec<(Finding, anbao_detect::Evidence)>,
    Vec<crate::traffic::InputReport>,
    MatchStats,
    u64,
);

fn scan(args: &ScanArgs, loaded: &Loaded, sensor: &str, heuristics: Option<HeuristicsConfig>) -> Result<ScanResult> {
    let options = ReadOptions {
        format: args.format,
        follow: args.follow,
        capture_filter: args.live.capture_filter.clone(),
        max_packets: args.live.count,
    };
    // An endless live capture has no end to print a summary at.
    let as_seen = args.follow
        || (args.live.count.is_none() && args.inputs.iter().any(|i| crate::live::interface_of(i).is_some()));
    let progress = progress_bar(args.quiet || as_seen);
    let mut extractor = Extractor::new(Limits::default());
    let live: Option<LivePrinter<'_>> = if as_seen {
        let json = args.json;
        Some(Box::new(move |a: &anbao_detect::Alert| {
            let line = if json {
                serde_json::to_string(a).unwrap_or_default()
            } else {
                format!("{} {} {} {}", a.first_seen, a.victim, a.indicator, a.evidence.summary)
            };
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }))
    } else {
        None
    };
    let live_finding: Option<LiveFindingPrinter<'_>> = if as_seen {
        let json = args.json;
        Some(Box::new(move |f: &Finding, e: &anbao_detect::Evidence| {
            let line = if json {
                serde_json::to_string(&printed_finding(f, e)).unwrap_or_default()
            } else {
                format!("{} {} {} {} {}", f.ts, f.victim, f.heuristic, f.name, f.reason)
            };
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }))
    } else {
        None
    };
    let heuristics = match heuristics {
        Some(c) => Some(Heuristics::new(c)?),
        None => None,
    };
    let mut scanner = Scanner {
        intel: Intel::new(&loaded.index, &loaded.allowlist),
        heuristics,
        new_findings: Vec::new(),
        findings: Vec::new(),
        live_finding,
        book: AlertBook::new(1_000_000),
        stats: MatchStats::default(),
        detections: Vec::new(),
        sensor,
        pairs: EndpointPairs::default(),
        live,
    };
    let mut reports = Vec::new();
    for input in &args.inputs {
        reports.push(read_input(input, &options, &mut extractor, &progress, &mut scanner));
    }
    progress.finish_and_clear();
    let dropped = scanner.book.dropped();
    Ok((scanner.book.into_alerts(), scanner.findings, reports, scanner.stats, dropped))
}
