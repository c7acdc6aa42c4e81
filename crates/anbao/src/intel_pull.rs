//! `anbao intel source add|list|remove` and `anbao intel pull`: remote
//! intelligence sources (TAXII 2.1 collections, MISP feeds, URLs) and
//! pulling from them now; `anbao serve` pulls the scheduled ones.
//!
//! Passwords come from an environment variable (`--password-env VAR`) or
//! stdin (`--password-stdin`), never from an argument, which `ps` would
//! show. `pull` exits 0 when every named source was pulled, 2 when any
//! failed (or a document could not be read); `--json` prints one
//! `PullSummary` per source and line.

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::Arc;

use anbao_feeds::{Format, Progress, PullSummary};
use anbao_intel::Category;
use anbao_store::{Actor, IntelSourceDraft, SourceKind};
use anyhow::{Context, Result, bail};
use clap::{ArgGroup, Args, Subcommand};

use crate::{DataArgs, open_store};

#[derive(Debug, Subcommand)]
pub enum SourceCommand {
    /// Add a source: a TAXII 2.1 collection, a MISP feed or a URL, pulled on demand or every N minutes.
    Add(AddArgs),
    /// List the sources with their schedule and how their last pull went.
    List(ListArgs),
    /// Remove a source; what it imported stays.
    Remove(RemoveArgs),
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("remote").required(true).args(["taxii", "misp_feed", "url"])))]
pub struct AddArgs {
    /// The source's name; also the provenance source of what it imports.
    #[arg(value_name = "NAME")]
    name: String,
    /// A TAXII 2.1 API root URL such as https://taxii.example/api1/; name the collection too.
    #[arg(long, value_name = "API_ROOT_URL", requires = "collection")]
    taxii: Option<String>,
    /// The TAXII collection's id.
    #[arg(long, value_name = "ID", requires = "taxii")]
    collection: Option<String>,
    /// A MISP feed: its base URL or its manifest.json URL.
    #[arg(long, value_name = "URL")]
    misp_feed: Option<String>,
    /// One document: a plain list, hosts file, STIX bundle or MISP event.
    #[arg(long, value_name = "URL")]
    url: Option<String>,
    /// User name for HTTP Basic authentication.
    #[arg(long, value_name = "USER")]
    user: Option<String>,
    /// Read the password from this environment variable (without --user it is sent as the
    /// Authorization header itself, e.g. a MISP key).
    #[arg(long, value_name = "VAR", conflicts_with = "password_stdin")]
    password_env: Option<String>,
    /// Read the password from the first line of stdin.
    #[arg(long)]
    password_stdin: bool,
    /// Pull every MINUTES minutes while `anbao serve` runs; 0 (the default): only on demand.
    #[arg(long, value_name = "MINUTES", default_value_t = 0)]
    every: i64,
    /// Category for indicators whose feed names none (botnet_cc, trojan, phishing, …).
    #[arg(long, value_name = "C")]
    category: Option<Category>,
    /// Format of a --url document: auto, stix, misp, list or hosts.
    #[arg(long, default_value = "auto")]
    format: Format,
    /// MISP: also import attributes marked to_ids: false.
    #[arg(long)]
    include_non_ids: bool,
    /// Add it disabled (not pulled on schedule or by --all).
    #[arg(long)]
    disabled: bool,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Print a JSON array (passwords never appear, only has_password).
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Debug, Args)]
pub struct RemoveArgs {
    /// The source's name.
    #[arg(value_name = "NAME")]
    name: String,
    #[command(flatten)]
    data: DataArgs,
}

#[derive(Debug, Args)]
#[command(group(ArgGroup::new("which").required(true).args(["names", "all"])))]
pub struct PullArgs {
    /// Sources to pull, by name.
    #[arg(value_name = "NAME")]
    names: Vec<String>,
    /// Pull every enabled source.
    #[arg(long, conflicts_with = "names")]
    all: bool,
    /// Print each source's pull summary as one JSON object per line.
    #[arg(long)]
    json: bool,
    /// No progress bar.
    #[arg(long, short)]
    quiet: bool,
    #[command(flatten)]
    data: DataArgs,
}

pub async fn source(cmd: SourceCommand) -> Result<ExitCode> {
    match cmd {
        SourceCommand::Add(a) => add(a).await,
        SourceCommand::List(a) => list(a).await,
        SourceCommand::Remove(a) => remove(a).await,
    }
}

fn read_password(a: &AddArgs) -> Result<String> {
    if let Some(var) = &a.password_env {
        return std::env::var(var).with_context(|| format!("--password-env {var}: the variable is not set"));
    }
    if a.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line).context("reading the password from stdin")?;
        let password = line.trim_end_matches(['\n', '\r']).to_owned();
        if password.is_empty() {
            bail!("--password-stdin: stdin held no password");
        }
        return Ok(password);
    }
    Ok(String::new())
}

