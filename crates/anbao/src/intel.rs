//! `anbao intel`: import feeds, export indicators, look values up — offline,
//! against the same store the server uses.
//!
//! The contract checked from outside (issue #4): `import … --json` prints
//! `{"accepted","updated","rejected","not_matchable","errors":[…]}` (and
//! more keys); `export --format …` writes to stdout; `lookup` exits 0 when
//! something matched, 1 when nothing did, 2 on error, like grep.

use std::process::ExitCode;
use std::sync::Arc;

use anbao_feeds::{ExportFormat, ExportRequest, Format, ImportOptions, Input, Progress};
use anbao_intel::lists::{Column, CsvMapping};
use anbao_intel::{Category, IndicatorKind};
use anbao_store::{Actor, IndicatorFilter};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};

use crate::{DataArgs, open_store};

#[derive(Debug, Subcommand)]
pub enum IntelCommand {
    /// Import indicators from files, directories (e.g. a MISP feed folder) or URLs; gzip is read transparently.
    Import(ImportArgs),
    /// Write indicators to stdout as STIX 2.1, CSV, a plain list, an RPZ zone or an Unbound local-zone file.
    Export(ExportArgs),
    /// Look values up: prints what matched and why (exact, parent domain, covering CIDR, URL prefix).
    /// Exit status 0 when something matched, 1 when nothing did, 2 on error.
    Lookup(LookupArgs),
    /// Publish the indicators a TAXII collection's filter admits into it (new and changed ones only).
    Publish(PublishArgs),
    /// The malware sample library: add files (zips with the conventional password are opened), list, get.
    #[command(subcommand)]
    Sample(crate::intel_sample::SampleCommand),
    /// Remote sources to pull from: TAXII 2.1 collections, MISP feeds and URLs (add, list, remove).
    #[command(subcommand)]
    Source(crate::intel_pull::SourceCommand),
    /// Pull what is new from sources now; `anbao serve` pulls scheduled sources by itself.
    Pull(crate::intel_pull::PullArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Files, directories or http(s):// URLs. A directory with manifest.json is read as a MISP feed.
    #[arg(required_unless_present = "feed_metadata", value_name = "FILE|DIR|URL")]
    inputs: Vec<String>,
    /// MISP feed metadata (a feed object or a list, as in MISP's defaults.json): import every enabled
    /// feed it describes from its URL, freetext and CSV feeds read as described (one run per feed).
    #[arg(long, value_name = "FILE", conflicts_with = "inputs")]
    feed_metadata: Option<std::path::PathBuf>,
    /// Input format; auto tells STIX, MISP, hosts files and plain lists apart (CSV must be named).
    #[arg(long, default_value = "auto")]
    format: Format,
    /// Category for indicators whose feed names none: botnet_cc, trojan, mobile_malware, phishing,
    /// malicious_url, malicious_download, scanner, spam, other.
    #[arg(long, value_name = "C")]
    category: Option<Category>,
    /// Source name kept in each indicator's provenance. Default: the first input's file name or host.
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// MISP: also import attributes marked to_ids: false.
    #[arg(long)]
    include_non_ids: bool,
    #[command(flatten)]
    csv: CsvArgs,
    /// Print the summary as JSON.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    data: DataArgs,
}

/// Column mapping for --format csv. Columns are 1-based numbers or header names.
#[derive(Debug, Args)]
pub struct CsvArgs {
    /// Column holding the value (required for CSV).
    #[arg(long, value_name = "COL")]
    value_column: Option<String>,
    /// Column holding the kind (domain, url, ipv4, md5, … or MISP type names); else detected per value.
    #[arg(long, value_name = "COL")]
    kind_column: Option<String>,
    /// Column holding the category.
    #[arg(long, value_name = "COL")]
    category_column: Option<String>,
    /// Column holding tags (separated by ; or ,).
    #[arg(long, value_name = "COL")]
    tags_column: Option<String>,
    /// Column holding a description or comment.
    #[arg(long, value_name = "COL")]
    context_column: Option<String>,
    /// Field delimiter.
    #[arg(long, default_value = ",", value_name = "CHAR")]
    delimiter: char,
    /// The first line is data, not a header.
    #[arg(long)]
    no_header: bool,
}

impl CsvArgs {
    fn mapping(&self) -> Result<Option<CsvMapping>> {
        let Some(value) = &self.value_column else {
            if self.kind_column.is_some() || self.category_column.is_some() {
                bail!("--value-column is required with the other --*-column options");
            }
            return Ok(None);
        };
        let delimiter = u8::try_from(self.delimiter).context("--delimiter must be one ASCII character")?;
        let col = |s: &String| -> Column {
            match s.parse::<usize>() {
                Ok(n) if n >= 1 => Column::Index(n - 1),
                _ => Column::Name(s.clone()),
            }
        };
        let mut m = CsvMapping::new(col(value));
        m.delimiter = delimiter;
        m.has_header = !self.no_header;
        m.kind_column = self.kind_column.as_ref().map(col);
        m.category_column = self.category_column.as_ref().map(col);
        m.tags_column = self.tags_column.as_ref().map(col);
        m.context_column = self.context_column.as_ref().map(col);
        Ok(Some(m))
    }
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// stix, csv, list, rpz or unbound.
    #[arg(long)]
    format: ExportFormat,
    /// Only this category.
    #[arg(long, value_name = "C")]
    category: Option<Category>,
    /// Only this kind (domain, url, ipv4, ipv6, cidr, md5, sha1, sha256, email, …).
    #[arg(long, value_name = "KIND")]
    kind: Option<IndicatorKind>,
    /// Only indicators this source states.
    #[arg(long, value_name = "NAME")]
    source: Option<String>,
    /// Include indicators past their valid-until time.
    #[arg(long)]
    include_expired: bool,
    /// Include indicators an allowlist covers (left out by default).
    #[arg(long)]
    include_allowlisted: bool,
    /// RPZ/Unbound: answer with this address instead of NXDOMAIN (a sinkhole).
    #[arg(long, value_name = "IP")]
    sinkhole: Option<std::net::IpAddr>,
    /// RPZ: the zone's name.
    #[arg(long, default_value = "rpz.anbao.", value_name = "NAME")]
    zone: String,
    /// Only indicators an alert in this status names (new, acknowledged, confirmed, …): e.g.
    /// `--format rpz --alert-status confirmed` for a disposal zone of what detection confirmed.
    #[arg(long, value_name = "STATUS", value_parser = clap::builder::PossibleValuesParser::new(anbao_store::ALERT_STATUSES))]
    alert_status: Option<String>,
    /// STIX: also a sighting of each indicator our detection saw (counts, first and last seen; no
    /// subscriber data), to share back with the indicator's source (R8.5).
    #[arg(long)]
    sightings: bool,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Debug, Args)]
