//! Threat-intelligence indicators: one indicator per value with the
//! provenance of every source, derived metadata, import runs, exports,
//! allowlists and the generation counter index holders poll.

use anbao_intel::{Category, Indicator, IndicatorKind as K, Rejected, StixObject, Tlp};
use anbao_store::{ImportTotals, IndicatorFilter, StoreError};
use time::Duration;

use crate::harness::*;

on_both_backends! {
    one_indicator_per_value_with_every_source => one_indicator_per_value_with_every_source_sqlite, one_indicator_per_value_with_every_source_postgres;
    reimport_from_a_source_replaces_its_statement => reimport_from_a_source_replaces_its_statement_sqlite, reimport_from_a_source_replaces_its_statement_postgres;
    import_runs_record_counts_rejects_and_audit => import_runs_record_counts_rejects_and_audit_sqlite, import_runs_record_counts_rejects_and_audit_postgres;
    listing_filters_and_pages => listing_filters_and_pages_sqlite, listing_filters_and_pages_postgres;
    export_streams_with_tags_and_sources => export_streams_with_tags_and_sources_sqlite, export_streams_with_tags_and_sources_postgres;
    allowlists_are_saved_replaced_and_audited => allowlists_are_saved_replaced_and_audited_sqlite, allowlists_are_saved_replaced_and_audited_postgres;
    large_chunks_and_stix_objects => large_chunks_and_stix_objects_sqlite, large_chunks_and_stix_objects_postgres;
    duplicates_across_chunks_and_sources => duplicates_across_chunks_and_sources_sqlite, duplicates_across_chunks_and_sources_postgres;
    a_failing_chunk_leaves_nothing_half_written => a_failing_chunk_leaves_nothing_half_written_sqlite, a_failing_chunk_leaves_nothing_half_written_postgres;
    text_comes_back_as_given_new_or_stated_again => text_comes_back_as_given_new_or_stated_again_sqlite, text_comes_back_as_given_new_or_stated_again_postgres;
    nul_in_text => nul_in_text_sqlite, nul_in_text_postgres;
    ids_taken_from_outside_the_store => ids_taken_from_outside_the_store_sqlite, ids_taken_from_outside_the_store_postgres;
    search_ignores_case => search_ignores_case_sqlite, search_ignores_case_postgres;
}

fn ind(kind: K, value: &str) -> Indicator {
    Indicator::new(kind, value)
}

async fn import(db: &TestDb, source: &str, default: Category, items: Vec<Indicator>) -> anbao_store::ChunkCounts {
    let store = &db.store;
    let id = store.intel_import_begin(&actor("alice"), source, "list", "test").await.unwrap();
    let counts = store.intel_import_chunk(id, source, default, items, &[]).await.unwrap();
    let totals = ImportTotals { accepted: counts.accepted, updated: counts.updated, ..ImportTotals::default() };
    store.intel_import_finish(&actor("alice"), id, &totals, &[], None).await.unwrap();
    counts
}

async fn one_indicator_per_value_with_every_source(db: TestDb) {
    let store = &db.store;
    let t0 = db.now();
    let mut a = ind(K::Domain, "evil.example");
    a.confidence = Some(40);
    a.tlp = Some(Tlp::Green);
    a.first_seen = Some(t0 - Duration::days(10));
    a.valid_until = Some(t0 + Duration::days(30));
    a.tags = vec!["apt".into(), "c2".into()];
    a.context = "from feed A".into();
    let counts = import(&db, "feed-a", Category::Other, vec![a]).await;
    assert_eq!((counts.accepted, counts.updated), (1, 0));

    let mut b = ind(K::Domain, "evil.example");
    b.category = Some(Category::BotnetCc);
    b.confidence = Some(90);
    b.tlp = Some(Tlp::Amber);
    b.first_seen = Some(t0 - Duration::days(3));
    b.tags = vec!["c2".into(), "mirai".into()];
    let counts = import(&db, "feed-b", Category::Trojan, vec![b]).await;
    assert_eq!((counts.accepted, counts.updated), (0, 1), "the second source updates, does not duplicate");

    let stored = store.intel_indicator_by_value(K::Domain, "evil.example").await.unwrap().expect("stored");
    assert_eq!(stored.sources, 2);
    assert_eq!(stored.category, Category::BotnetCc, "the most confident source decides the category");
    assert_eq!(stored.confidence, Some(90));
    assert_eq!(stored.tlp, Some(Tlp::Amber), "the most restrictive marking");
    assert_eq!(stored.first_seen, Some(t0 - Duration::days(10)), "the earliest first seen");
    assert_eq!(stored.valid_until, None, "feed B states no end, so it stays valid");

    let prov = store.intel_provenance(stored.id).await.unwrap();
    let mut sources: Vec<&str> = prov.iter().map(|p| p.source.as_str()).collect();
    sources.sort_unstable();
    assert_eq!(sources, ["feed-a", "feed-b"]);
    let a_prov = prov.iter().find(|p| p.source == "feed-a").unwrap();
    assert_eq!(a_prov.category, Category::Other, "feed A's own statement is kept as it was");
    assert_eq!(a_prov.tags, ["apt", "c2"]);
    assert_eq!(a_prov.context, "from feed A");
    assert_eq!(a_prov.valid_until, Some(t0 + Duration::days(30)));
}