async fn add(a: AddArgs) -> Result<ExitCode> {
    let (kind, url) = match (&a.taxii, &a.misp_feed, &a.url) {
        (Some(u), None, None) => (SourceKind::Taxii, u.clone()),
        (None, Some(u), None) => (SourceKind::MispFeed, u.clone()),
        (None, None, Some(u)) => (SourceKind::Url, u.clone()),
        _ => bail!("give one of --taxii, --misp-feed or --url"),
    };
    let format = match (kind, a.format) {
        (_, Format::Csv) => bail!("--format csv is not available for sources (it needs a column mapping)"),
        (SourceKind::Url, f) => f,
        (_, Format::Auto) => Format::Auto,
        (SourceKind::Taxii, Format::Stix) => Format::Stix,
        (SourceKind::MispFeed, Format::Misp) => Format::Misp,
        (_, f) => bail!("--format {f} is only for --url sources"),
    };
    let mut draft = IntelSourceDraft::new(&a.name, kind, &url);
    draft.collection_id = a.collection.clone().unwrap_or_default();
    draft.username = a.user.clone().unwrap_or_default();
    draft.password = read_password(&a)?;
    draft.format = format.as_str().to_owned();
    draft.category = a.category;
    draft.include_non_ids = a.include_non_ids;
    draft.interval_minutes = a.every;
    draft.enabled = !a.disabled;
    let store = open_store(&a.data.config()?).await?;
    let result = store.intel_source_create(&Actor::cli(), &draft).await;
    store.close().await;
    let source = result?;
    let schedule = match source.interval_minutes {
        0 => "on demand".to_owned(),
        1 => "every minute".to_owned(),
        n => format!("every {n} minutes"),
    };
    out!("added intel source {} ({}, {schedule})", source.name, source.kind)?;
    Ok(ExitCode::SUCCESS)
}

async fn list(a: ListArgs) -> Result<ExitCode> {
    let store = open_store(&a.data.config()?).await?;
    let result = store.intel_sources().await;
    store.close().await;
    let sources = result?;
    if a.json {
        out!("{}", serde_json::to_string(&sources)?)?;
        return Ok(ExitCode::SUCCESS);
    }
    for s in &sources {
        let remote = if s.collection_id.is_empty() {
            s.url.clone()
        } else {
            format!("{} collection {}", s.url, s.collection_id)
        };
        let every = if s.interval_minutes > 0 { format!("every {}m", s.interval_minutes) } else { "on demand".into() };
        let last = match s.last_pull_at {
            Some(t) => format!("last pull {} {}", anbao_model::clock::format_ts(t), s.last_status),
            None => "never pulled".into(),
        };
        let enabled = if s.enabled { "" } else { "\tdisabled" };
        out!("{}\t{}\t{remote}\t{every}\t{last}{enabled}", s.name, s.kind)?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn remove(a: RemoveArgs) -> Result<ExitCode> {
    let store = open_store(&a.data.config()?).await?;
    let result = async {
        let source = store.intel_source_find(&a.name).await?;
        store.intel_source_delete(&Actor::cli(), source.id).await?;
        anyhow::Ok(source)
    }
    .await;
    store.close().await;
    let source = result?;
    out!("removed intel source {} (what it imported stays)", source.name)?;
    Ok(ExitCode::SUCCESS)
}

/// The progress bar of one source's pull.
struct PullBar {
    bar: indicatif::ProgressBar,
    source: String,
}

impl Progress for PullBar {
    fn document(&self, name: &str, index: usize, _total: usize) {
        let short = name.rsplit('/').next().filter(|s| !s.trim().is_empty()).unwrap_or(name);
        self.bar.set_message(format!("{} [{}] {}", self.source, index + 1, short.trim()));
    }
    fn written(&self, indicators: u64) {
        self.bar.set_position(indicators);
    }
}

fn bar(hidden: bool) -> indicatif::ProgressBar {
    if hidden {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg}: {human_pos} indicators ({per_sec}, {elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    bar
}

pub async fn pull(a: PullArgs) -> Result<ExitCode> {
    let store = open_store(&a.data.config()?).await?;
    let names = if a.all {
        match store.intel_sources().await {
            Ok(all) => all.into_iter().filter(|s| s.enabled).map(|s| s.name).collect(),
            Err(e) => {
                store.close().await;
                return Err(e.into());
            }
        }
    } else {
        a.names.clone()
    };
    let mut failed = false;
    for name in &names {
        let bar = bar(a.quiet || a.json);
        let progress = Arc::new(PullBar { bar: bar.clone(), source: name.clone() });
        let result = anbao_feeds::pull(&store, &Actor::cli(), name, progress).await;
        bar.finish_and_clear();
        match result {
            Ok(summary) => {
                failed |= summary.import.unreadable > 0;
                report(name, &summary, a.json)?;
            }
            Err(e) => {
                failed = true;
                eprintln!("anbao: pull {name}: {e}");
                if a.json {
                    out!("{}", serde_json::json!({"source": name, "error": e.to_string()}))?;
                }
            }
        }
    }
    store.close().await;
    if names.is_empty() {
        eprintln!("no enabled intel sources (add one with `anbao intel source add`)");
    }
    Ok(if failed { ExitCode::from(2) } else { ExitCode::SUCCESS })
}

fn report(name: &str, s: &PullSummary, json: bool) -> Result<()> {
    if json {
        out!("{}", serde_json::to_string(s)?)?;
    } else if s.not_modified {
        out!("pull {name}: nothing new")?;
    } else {
        let i = &s.import;
        out!(
            "pull {name}: import #{}: {} accepted, {} updated, {} rejected, {} not matchable, {} skipped, \
             {} STIX objects from {} {}",
            i.import_id,
            i.accepted,
            i.updated,
            i.rejected,
            i.not_matchable,
            i.skipped,
            i.objects,
            s.pages,
            if s.kind == "taxii" { "pages" } else { "documents" }
        )?;
        for p in i.errors.iter().filter(|p| p.kind == "unreadable").take(20) {
            eprintln!("  unreadable: {}: {}", p.input, p.reason);
        }
    }
    for w in &s.warnings {
        eprintln!("  warning: {name}: {w}");
    }
    Ok(())
}
