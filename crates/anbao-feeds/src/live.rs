//! The live match index: a snapshot of every stored indicator (minus those
//! an allowlist covers) in an [`IndicatorIndex`], rebuilt in the background
//! when the store's intel generation moves, and swapped in atomically.
//! Readers hold an `Arc` to the snapshot they started with; the old one is
//! freed when its last reader lets go (the peers' common failure is old
//! intel that is never unloaded).
//!
//! Expiry needs no rebuild: each id carries its valid-until time and
//! lookups pass the current time, so an indicator stops matching the moment
//! it expires.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anbao_intel::allowlist::{Allowlist, AllowlistBuilder, BadEntry, Warninglist, WarninglistType};
use anbao_intel::{Hit, IndicatorIndex, IndicatorKind, Match, detect_kind, normalize};
use anbao_model::Timestamp;
use anbao_store::Store;
use arc_swap::ArcSwap;
use serde::Serialize;

use crate::FeedsError;

/// One built index with what it was built from.
#[derive(Debug)]
pub struct Snapshot {
    pub index: IndicatorIndex,
    pub allowlist: Allowlist,
    /// The store's intel generation it reflects (-1: never built).
    pub generation: i64,
    /// Indicators in the index.
    pub indicators: u64,
    /// Stored indicators left out because an allowlist covers them.
    pub allowlisted: u64,
    /// Stored indicators whose value no longer normalises (should be none).
    pub invalid: u64,
    pub build_time: Duration,
    pub bad_allow_entries: Vec<BadEntry>,
}