async fn reimport_from_a_source_replaces_its_statement(db: TestDb) {
    let store = &db.store;
    let t0 = db.now();
    let mut first = ind(K::Ipv4, "203.0.113.7");
    first.valid_until = Some(t0 + Duration::days(1));
    first.category = Some(Category::Scanner);
    import(&db, "feed-a", Category::Other, vec![first]).await;
    let g1 = store.intel_generation().await.unwrap();

    db.clock.advance(Duration::hours(2));
    let mut again = ind(K::Ipv4, "203.0.113.7");
    again.valid_until = Some(t0 + Duration::days(7));
    again.category = Some(Category::BotnetCc);
    let counts = import(&db, "feed-a", Category::Other, vec![again]).await;
    assert_eq!((counts.accepted, counts.updated), (0, 1));
    assert!(store.intel_generation().await.unwrap() > g1, "index holders learn of the change");

    let stored = store.intel_indicator_by_value(K::Ipv4, "203.0.113.7").await.unwrap().unwrap();
    assert_eq!(stored.sources, 1, "one source, one provenance row");
    assert_eq!(stored.category, Category::BotnetCc);
    assert_eq!(stored.valid_until, Some(t0 + Duration::days(7)));
    assert!(stored.is_valid_at(t0 + Duration::days(6)));
    assert!(!stored.is_valid_at(t0 + Duration::days(8)), "past valid until it no longer matches");
    assert_eq!(stored.first_seen, Some(t0), "first seen stays the first import's time");
    assert_eq!(stored.last_seen, Some(t0 + Duration::hours(2)), "last seen moves");

    // Within one chunk the same value twice is one statement.
    let mut x = ind(K::Sha256, &"ab".repeat(32));
    x.tags = vec!["one".into()];
    let mut y = x.clone();
    y.tags = vec!["two".into()];
    let counts = import(&db, "feed-c", Category::Trojan, vec![x, y]).await;
    assert_eq!((counts.accepted, counts.updated), (1, 1), "the repeat counts as an update, as in a later chunk");
    let stored = store.intel_indicator_by_value(K::Sha256, &"ab".repeat(32)).await.unwrap().unwrap();
    assert_eq!(store.intel_provenance(stored.id).await.unwrap()[0].tags, ["one", "two"]);
}

