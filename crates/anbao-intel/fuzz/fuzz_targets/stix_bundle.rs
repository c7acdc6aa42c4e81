//! STIX bundles: never panics; what was read exports to a bundle that
//! reads back with the same lookups and nothing rejected.
#![no_main]

use anbao_intel::Collected;
use anbao_intel::stix::{ExportOptions, read_bundle, write_bundle};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut c = Collected::default();
    if read_bundle(data, &mut c).is_err() {
        return;
    }
    let now = time::OffsetDateTime::UNIX_EPOCH;
    let opts = ExportOptions::new("bundle--5d0092c5-5f74-4287-9642-33f4c354e56d", now);
    let (bytes, summary) = write_bundle(Vec::new(), opts, &c.indicators, &c.objects).expect("export to memory");
    let mut back = Collected::default();
    read_bundle(&bytes, &mut back).unwrap_or_else(|e| panic!("our own export does not read: {e}"));
    // Kept objects come back as they were (their own indicators included,
    // which may yield more lookups); our indicators come back as lookups.
    for o in &c.objects {
        assert!(back.objects.contains(o), "kept object {} changed", o.id);
    }
    let exported: Vec<_> = c
        .indicators
        .iter()
        .filter(|i| !summary.not_exportable.iter().any(|n| n.kind == i.kind && n.value == i.value))
        .collect();
    for i in exported {
        assert!(
            back.indicators
                .iter()
                .any(|b| b.kind == i.kind && b.value == i.value && b.category == i.category && b.tlp == i.tlp),
            "{:?} {:?} lost in export",
            i.kind,
            i.value
        );
    }
    assert!(back.not_matchable.len() == c.not_matchable.len(), "not-matchable changed");
});
