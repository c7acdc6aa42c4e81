//! MISP JSON inputs (events, manifests, feed descriptions, warninglists):
//! never panics; every indicator is in normal form; the summary counts
//! what reached the sink; allowlist lookups of what was read never panic.
#![no_main]

use anbao_intel::allowlist::{AllowlistBuilder, Warninglist};
use anbao_intel::misp::{FeedDescription, MispOptions, read_described, read_event, read_manifest};
use anbao_intel::{Collected, normalize};
use libfuzzer_sys::fuzz_target;

fn check_normal(c: &Collected) {
    for i in &c.indicators {
        assert_eq!(
            normalize(i.kind, &i.value).as_ref(),
            Ok(&i.value),
            "{} {:?} is not in normal form",
            i.kind,
            i.value
        );
    }
}

fuzz_target!(|data: &[u8]| {
    for include_non_ids in [false, true] {
        let mut c = Collected::default();
        if let Ok(s) = read_event(data, &MispOptions { include_non_ids }, &mut c) {
            assert_eq!(s.indicators, c.indicators.len() as u64);
            assert_eq!(s.rejected, c.rejected.len() as u64);
            let skipped: u64 = s.skipped_by_type.values().sum();
            assert!(s.deleted + skipped + s.not_to_ids <= s.attributes, "{s:?}");
            check_normal(&c);
        }
    }
    let _ = read_manifest(data);
    if let Ok(desc) = FeedDescription::from_json(data) {
        let mut c = Collected::default();
        let _ = read_described(&String::from_utf8_lossy(data), &desc, &mut c);
        check_normal(&c);
    }
    let _ = FeedDescription::list_from_json(data);
    if let Ok(wl) = Warninglist::from_json(data) {
        let mut b = AllowlistBuilder::new();
        let _ = b.add_warninglist(&wl);
        let a = b.build();
        for e in wl.entries.iter().take(64) {
            if let Some(kind) = anbao_intel::detect_kind(e) {
                if let Ok(v) = normalize(kind, e) {
                    let _ = a.allows(kind, &v);
                }
            }
        }
    }
});
