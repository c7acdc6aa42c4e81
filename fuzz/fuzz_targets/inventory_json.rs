//! JSON asset import: never panics; what parsed survives export → parse.
#![no_main]

use anbao_inventory::{assets_to_json, parse_assets_json};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(parsed) = parse_assets_json(data) {
        let json = assets_to_json(parsed.rows.iter().map(|r| (&r.draft, r.components.as_slice())));
        let again = parse_assets_json(&json).expect("our own export parses");
        assert!(again.errors.is_empty(), "our own export has errors: {:?}", again.errors);
        let before: Vec<_> = parsed.rows.iter().map(|r| (&r.draft, &r.components)).collect();
        let after: Vec<_> = again.rows.iter().map(|r| (&r.draft, &r.components)).collect();
        assert_eq!(before, after, "export -> parse changed the rows");
    }
});
