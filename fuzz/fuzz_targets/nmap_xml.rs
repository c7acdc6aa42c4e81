//! nmap XML: never panics, and every host converts to an asset; CPEs found
//! in the report either convert or are refused, without panicking.
#![no_main]

use anbao_inventory::{AssetDefaults, cpe22_to_cpe23, parse_nmap_xml};
use anbao_model::asset::check_cpe23;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(scan) = parse_nmap_xml(data) {
        let defaults = AssetDefaults {
            org_unit: "GD".into(),
            responsible_department: "GD-NOC".into(),
            responsible_person: "x".into(),
            ..AssetDefaults::default()
        };
        let _ = scan.to_import(&defaults);
        for host in &scan.hosts {
            for port in &host.ports {
                for cpe in &port.cpes {
                    if let Ok(fs) = cpe22_to_cpe23(cpe) {
                        assert!(check_cpe23(&fs).is_ok(), "{cpe} converted to invalid {fs}");
                    }
                }
            }
        }
    }
});