async fn import_runs_record_counts_rejects_and_audit(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    assert!(matches!(
        store.intel_import_begin(&alice, "  ", "list", "x").await,
        Err(StoreError::Invalid(e)) if e.field == "source"
    ));
    let id = store.intel_import_begin(&alice, "abuse-feed", "list", "feed.txt").await.unwrap();
    let run = store.intel_import_run(id).await.unwrap();
    assert_eq!(run.status, "running");
    let counts = store
        .intel_import_chunk(id, "abuse-feed", Category::Phishing, vec![ind(K::Url, "http://phish.example/login")], &[])
        .await
        .unwrap();
    let rejects: Vec<Rejected> = (0..12_000)
        .map(|n| Rejected { location: format!("line {n}"), value: "999.1.1.1".into(), reason: "bad".into() })
        .collect();
    let totals = ImportTotals {
        accepted: counts.accepted,
        updated: counts.updated,
        rejected: rejects.len() as u64,
        ..ImportTotals::default()
    };
    let run = store.intel_import_finish(&alice, id, &totals, &rejects, None).await.unwrap();
    assert_eq!((run.status.as_str(), run.accepted, run.rejected), ("done", 1, 12_000));
    let kept = store.intel_import_rejects(id).await.unwrap();
    assert_eq!(kept.len(), anbao_store::MAX_KEPT_REJECTS, "the first rejects are kept for download");
    assert_eq!(kept[3].location, "line 3");
    let entry = assert_audited(store, "alice", "intel.import", "intel_import", id).await;
    assert_eq!(entry.after.as_ref().unwrap()["accepted"], 1);

    let failed = store.intel_import_begin(&alice, "abuse-feed", "list", "gone.txt").await.unwrap();
    let run = store
        .intel_import_finish(&alice, failed, &ImportTotals::default(), &[], Some("connection reset"))
        .await
        .unwrap();
    assert_eq!((run.status.as_str(), run.failure.as_str()), ("failed", "connection reset"));
    let runs = store.intel_import_runs(10).await.unwrap();
    assert_eq!(runs.iter().map(|r| r.id).collect::<Vec<_>>(), [failed, id], "newest first");
    let started = store.intel_import_run(id).await.unwrap().started_at;

    // An import whose process died stays `running` in the table; after
    // IMPORT_STALE without a chunk it reads as `interrupted`. Progress counts
    // from the last chunk, not from the start.
    let killed = store.intel_import_begin(&alice, "abuse-feed", "list", "huge.txt").await.unwrap();
    db.clock.advance(anbao_store::IMPORT_STALE - Duration::minutes(1));
    store
        .intel_import_chunk(killed, "abuse-feed", Category::Spam, vec![ind(K::Domain, "spam.example")], &[])
        .await
        .unwrap();
    db.clock.advance(anbao_store::IMPORT_STALE - Duration::minutes(1));
    assert_eq!(store.intel_import_run(killed).await.unwrap().status, "running", "a chunk was written since");
    db.clock.advance(Duration::minutes(2));
    assert_eq!(store.intel_import_run(killed).await.unwrap().status, "interrupted");
    assert_eq!(store.intel_import_runs(1).await.unwrap()[0].status, "interrupted");
    assert_eq!(store.intel_imports_done_since(started).await.unwrap(), 1, "the failed one does not count");
    assert_eq!(store.intel_imports_done_since(started + Duration::days(1)).await.unwrap(), 0);
    assert!(matches!(store.intel_import_rejects(999_999).await, Err(StoreError::NotFound { .. })));
}

async fn listing_filters_and_pages(db: TestDb) {
    let store = &db.store;
    let t0 = db.now();
    let mut items = Vec::new();
    for n in 0..25 {
        let mut i = ind(K::Domain, &format!("host{n:02}.bad.example"));
        if n % 5 == 0 {
            i.valid_until = Some(t0 - Duration::hours(1));
        }
        items.push(i);
    }
    items.push(ind(K::Ipv4, "198.51.100.1"));
    items.push(ind(K::Domain, "100%_odd.example"));
    import(&db, "feed-a", Category::Phishing, items).await;
    import(&db, "feed-b", Category::BotnetCc, vec![ind(K::Domain, "c2.example")]).await;

    let all = IndicatorFilter::default();
    assert_eq!(store.intel_count(&all).await.unwrap(), 28);
    let valid = IndicatorFilter { valid_at: Some(t0), ..IndicatorFilter::default() };
    assert_eq!(store.intel_count(&valid).await.unwrap(), 23, "expired ones are left out");

    let mut seen = Vec::new();
    let mut before = None;
    loop {
        let page = store.intel_indicators(&all, before, 10).await.unwrap();
        if page.is_empty() {
            break;
        }
        before = page.last().map(|i| i.id);
        seen.extend(page.into_iter().map(|i| i.id));
    }
    assert_eq!(seen.len(), 28, "keyset paging visits every indicator once");
    assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");

    let q = |q: &str| IndicatorFilter { q: Some(q.into()), ..IndicatorFilter::default() };
    assert_eq!(store.intel_count(&q("HOST0")).await.unwrap(), 10, "substring, case-insensitive");
    assert_eq!(store.intel_count(&q("%")).await.unwrap(), 1, "LIKE wildcards are literal");
    assert_eq!(store.intel_count(&q("_")).await.unwrap(), 1);
    let by_source = IndicatorFilter { source: Some("feed-b".into()), ..IndicatorFilter::default() };
    assert_eq!(store.intel_indicators(&by_source, None, 10).await.unwrap()[0].value, "c2.example");
    let by_kind = IndicatorFilter { kind: Some(K::Ipv4), ..IndicatorFilter::default() };
    assert_eq!(store.intel_count(&by_kind).await.unwrap(), 1);
    let by_category = IndicatorFilter { category: Some(Category::BotnetCc), ..IndicatorFilter::default() };
    assert_eq!(store.intel_count(&by_category).await.unwrap(), 1);
    let (per_category, per_kind) = store.intel_counts().await.unwrap();
    assert_eq!(per_category, [("botnet_cc".to_owned(), 1), ("phishing".to_owned(), 27)]);
    assert_eq!(per_kind, [("domain".to_owned(), 27), ("ipv4".to_owned(), 1)]);

    let victim = store.intel_indicators(&by_kind, None, 1).await.unwrap().remove(0);
    store.intel_delete_indicator(&actor("alice"), victim.id).await.unwrap();
    assert_audited(store, "alice", "intel.indicator.delete", "indicator", victim.id).await;
    assert!(matches!(store.intel_indicator(victim.id).await, Err(StoreError::NotFound { .. })));
    let mut n = 0;
    store
        .intel_for_each_matchable(|_, kind, value, _| {
            assert_ne!((kind, value), (K::Ipv4, "198.51.100.1"));
            n += 1;
        })
        .await
        .unwrap();
    assert_eq!(n, 27);
}

