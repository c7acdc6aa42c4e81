//! STIX patterns: never panics; what parses prints back to the same AST;
//! lookups are in normal form.
#![no_main]

use anbao_intel::normalize;
use anbao_intel::stix::{lookups, parse};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let Ok(p) = parse(src) else { return };
    let printed = p.to_string();
    let again = parse(&printed).unwrap_or_else(|e| panic!("{src:?} printed as {printed:?} does not parse: {e}"));
    assert_eq!(p, again, "{src:?} printed as {printed:?}");
    assert_eq!(printed, again.to_string(), "printing is not stable");
    if let Ok(found) = lookups(&p) {
        for (kind, value) in &found.valid {
            assert_eq!(normalize(*kind, value).as_ref(), Ok(value), "{kind} {value:?} is not in normal form");
        }
    }
});
