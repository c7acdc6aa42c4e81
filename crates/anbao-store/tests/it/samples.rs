//! The malware sample library: content-addressed samples, their hash
//! indicators, audited downloads, integrity on read.

use anbao_intel::{Category, IndicatorKind};
use anbao_store::{SampleDraft, StoreError};

use crate::harness::*;

on_both_backends! {
    samples_are_stored_once_with_their_hash_indicators => samples_are_stored_once_with_their_hash_indicators_sqlite, samples_are_stored_once_with_their_hash_indicators_postgres;
    sample_downloads_are_audited_and_checked => sample_downloads_are_audited_and_checked_sqlite, sample_downloads_are_audited_and_checked_postgres;
}

const ELF: &[u8] = b"\x7fELF\x02\x01\x01\0mirai-like payload";

async fn samples_are_stored_once_with_their_hash_indicators(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let draft = SampleDraft { file_name: "bot.arm7".into(), family: "Mirai".into(), ..SampleDraft::default() };
    let (s, created) = store.add_sample(&alice, ELF, &draft).await.unwrap();
    assert!(created);
    assert_eq!((s.file_type.as_str(), s.size, s.family.as_str()), ("elf", ELF.len() as i64, "Mirai"));
    assert_eq!(s.sha256.len(), 64);
    assert_eq!(s.indicator_ids.len(), 3, "md5, sha1 and sha256 indicators");
    assert_audited(store, "alice", "intel.import", "intel_import", store.intel_import_runs(1).await.unwrap()[0].id)
        .await;
    let sha = store.intel_indicator_by_value(IndicatorKind::Sha256, &s.sha256).await.unwrap().unwrap();
    assert_eq!(sha.category, Category::Trojan);
    let prov = store.intel_provenance(sha.id).await.unwrap();
    assert_eq!(prov[0].source, "sample-library");
    assert_eq!(prov[0].tags, ["family:Mirai"]);
    assert_eq!(store.samples_of_indicator(sha.id).await.unwrap()[0].id, s.id);

    // The same bytes again: the same sample, family kept when not given.
    let (again, created) = store
        .add_sample(&alice, ELF, &SampleDraft { notes: "seen again".into(), ..SampleDraft::default() })
        .await
        .unwrap();
    assert!(!created);
    assert_eq!((again.id, again.family.as_str(), again.notes.as_str()), (s.id, "Mirai", "seen again"));

    let apk_like = b"dex\n035\0classes";
    let (apk, _) = store.add_sample(&alice, apk_like, &SampleDraft::default()).await.unwrap();
    let md5 = store.intel_indicator_by_value(IndicatorKind::Md5, &apk.md5).await.unwrap().unwrap();
    assert_eq!(md5.category, Category::MobileMalware, "DEX files are mobile malware by default");

    assert_eq!(store.samples(Some(&s.sha256[..12]), 10).await.unwrap().len(), 1, "by hash prefix");
    assert_eq!(store.samples(Some("mirai"), 10).await.unwrap().len(), 1, "by family, any case");
    assert_eq!(store.samples(Some("%"), 10).await.unwrap().len(), 0, "LIKE wildcards are literal");
    assert_eq!(store.samples(None, 10).await.unwrap().len(), 2);
    assert_eq!(store.sample_counts().await.unwrap(), (2, 1), "two samples, the DEX one mobile");

    for (bytes, draft) in [
        (&b""[..], SampleDraft::default()),
        (ELF, SampleDraft { family: "x\u{7}".into(), ..SampleDraft::default() }),
        (ELF, SampleDraft { file_name: "n".repeat(300), ..SampleDraft::default() }),
    ] {
        assert!(matches!(store.add_sample(&alice, bytes, &draft).await, Err(StoreError::Invalid(_))));
    }
    store.delete_sample(&alice, apk.id).await.unwrap();
    assert_audited(store, "alice", "intel.sample.delete", "sample", apk.id).await;
    assert!(matches!(store.sample(apk.id).await, Err(StoreError::NotFound { .. })));
    assert!(store.intel_indicator(md5.id).await.is_ok(), "its indicators stay");
}

async fn sample_downloads_are_audited_and_checked(db: TestDb) {
    let store = &db.store;
    let (s, _) = store.add_sample(&actor("alice"), ELF, &SampleDraft::default()).await.unwrap();
    let (meta, bytes) = store.sample_content(&actor("bob"), s.id).await.unwrap();
    assert_eq!((meta.id, bytes.as_slice()), (s.id, ELF));
    assert_audited(store, "bob", "intel.sample.download", "sample", s.id).await;

    let blob = if db.backend() == anbao_store::Backend::Postgres { "'\\x00'::bytea" } else { "X'00'" };
    store.execute_raw(&format!("UPDATE intel_samples SET content = {blob} WHERE id = {}", s.id)).await.unwrap();
    assert!(matches!(store.sample_content(&actor("bob"), s.id).await, Err(StoreError::Corrupt(_))));
}