/// The answer for one looked-up value.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Lookup {
    pub value: String,
    /// The kind the value was read as, if any.
    pub kind: Option<String>,
    /// The allowlist (and entry) covering the value itself: nothing matches.
    pub allowlisted: Option<AllowedBy>,
    pub hits: Vec<LookupHit>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AllowedBy {
    pub list: String,
    pub entry: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct LookupHit {
    pub kind: String,
    /// `exact`, `parent_domain`, `covering_cidr` or `url_prefix`.
    #[serde(rename = "match")]
    pub how: &'static str,
    /// The listed value that matched.
    pub listed: String,
    pub ids: Vec<i64>,
}

impl Snapshot {
    fn empty() -> Snapshot {
        Snapshot {
            index: IndicatorIndex::builder().build(),
            allowlist: Allowlist::builder().build(),
            generation: -1,
            indicators: 0,
            allowlisted: 0,
            invalid: 0,
            build_time: Duration::ZERO,
            bad_allow_entries: Vec::new(),
        }
    }

    /// What `raw` matches at `now`.
    pub fn lookup(&self, raw: &str, now: Timestamp) -> Lookup {
        let raw = raw.trim();
        let kind = detect_kind(raw);
        let mut out =
            Lookup { value: raw.to_owned(), kind: kind.map(|k| k.to_string()), allowlisted: None, hits: vec![] };
        let Some(kind) = kind else { return out };
        if let Ok(norm) = normalize(kind, raw)
            && let Some(hit) = self.allowlist.allows(kind, &norm)
        {
            out.allowlisted = Some(AllowedBy { list: hit.list.to_owned(), entry: hit.entry.to_owned() });
            return out;
        }
        out.hits =
            self.index.lookup_at(raw, now.unix_timestamp()).into_iter().map(|h| lookup_hit(h, raw, kind)).collect();
        out
    }
}

fn lookup_hit(h: Hit, raw: &str, kind: IndicatorKind) -> LookupHit {
    let (how, listed) = match h.matched {
        Match::Exact => ("exact", normalize(h.kind, raw).or_else(|_| normalize(kind, raw)).unwrap_or_default()),
        Match::Parent { listed } => ("parent_domain", listed),
        Match::Network { listed } => ("covering_cidr", listed),
        Match::UrlPrefix { listed } => ("url_prefix", listed),
    };
    LookupHit {
        kind: h.kind.to_string(),
        how,
        listed,
        ids: h.ids.into_iter().filter_map(|id| i64::try_from(id).ok()).collect(),
    }
}

/// The enabled allowlists of the store, compiled, with the entries that
/// could not be read.
pub async fn load_allowlist(store: &Store) -> Result<(Allowlist, Vec<BadEntry>), FeedsError> {
    let mut allow = AllowlistBuilder::new();
    let mut bad_allow_entries = Vec::new();
    for list in store.intel_allowlists().await?.into_iter().filter(|l| l.enabled) {
        let list_type = match list.list_type.as_str() {
            "string" => WarninglistType::String,
            "substring" => WarninglistType::Substring,
            "hostname" => WarninglistType::Hostname,
            "cidr" => WarninglistType::Cidr,
            "regex" => WarninglistType::Regex,
            _ => continue,
        };
        let wl = Warninglist {
            name: list.name,
            description: list.description,
            version: 1,
            list_type,
            category: None,
            matching_attributes: Vec::new(),
            entries: list.entries,
        };
        bad_allow_entries.extend(allow.add_warninglist(&wl));
    }
    Ok((allow.build(), bad_allow_entries))
}

/// Builds a snapshot from the store: allowlists first, then every
/// indicator they do not cover.
pub async fn build_snapshot(store: &Store) -> Result<Snapshot, FeedsError> {
    let started = Instant::now();
    // Read the generation first: a change during the build moves it again,
    // so the next refresh rebuilds rather than missing the change.
    let generation = store.intel_generation().await?;
    let (allowlist, bad_allow_entries) = load_allowlist(store).await?;
    let mut builder = IndicatorIndex::builder();
    let (mut indicators, mut allowlisted, mut invalid) = (0u64, 0u64, 0u64);
    store
        .intel_for_each_matchable(|id, kind, value, valid_until| {
            if allowlist.allows(kind, value).is_some() {
                allowlisted += 1;
                return;
            }
            let id = u64::try_from(id).unwrap_or_default();
            let added = match valid_until {
                Some(until) => builder.add_expiring(kind, value, id, until.unix_timestamp()).map(|_| ()),
                None => builder.add(kind, value, id).map(|_| ()),
            };
            match added {
                Ok(()) => indicators += 1,
                Err(_) => invalid += 1,
            }
        })
        .await?;
    let index = tokio::task::spawn_blocking(move || builder.build())
        .await
        .map_err(|e| FeedsError::Internal(format!("index build failed: {e}")))?;
    Ok(Snapshot {
        index,
        allowlist,
        generation,
        indicators,
        allowlisted,
        invalid,
        build_time: started.elapsed(),
        bad_allow_entries,
    })
}

/// The index every detector and lookup reads; see the module doc.
#[derive(Debug)]
pub struct LiveIndex {
    current: ArcSwap<Snapshot>,
    /// One rebuild at a time.
    building: tokio::sync::Mutex<()>,
}

impl Default for LiveIndex {
    fn default() -> Self {
        LiveIndex { current: ArcSwap::from_pointee(Snapshot::empty()), building: tokio::sync::Mutex::new(()) }
    }
}

impl LiveIndex {
    pub fn new() -> LiveIndex {
        LiveIndex::default()
    }

    /// The snapshot to read now.
    pub fn current(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// Rebuilds when the store's generation differs from the snapshot's;
    /// returns whether it did.
    pub async fn refresh(&self, store: &Store) -> Result<bool, FeedsError> {
        let _one = self.building.lock().await;
        let generation = store.intel_generation().await?;
        if generation == self.current.load().generation {
            return Ok(false);
        }
        let snapshot = build_snapshot(store).await?;
        tracing::info!(
            indicators = snapshot.indicators,
            allowlisted = snapshot.allowlisted,
            generation = snapshot.generation,
            ms = snapshot.build_time.as_millis() as u64,
            "intel index rebuilt"
        );
        self.current.store(Arc::new(snapshot));
        Ok(true)
    }

    /// Refreshes every `every` until the process ends; errors are logged
    /// and retried on the next tick.
    pub fn spawn_refresher(self: Arc<Self>, store: Store, every: Duration) -> tokio::task::JoinHandle<()> {
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                if let Err(e) = self.refresh(&store).await {
                    tracing::warn!(error = %e, "intel index refresh failed");
                }
            }
        })
    }
}
