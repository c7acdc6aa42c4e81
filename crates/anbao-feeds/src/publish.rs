//! Publishing indicators to partners and the regulator (R3.6, R8.5): a TAXII
//! collection with a publish filter (categories, most restrictive TLP)
//! receives the stored indicators it admits as STIX 2.1 indicator objects.
//!
//! Each indicator's object id is derived from its kind and value and its
//! `modified` is the indicator's last update, so publishing again adds
//! nothing for unchanged indicators and a new version for changed ones:
//! partners polling with `added_after` see exactly what changed. Expired
//! and allowlisted indicators are not published. The TLP marking
//! definitions the objects reference are published with them.

use anbao_intel::stix::export::{BundleWriter, ExportOptions, IndicatorMeta};
use anbao_store::{Actor, IndicatorFilter, Store};
use serde::Serialize;

use crate::FeedsError;
use crate::live::load_allowlist;

/// Objects per TAXII envelope written.
const ENVELOPE: usize = 1000;

/// What one publication did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PublishReport {
    pub collection_id: String,
    /// Indicators the filter admitted.
    pub admitted: u64,
    /// Objects stored as new (new indicators or new versions).
    pub added: u64,
    /// Objects the collection already held in this version.
    pub unchanged: u64,
    /// Objects the collection refused (should be none).
    pub failed: u64,
}

/// Publishes into `collection` (id or alias) the indicators its filter
/// admits.
pub async fn publish(store: &Store, actor: &Actor, collection: &str) -> Result<PublishReport, FeedsError> {
    let collection = store.taxii_collection(collection).await?;
    let Some(filter) = collection.publish.clone() else {
        return Err(FeedsError::Usage(format!(
            "collection {} ({}) has no publish filter: set its categories and TLP first",
            collection.id, collection.title
        )));
    };
    let (allowlist, _) = load_allowlist(store).await?;
    let now = store.clock().now();
    let mut bundle = Vec::new();
    let mut writer =
        BundleWriter::new(&mut bundle, ExportOptions::new("bundle--00000000-0000-4000-8000-000000000000", now))
            .map_err(|e| FeedsError::Internal(e.to_string()))?;
    let mut report = PublishReport { collection_id: collection.id.clone(), ..PublishReport::default() };
    let mut failure = None;
    // Sightings of what our detection saw go with the indicators they are
    // of (R8.5: shared back); they carry counts and times, no subscribers.
    let sightings = store.alert_sightings().await?;
    let filter_all = IndicatorFilter { valid_at: Some(now), ..IndicatorFilter::default() };
    store
        .intel_for_each_export(&filter_all, |e| {
            let record = e.to_record();
            if !filter.admits(e.stored.category, e.stored.tlp) || allowlist.allows(record.kind, &record.value).is_some()
            {
                return Ok(());
            }
            let meta =
                IndicatorMeta { id: None, created: Some(e.stored.created_at), modified: Some(e.stored.updated_at) };
            match writer.indicator(&record, &meta) {
                Ok(Some(stix_id)) => {
                    report.admitted += 1;
                    if let Some(&(count, first, last)) = sightings.get(&e.stored.id)
                        && let Err(err) = writer.object(&crate::export::sighting_of(&stix_id, count, first, last))
                    {
                        failure = Some(err.to_string());
                    }
                }
                Ok(None) => {}
                Err(err) => failure = Some(err.to_string()),
            }
            Ok(())
        })
        .await?;
    if let Some(f) = failure {
        return Err(FeedsError::Internal(f));
    }
    writer.finish().map_err(|e| FeedsError::Internal(e.to_string()))?;
    let parsed: serde_json::Value =
        serde_json::from_slice(&bundle).map_err(|e| FeedsError::Internal(format!("publishing: {e}")))?;
    let objects = parsed.get("objects").and_then(serde_json::Value::as_array).cloned().unwrap_or_default();
    for envelope in objects.chunks(ENVELOPE) {
        let status = store.taxii_add_objects(actor, &collection.id, envelope).await?;
        report.failed += status.failure_count;
        for s in &status.successes {
            if s.message.as_deref().is_some_and(|m| m.contains("already")) {
                report.unchanged += 1;
            } else {
                report.added += 1;
            }
        }
    }
    Ok(report)
}

/// Publishes into every collection that has a publish filter; for the
/// scheduler. Errors are per collection.
pub async fn publish_all(
    store: &Store,
    actor: &Actor,
) -> Result<Vec<(String, Result<PublishReport, FeedsError>)>, FeedsError> {
    let mut out = Vec::new();
    for c in store.taxii_collections().await?.into_iter().filter(|c| c.publish.is_some()) {
        let result = publish(store, actor, &c.id).await;
        out.push((c.id, result));
    }
    Ok(out)
}

/// Publishes every minute-or-so (`every`) when the intel generation has
/// moved since the last publication (any node may; publishing is
/// idempotent).
pub fn spawn_publisher(store: Store, every: std::time::Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut published_generation = None;
        loop {
            tick.tick().await;
            let Ok(generation) = store.intel_generation().await else { continue };
            if published_generation == Some(generation) {
                continue;
            }
            match publish_all(&store, &Actor::system()).await {
                Ok(results) => {
                    for (collection, result) in results {
                        match result {
                            Ok(r) => tracing::info!(
                                collection,
                                added = r.added,
                                admitted = r.admitted,
                                "published indicators"
                            ),
                            Err(e) => tracing::warn!(collection, error = %e, "publishing indicators failed"),
                        }
                    }
                    published_generation = Some(generation);
                }
                Err(e) => tracing::warn!(error = %e, "listing collections to publish failed"),
            }
        }
    })
}