pub struct PublishArgs {
    /// Collection ids or aliases (see the TAXII page); none with --all.
    #[arg(value_name = "COLLECTION", required_unless_present = "all")]
    collections: Vec<String>,
    /// Every collection that has a publish filter.
    #[arg(long)]
    all: bool,
    /// Print one JSON report per collection.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Debug, Args)]
pub struct LookupArgs {
    /// Values as traffic shows them: domains, URLs, IP addresses, hashes, e-mail addresses.
    #[arg(required = true, value_name = "VALUE")]
    values: Vec<String>,
    /// Print one JSON object per value.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data: DataArgs,
}

pub async fn run(cmd: IntelCommand) -> Result<ExitCode> {
    match cmd {
        IntelCommand::Import(a) => import(a).await,
        IntelCommand::Export(a) => export(a).await,
        IntelCommand::Lookup(a) => lookup(a).await,
        IntelCommand::Sample(c) => crate::intel_sample::run(c).await,
        IntelCommand::Publish(a) => publish(a).await,
        IntelCommand::Source(c) => crate::intel_pull::source(c).await,
        IntelCommand::Pull(a) => crate::intel_pull::pull(a).await,
    }
}

struct Bar(indicatif::ProgressBar);

impl Progress for Bar {
    fn document(&self, name: &str, index: usize, total: usize) {
        let short = name.rsplit('/').next().unwrap_or(name);
        self.0.set_message(if total > 1 { format!("[{}/{total}] {short}", index + 1) } else { short.to_owned() });
    }
    fn written(&self, indicators: u64) {
        self.0.set_position(indicators);
    }
}

async fn import(a: ImportArgs) -> Result<ExitCode> {
    let options = ImportOptions {
        format: a.format,
        category: a.category,
        source: a.source.clone(),
        include_non_ids: a.include_non_ids,
        csv: a.csv.mapping()?,
        ..ImportOptions::default()
    };
    if a.format == Format::Csv && options.csv.is_none() {
        bail!("--format csv needs --value-column");
    }
    // One run per described feed, or one run for the inputs given.
    let mut runs: Vec<(Vec<Input>, ImportOptions)> = Vec::new();
    if let Some(path) = &a.feed_metadata {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        let feeds = anbao_intel::misp::FeedDescription::list_from_json(&bytes)
            .with_context(|| format!("reading MISP feed metadata {}", path.display()))?;
        for feed in feeds.into_iter().filter(|f| f.enabled) {
            let input = match feed.input_source {
                anbao_intel::misp::InputSource::Local => Input::Path(feed.url.clone().into()),
                anbao_intel::misp::InputSource::Network => Input::parse(&feed.url),
            };
            let mut o = options.clone();
            o.source = Some(a.source.clone().unwrap_or_else(|| feed.name.clone()));
            if feed.source_format != anbao_intel::misp::SourceFormat::Misp {
                o.described = Some(feed);
            }
            runs.push((vec![input], o));
        }
        if runs.is_empty() {
            bail!("{} describes no enabled feed", path.display());
        }
    } else {
        runs.push((a.inputs.iter().map(|s| Input::parse(s)).collect(), options));
    }
    let store = open_store(&a.data.config()?).await?;
    let mut unreadable = 0;
    for (inputs, options) in runs {
        let summary = import_one(&store, &a, inputs, options).await;
        let summary = match summary {
            Ok(s) => s,
            Err(e) => {
                store.close().await;
                return Err(e);
            }
        };
        unreadable += summary.unreadable;
    }
    store.close().await;
    Ok(if unreadable > 0 { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

async fn import_one(
    store: &anbao_store::Store,
    a: &ImportArgs,
    inputs: Vec<Input>,
    options: ImportOptions,
) -> Result<anbao_feeds::ImportSummary> {
    let bar = if a.quiet || a.json {
        indicatif::ProgressBar::hidden()
    } else {
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_style(
            indicatif::ProgressStyle::with_template("{spinner} {msg}: {human_pos} indicators ({per_sec}, {elapsed})")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(std::time::Duration::from_millis(200));
        bar
    };
    let progress = Arc::new(Bar(bar.clone()));
    let result = anbao_feeds::import(store, &Actor::cli(), inputs, options, progress).await;
    bar.finish_and_clear();
    let summary = result?;
    if a.json {
        out!("{}", serde_json::to_string(&summary)?)?;
    } else {
        out!(
            "import #{} from {}: {} accepted, {} updated, {} rejected, {} not matchable, {} skipped, {} STIX objects",
            summary.import_id,
            summary.source,
            summary.accepted,
            summary.updated,
            summary.rejected,
            summary.not_matchable,
            summary.skipped,
            summary.objects
        )?;
        for p in summary.errors.iter().take(20) {
            let at = if p.location.is_empty() { p.input.clone() } else { format!("{}: {}", p.input, p.location) };
            if p.value.is_empty() {
                eprintln!("  {}: {at}: {}", p.kind, p.reason);
            } else {
                eprintln!("  {}: {at}: {:?}: {}", p.kind, p.value, p.reason);
            }
        }
        if summary.errors.len() > 20 {
            eprintln!("  … {} more (see --json, or the import page)", summary.errors.len() - 20);
        }
    }
    Ok(summary)
}

async fn export(a: ExportArgs) -> Result<ExitCode> {
    let store = open_store(&a.data.config()?).await?;
    let mut req = ExportRequest::new(a.format, store.clock().now());
    req.filter = IndicatorFilter {
        category: a.category,
        kind: a.kind,
        source: a.source,
        alert_status: a.alert_status,
        ..IndicatorFilter::default()
    };
    req.sightings = a.sightings;
    req.include_expired = a.include_expired;
    req.include_allowlisted = a.include_allowlisted;
    req.sinkhole = a.sinkhole;
    req.zone = a.zone;
    let mut stdout = std::io::BufWriter::with_capacity(1 << 16, std::io::stdout());
    let result = anbao_feeds::export(&store, &req, &mut stdout).await;
    store.close().await;
    let report = result?;
    std::io::Write::flush(&mut stdout)?;
    eprintln!(
        "exported {} indicators ({} left out by allowlists, {} not representable in {})",
        report.written,
        report.allowlisted,
        report.skipped,
        a.format.as_str()
    );
    Ok(ExitCode::SUCCESS)
}

/// One indicator a lookup found, with what the store knows of it.
#[derive(serde::Serialize)]
struct FoundIndicator {
    #[serde(flatten)]
    stored: anbao_store::StoredIndicator,
    source_names: Vec<String>,
}

async fn lookup(a: LookupArgs) -> Result<ExitCode> {
    let store = open_store(&a.data.config()?).await?;
    let snapshot = anbao_feeds::build_snapshot(&store).await?;
    let now = store.clock().now();
    let mut any = false;
    for value in &a.values {
        let found = snapshot.lookup(value, now);
        let mut details = Vec::new();
        for hit in &found.hits {
            let mut indicators = Vec::new();
            for stored in store.intel_indicators_by_ids(&hit.ids).await? {
                let source_names = store.intel_provenance(stored.id).await?.into_iter().map(|p| p.source).collect();
                indicators.push(FoundIndicator { stored, source_names });
            }
            details.push((hit, indicators));
        }
        any |= !found.hits.is_empty();
        if a.json {
            let hits: Vec<serde_json::Value> = details
                .iter()
                .map(|(hit, indicators)| {
                    serde_json::json!({
                        "kind": hit.kind, "match": hit.how, "listed": hit.listed, "indicators": indicators,
                    })
                })
                .collect();
            out!(
                "{}",
                serde_json::json!({
                    "value": found.value, "kind": found.kind, "matched": !hits.is_empty(),
                    "allowlisted": found.allowlisted, "hits": hits,
                })
            )?;
        } else if let Some(allowed) = &found.allowlisted {
            out!("{}\tallowlisted by {} ({})", found.value, allowed.list, allowed.entry)?;
        } else if details.is_empty() {
            out!("{}\tno match", found.value)?;
        } else {
            for (hit, indicators) in &details {
                let why = match hit.how {
                    "exact" => "exact".to_owned(),
                    "parent_domain" => format!("parent domain {}", hit.listed),
                    "covering_cidr" => format!("covering CIDR {}", hit.listed),
                    other => format!("{other} {}", hit.listed),
                };
                for i in indicators {
                    out!(
                        "{}\t{}\t{} {}\tcategory {}\tconfidence {}\tsources {}",
                        found.value,
                        why,
                        i.stored.kind,
                        i.stored.value,
                        i.stored.category,
                        i.stored.confidence.map_or("-".to_owned(), |c| c.to_string()),
                        i.source_names.join(",")
                    )?;
                }
            }
        }
    }
    store.close().await;
    Ok(if any { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

async fn publish(a: PublishArgs) -> Result<ExitCode> {
    let store = open_store(&a.data.config()?).await?;
    let mut results = Vec::new();
    if a.all {
        results = anbao_feeds::publish::publish_all(&store, &Actor::cli()).await?;
    }
    for c in &a.collections {
        results.push((c.clone(), anbao_feeds::publish::publish(&store, &Actor::cli(), c).await));
    }
    store.close().await;
    let mut failed = false;
    for (collection, result) in results {
        match result {
            Ok(r) if a.json => out!("{}", serde_json::to_string(&r)?)?,
            Ok(r) => out!(
                "{collection}: {} admitted, {} added, {} unchanged, {} refused",
                r.admitted,
                r.added,
                r.unchanged,
                r.failed
            )?,
            Err(e) => {
                failed = true;
                eprintln!("anbao: {collection}: {e}");
            }
        }
    }
    Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
}