async fn export_streams_with_tags_and_sources(db: TestDb) {
    let store = &db.store;
    let mut a = ind(K::Domain, "shared.example");
    a.tags = vec!["b-tag".into()];
    a.context = "A says".into();
    import(&db, "feed-a", Category::Trojan, vec![a, ind(K::Md5, &"0f".repeat(16))]).await;
    let mut b = ind(K::Domain, "shared.example");
    b.tags = vec!["a-tag".into(), "b-tag".into()];
    import(&db, "feed-b", Category::Trojan, vec![b]).await;

    let mut out = Vec::new();
    let n = store
        .intel_for_each_export(&IndicatorFilter::default(), |e| {
            out.push(e);
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(n, 2);
    let shared = out.iter().find(|e| e.stored.value == "shared.example").unwrap();
    assert_eq!(shared.sources, ["feed-a", "feed-b"]);
    assert_eq!(shared.tags, ["a-tag", "b-tag"], "tags of every source, once each");
    assert_eq!(shared.context, "A says");
    let record = shared.to_record();
    assert_eq!((record.kind, record.category), (K::Domain, Some(Category::Trojan)));

    let only_b = IndicatorFilter { source: Some("feed-b".into()), ..IndicatorFilter::default() };
    let mut n = 0;
    store
        .intel_for_each_export(&only_b, |_| {
            n += 1;
            Ok(())
        })
        .await
        .unwrap();
    assert_eq!(n, 1);
    let stopped =
        store.intel_for_each_export(&IndicatorFilter::default(), |_| Err(StoreError::Conflict("stop".into()))).await;
    assert!(matches!(stopped, Err(StoreError::Conflict(_))), "the callback's error ends the export");
}

async fn allowlists_are_saved_replaced_and_audited(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let g0 = store.intel_generation().await.unwrap();
    let list = store
        .intel_save_allowlist(
            &alice,
            "top-domains",
            "hostname",
            "popular sites",
            &["google.com".into(), " ".into(), "qq.com".into()],
            true,
        )
        .await
        .unwrap();
    assert_eq!(list.entries, ["google.com", "qq.com"], "blank entries are dropped");
    assert_audited(store, "alice", "intel.allowlist.create", "allowlist", list.id).await;
    assert!(store.intel_generation().await.unwrap() > g0);

    let list =
        store.intel_save_allowlist(&alice, "top-domains", "hostname", "", &["baidu.com".into()], false).await.unwrap();
    assert_eq!((list.entries.len(), list.enabled), (1, false));
    let entry = assert_audited(store, "alice", "intel.allowlist.update", "allowlist", list.id).await;
    assert_eq!(entry.before.as_ref().unwrap()["entries"], 2);
    assert_eq!(store.intel_allowlists().await.unwrap().len(), 1);

    for (name, ty, entries) in
        [("x", "glob", vec!["a".to_owned()]), ("", "string", vec![]), ("y", "string", vec!["a\nb".to_owned()])]
    {
        assert!(
            matches!(
                store.intel_save_allowlist(&alice, name, ty, "", &entries, true).await,
                Err(StoreError::Invalid(_))
            ),
            "{name:?} {ty:?} {entries:?}"
        );
    }
    store.intel_delete_allowlist(&alice, list.id).await.unwrap();
    assert_audited(store, "alice", "intel.allowlist.delete", "allowlist", list.id).await;
    assert!(store.intel_allowlists().await.unwrap().is_empty());
}

async fn large_chunks_and_stix_objects(db: TestDb) {
    let store = &db.store;
    // More rows than one INSERT statement holds.
    let items: Vec<Indicator> = (0..2500).map(|n| ind(K::Domain, &format!("d{n}.bulk.example"))).collect();
    let counts = import(&db, "bulk", Category::Spam, items.clone()).await;
    assert_eq!((counts.accepted, counts.updated), (2500, 0));
    let counts = import(&db, "bulk", Category::Spam, items).await;
    assert_eq!((counts.accepted, counts.updated), (0, 2500));
    // The same value under two kinds is two indicators.
    let counts =
        import(&db, "bulk", Category::Spam, vec![ind(K::Md5, &"a".repeat(32)), ind(K::Ja3, &"a".repeat(32))]).await;
    assert_eq!(counts.accepted, 2);

    let object = |id: &str, version: &str| StixObject {
        id: id.into(),
        object_type: "malware".into(),
        spec_version: "2.1".into(),
        version: version.into(),
        json: format!(r#"{{"type":"malware","id":"{id}","modified":"{version}"}}"#),
    };
    let id = store.intel_import_begin(&actor("alice"), "stix", "stix", "b.json").await.unwrap();
    let objects = [
        object("malware--1", "2026-01-01T00:00:00Z"),
        object("malware--1", "2026-02-01T00:00:00Z"),
        object("malware--1", "2026-01-01T00:00:00Z"),
    ];
    let counts = store.intel_import_chunk(id, "stix", Category::Trojan, vec![], &objects).await.unwrap();
    assert_eq!(counts.objects, 2, "one row per id and version");
    let kept = store.intel_objects(Some("malware"), 10).await.unwrap();
    assert_eq!(kept.len(), 2);
    assert!(kept[0].body.contains("malware--1"));
    assert!(store.intel_objects(Some("indicator"), 10).await.unwrap().is_empty());
}

/// A feed split into chunks: a value repeated inside a chunk, in a later
/// chunk, and by another source is one indicator, counted once as accepted
/// and then as updated, with one provenance row per source.
async fn duplicates_across_chunks_and_sources(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let domain = |n: u32| format!("d{n:03}.dup.example");
    let run_a = store.intel_import_begin(&alice, "feed-a", "list", "a.txt").await.unwrap();
    let mut first: Vec<Indicator> = (0..100).map(|n| ind(K::Domain, &domain(n))).collect();
    let mut twice = ind(K::Domain, &domain(5));
    twice.tags = vec!["again".into()];
    first.push(twice);
    // What COPY's text format and JSON give a meaning must come back as given.
    first[7].context = "line one\nline\ttwo \\ three\r".into();
    let c1 = store.intel_import_chunk(run_a, "feed-a", Category::Spam, first, &[]).await.unwrap();
    assert_eq!((c1.accepted, c1.updated), (100, 1), "the repeat inside a chunk counts as an update");
    let second: Vec<Indicator> = (50..150).map(|n| ind(K::Domain, &domain(n))).collect();
    let c2 = store.intel_import_chunk(run_a, "feed-a", Category::Spam, second, &[]).await.unwrap();
    assert_eq!((c2.accepted, c2.updated), (50, 50), "values of the first chunk are updates in the second");
    let totals = ImportTotals {
        accepted: c1.accepted + c2.accepted,
        updated: c1.updated + c2.updated,
        ..ImportTotals::default()
    };
    let run = store.intel_import_finish(&alice, run_a, &totals, &[], None).await.unwrap();
    assert_eq!((run.accepted, run.updated), (150, 51));
    let recorded = store.intel_import_run(run_a).await.unwrap();
    assert_eq!((recorded.accepted, recorded.updated), (150, 51), "the run's own counts agree");

    db.clock.advance(Duration::hours(1));
    let run_b = store.intel_import_begin(&alice, "feed-b", "list", "b.txt").await.unwrap();
    let mut from_b: Vec<Indicator> = (0..10).map(|n| ind(K::Domain, &domain(n))).collect();
    from_b[5].confidence = Some(95);
    from_b[5].category = Some(Category::BotnetCc);
    from_b.push(ind(K::Domain, "only-b.dup.example"));
    from_b.push(ind(K::Ipv4, "198.51.100.9"));
    let cb = store.intel_import_chunk(run_b, "feed-b", Category::Phishing, from_b, &[]).await.unwrap();
    assert_eq!((cb.accepted, cb.updated), (2, 10));

    let filter = IndicatorFilter::default();
    assert_eq!(store.intel_count(&filter).await.unwrap(), 152, "one indicator per (kind, value)");
    let d5 = store.intel_indicator_by_value(K::Domain, &domain(5)).await.unwrap().unwrap();
    assert_eq!(d5.sources, 2);
    assert_eq!(d5.confidence, Some(95));
    assert_eq!(d5.category, Category::BotnetCc, "the most confident source decides");
    let prov = store.intel_provenance(d5.id).await.unwrap();
    let mut by_source: Vec<(&str, Option<i64>, Category)> =
        prov.iter().map(|p| (p.source.as_str(), p.import_id, p.category)).collect();
    by_source.sort_unstable_by_key(|p| p.0);
    assert_eq!(by_source, [("feed-a", Some(run_a), Category::Spam), ("feed-b", Some(run_b), Category::BotnetCc)]);
    let a5 = prov.iter().find(|p| p.source == "feed-a").unwrap();
    assert_eq!(a5.tags, ["again"], "tags of both statements in the chunk are kept");

    let d60 = store.intel_indicator_by_value(K::Domain, &domain(60)).await.unwrap().unwrap();
    assert_eq!(d60.sources, 1, "two chunks of one source are one provenance row");
    assert_eq!(store.intel_provenance(d60.id).await.unwrap().len(), 1);
    let d7 = store.intel_indicator_by_value(K::Domain, &domain(7)).await.unwrap().unwrap();
    let contexts: Vec<String> = store.intel_provenance(d7.id).await.unwrap().into_iter().map(|p| p.context).collect();
    assert!(contexts.contains(&"line one\nline\ttwo \\ three\r".to_owned()), "{contexts:?}");
    let b_only = store.intel_indicator_by_value(K::Domain, "only-b.dup.example").await.unwrap().unwrap();
    assert_eq!((b_only.sources, b_only.category), (1, Category::Phishing));
    let ip = store.intel_indicator_by_value(K::Ipv4, "198.51.100.9").await.unwrap().unwrap();
    assert_eq!(ip.first_seen, Some(db.now()), "a statement without times is seen at the import");
    let d149 = store.intel_indicator_by_value(K::Domain, &domain(149)).await.unwrap().unwrap();
    assert_eq!((d149.sources, d149.category), (1, Category::Spam));
}

/// A chunk is one transaction: when a statement fails half-way through
/// (here the provenance of one value, refused by a trigger), none of the
/// chunk's indicators, provenance or counts are left, the other chunks
/// stay whole, and writing the chunk again once the cause is gone gives
/// what a first successful write would have.
async fn a_failing_chunk_leaves_nothing_half_written(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let run = store.intel_import_begin(&alice, "feed", "list", "f.txt").await.unwrap();
    let mut first = vec![ind(K::Domain, "kept-1.atomic.example"), ind(K::Domain, "kept-2.atomic.example")];
    first[0].tags = vec!["first".into()];
    let c1 = store.intel_import_chunk(run, "feed", Category::Spam, first, &[]).await.unwrap();
    assert_eq!((c1.accepted, c1.updated), (2, 0));
    let generation = store.intel_generation().await.unwrap();

    match store.backend() {
        anbao_store::Backend::Sqlite => store
            .execute_raw(
                "CREATE TRIGGER refuse_boom BEFORE INSERT ON intel_provenance WHEN NEW.context = 'boom' \
                 BEGIN SELECT RAISE(ABORT, 'refused'); END",
            )
            .await
            .unwrap(),
        anbao_store::Backend::Postgres => store
            .execute_raw(
                "CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN \
                 IF NEW.context = 'boom' THEN RAISE EXCEPTION 'refused'; END IF; RETURN NEW; END $$; \
                 CREATE TRIGGER refuse_boom BEFORE INSERT ON intel_provenance FOR EACH ROW \
                 EXECUTE FUNCTION refuse_boom()",
            )
            .await
            .unwrap(),
    };
    let second = || {
        let mut again = ind(K::Domain, "kept-1.atomic.example");
        again.tags = vec!["second".into()];
        let mut boom = ind(K::Domain, "boom.atomic.example");
        boom.context = "boom".into();
        vec![again, ind(K::Domain, "new.atomic.example"), boom]
    };
    let objects = [StixObject {
        id: "malware--atomic".into(),
        object_type: "malware".into(),
        spec_version: "2.1".into(),
        version: "2026-01-01T00:00:00Z".into(),
        json: r#"{"type":"malware","id":"malware--atomic"}"#.into(),
    }];
    let failed = store.intel_import_chunk(run, "feed", Category::Spam, second(), &objects).await;
    assert!(failed.is_err(), "{failed:?}");

    let filter = IndicatorFilter::default();
    assert_eq!(store.intel_count(&filter).await.unwrap(), 2, "no indicator of the failed chunk");
    for value in ["new.atomic.example", "boom.atomic.example"] {
        assert_eq!(store.intel_indicator_by_value(K::Domain, value).await.unwrap(), None, "{value}");
    }
    let kept = store.intel_indicator_by_value(K::Domain, "kept-1.atomic.example").await.unwrap().unwrap();
    let prov = store.intel_provenance(kept.id).await.unwrap();
    assert_eq!(prov.len(), 1);
    assert_eq!(prov[0].tags, ["first"], "the existing value's provenance is as the first chunk left it");
    assert!(store.intel_objects(None, 10).await.unwrap().is_empty(), "no STIX object of the failed chunk");
    let recorded = store.intel_import_run(run).await.unwrap();
    assert_eq!(
        (recorded.accepted, recorded.updated, recorded.objects),
        (2, 0, 0),
        "the run counts the first chunk only"
    );
    assert_eq!(store.intel_generation().await.unwrap(), generation, "index holders see no change");

    let drop = match store.backend() {
        anbao_store::Backend::Sqlite => "DROP TRIGGER refuse_boom",
        anbao_store::Backend::Postgres => "DROP TRIGGER refuse_boom ON intel_provenance",
    };
    store.execute_raw(drop).await.unwrap();
    let c2 = store.intel_import_chunk(run, "feed", Category::Spam, second(), &objects).await.unwrap();
    assert_eq!((c2.accepted, c2.updated, c2.objects), (2, 1, 1));
    assert_eq!(store.intel_count(&filter).await.unwrap(), 4);
    let prov = store.intel_provenance(kept.id).await.unwrap();
    assert_eq!(prov[0].tags, ["second"]);
    let boom = store.intel_indicator_by_value(K::Domain, "boom.atomic.example").await.unwrap().unwrap();
    assert_eq!(store.intel_provenance(boom.id).await.unwrap()[0].context, "boom");
}

/// Text a bulk copy or a JSON array gives a meaning to (tab, newline,
/// carriage return, backslash, `\N`, `\.`, quotes) and text beyond ASCII
/// comes back as given, whether the value is new in its chunk (copied
/// straight into the tables on PostgreSQL) or stated again (merged through
/// the staging table).
async fn text_comes_back_as_given_new_or_stated_again(db: TestDb) {
    let store = &db.store;
    let awkward = [
        "tab\there",
        "line one\nline two\r\nthree",
        "back\\slash \\N \\. \\t",
        "\\N",
        "\\.",
        "quotes ' \" `",
        "恶意域名 — ünïcödé 🦀",
    ];
    let statement = |n: usize, text: &str, tag: &str| {
        let mut i = ind(K::Domain, &format!("t{n}.text.example"));
        i.context = text.to_owned();
        i.external_id = Some(format!("ext\t{text}"));
        i.tags = vec![format!("{tag}\\{n}"), "标签".into()];
        i.confidence = Some(60);
        i
    };
    let first: Vec<Indicator> = awkward.iter().enumerate().map(|(n, t)| statement(n, t, "a")).collect();
    let counts = import(&db, "feed\\a", Category::Other, first).await;
    assert_eq!((counts.accepted, counts.updated), (awkward.len() as u64, 0));
    // The same values from another source: existing ones, merged.
    let again: Vec<Indicator> = awkward.iter().enumerate().map(|(n, t)| statement(n, &format!("{t}|b"), "b")).collect();
    let counts = import(&db, "feed \"b\"", Category::Other, again).await;
    assert_eq!((counts.accepted, counts.updated), (0, awkward.len() as u64));

    for (n, text) in awkward.iter().enumerate() {
        let stored = store.intel_indicator_by_value(K::Domain, &format!("t{n}.text.example")).await.unwrap().unwrap();
        assert_eq!(stored.sources, 2);
        let prov = store.intel_provenance(stored.id).await.unwrap();
        let a = prov.iter().find(|p| p.source == "feed\\a").expect("feed\\a's statement");
        assert_eq!(a.context, *text);
        assert_eq!(a.external_id, format!("ext\t{text}"));
        let mut tags = vec![format!("a\\{n}"), "标签".to_owned()];
        tags.sort_unstable();
        assert_eq!(a.tags, tags);
        let b = prov.iter().find(|p| p.source == "feed \"b\"").expect("feed \"b\"'s statement");
        assert_eq!(b.context, format!("{text}|b"));
    }
}

/// PostgreSQL's text cannot hold a NUL character: a chunk with one is
/// refused, naming the field, before anything is written. SQLite stores it.
async fn nul_in_text(db: TestDb) {
    let store = &db.store;
    let run = store.intel_import_begin(&actor("alice"), "feed", "stix", "f.json").await.unwrap();
    let mut with_nul = ind(K::Domain, "nul.text.example");
    with_nul.context = "before\0after".into();
    let chunk = vec![ind(K::Domain, "fine.text.example"), with_nul];
    let result = store.intel_import_chunk(run, "feed", Category::Other, chunk, &[]).await;
    match db.backend() {
        anbao_store::Backend::Postgres => {
            let message = result.as_ref().map_err(ToString::to_string).unwrap_err().clone();
            assert!(message.contains("NUL") && message.contains("nul.text.example"), "{message}");
            assert_invalid(result, "context");
            assert_eq!(store.intel_count(&IndicatorFilter::default()).await.unwrap(), 0, "nothing of the chunk");
        }
        anbao_store::Backend::Sqlite => {
            assert_eq!(result.unwrap().accepted, 2);
            let stored = store.intel_indicator_by_value(K::Domain, "nul.text.example").await.unwrap().unwrap();
            assert_eq!(store.intel_provenance(stored.id).await.unwrap()[0].context, "before\0after");
        }
    }
}

/// On PostgreSQL new values are copied under ids reserved from the
/// indicator sequence. When ids or values were taken from outside the
/// store (here: the sequence set back, so the reserved ids are in use),
/// the copy fails and the chunk is written the staged way instead, whole
/// and with the right counts.
async fn ids_taken_from_outside_the_store(db: TestDb) {
    let store = &db.store;
    let first: Vec<Indicator> = (0..5).map(|n| ind(K::Domain, &format!("o{n}.outside.example"))).collect();
    let counts = import(&db, "feed", Category::Spam, first).await;
    assert_eq!((counts.accepted, counts.updated), (5, 0));
    if db.backend() == anbao_store::Backend::Postgres {
        store.execute_raw("SELECT setval(pg_get_serial_sequence('intel_indicators', 'id'), 1)").await.unwrap();
    }
    let mut second: Vec<Indicator> = (3..10).map(|n| ind(K::Domain, &format!("o{n}.outside.example"))).collect();
    second[0].confidence = Some(80);
    let counts = import(&db, "other", Category::Spam, second).await;
    assert_eq!((counts.accepted, counts.updated), (5, 2));
    assert_eq!(store.intel_count(&IndicatorFilter::default()).await.unwrap(), 10);
    let o3 = store.intel_indicator_by_value(K::Domain, "o3.outside.example").await.unwrap().unwrap();
    assert_eq!((o3.sources, o3.confidence), (2, Some(80)));
    for n in 5..10 {
        let stored =
            store.intel_indicator_by_value(K::Domain, &format!("o{n}.outside.example")).await.unwrap().unwrap();
        let prov = store.intel_provenance(stored.id).await.unwrap();
        assert_eq!((prov.len(), prov[0].source.as_str()), (1, "other"), "o{n}");
    }
}

/// The search ignores the case of ASCII letters on both backends, and on
/// PostgreSQL of other letters too: the value column compares byte-wise
/// (COLLATE "C"), but the search still lowers by the database's rules, as
/// it did before (SQLite's LOWER changes ASCII letters only).
async fn search_ignores_case(db: TestDb) {
    let store = &db.store;
    let counts = import(&db, "feed", Category::Phishing, vec![ind(K::Email, "ÜNAL.Kaya@mail.example")]).await;
    assert_eq!(counts.accepted, 1);
    let q = |q: &str| IndicatorFilter { q: Some(q.into()), ..IndicatorFilter::default() };
    assert_eq!(store.intel_count(&q("kaya@")).await.unwrap(), 1, "ASCII letters, either backend");
    if db.backend() == anbao_store::Backend::Postgres {
        assert_eq!(store.intel_count(&q("ünal")).await.unwrap(), 1, "lowered by the database's collation");
    }
}
