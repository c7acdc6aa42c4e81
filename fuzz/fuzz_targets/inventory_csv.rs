//! CSV asset import: any bytes, with the default mapping and with a fixed
//! one, must give a result or an error, never a panic; and what parsed
//! must survive export → parse unchanged.
#![no_main]

use anbao_inventory::{ColumnMapping, ImportLimits, assets_to_csv, parse_assets_csv_auto, parse_assets_csv_with};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let limits = ImportLimits { max_rows: 1000, max_field_len: 4096, max_errors: 1000 };
    let mapping = ColumnMapping::new()
        .with("name", "name")
        .with("asset_type", "type")
        .with("org_unit", "unit")
        .with("responsible_department", "dept")
        .with("responsible_person", "person")
        .with("attr.vendor", "vendor")
        .with("component.product", "product");
    let _ = parse_assets_csv_with(data, &mapping, &limits);
    if let Ok(parsed) = parse_assets_csv_auto(data) {
        let csv = assets_to_csv(parsed.rows.iter().map(|r| (&r.draft, r.components.as_slice())));
        let again = parse_assets_csv_auto(&csv).expect("our own export decodes");
        assert!(again.errors.is_empty(), "our own export has errors: {:?}", again.errors);
        let before: Vec<_> = parsed.rows.iter().map(|r| (&r.draft, &r.components)).collect();
        let after: Vec<_> = again.rows.iter().map(|r| (&r.draft, &r.components)).collect();
        assert_eq!(before, after, "export -> parse changed the rows");
    }
});
