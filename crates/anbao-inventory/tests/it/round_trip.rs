//! Export → parse gives back the same drafts.

use anbao_inventory::{assets_to_csv, assets_to_json, parse_assets_csv_auto, parse_assets_json};
use anbao_model::asset::{AssetDraft, ComponentDraft};

use crate::test_data;

fn drafts(p: &anbao_inventory::ImportParse) -> Vec<(AssetDraft, Vec<ComponentDraft>)> {
    p.rows.iter().map(|r| (r.draft.clone(), r.components.clone())).collect()
}

fn both_ways(original: &[(AssetDraft, Vec<ComponentDraft>)]) {
    let pairs = || original.iter().map(|(d, c)| (d, c.as_slice()));
    let csv = assets_to_csv(pairs());
    let back = parse_assets_csv_auto(&csv).unwrap();
    assert_eq!(back.errors, [], "{}", String::from_utf8_lossy(&csv));
    assert_eq!(drafts(&back), original, "{}", String::from_utf8_lossy(&csv));
    let json = assets_to_json(pairs());
    let back = parse_assets_json(&json).unwrap();
    assert_eq!(back.errors, [], "{}", String::from_utf8_lossy(&json));
    assert_eq!(drafts(&back), original);
}

#[test]
fn test_data_round_trips() {
    let csv = parse_assets_csv_auto(&test_data("assets_zh.csv")).unwrap();
    let json = parse_assets_json(&test_data("assets_good.json")).unwrap();
    assert_eq!(csv.errors, []);
    assert_eq!(json.errors, []);
    both_ways(&drafts(&csv));
    both_ways(&drafts(&json));
    let mut all = drafts(&csv);
    for (mut d, c) in drafts(&json) {
        d.external_id.push_str("-J");
        all.push((d, c));
    }
    both_ways(&all);
}

#[test]
fn awkward_values_round_trip() {
    let d = AssetDraft {
        external_id: "=1+1".into(),
        name: "a, \"quoted\" name; with\ttab? no: tab is control".replace('\t', " "),
        asset_type: "business_system".into(),
        identifier: "@host".into(),
        org_unit: "GD".into(),
        responsible_department: "-SEC".into(),
        responsible_person: "'张伟'".into(),
        operator_contact: "+86 20 1234".into(),
        oncall_phone: "'=not a guard".into(),
        lifecycle: "live".into(),
        criticality: "critical".into(),
        attributes: [("url".to_owned(), "https://x.cn/?a=1,b=2".to_owned()), ("mlps_level".into(), "3".into())].into(),
    };
    let components = vec![
        ComponentDraft { product: "Tomcat".into(), version: "9.0.80".into(), ..ComponentDraft::default() },
        ComponentDraft {
            kind: "os".into(),
            vendor: "Kylin".into(),
            product: "银河麒麟".into(),
            version: "V10 SP3".into(),
            purl: "pkg:generic/kylin@10".into(),
            end_of_support: "2030-12-31".into(),
            ..ComponentDraft::default()
        },
        ComponentDraft { product: "OpenSSL".into(), version: "3.0.11".into(), ..ComponentDraft::default() },
    ];
    let plain = AssetDraft {
        name: "no components".into(),
        asset_type: "network".into(),
        org_unit: "GD".into(),
        responsible_department: "SEC".into(),
        responsible_person: "x".into(),
        ..AssetDraft::default()
    };
    both_ways(&[(d, components), (plain.clone(), Vec::new())]);
    both_ways(&[(plain, Vec::new())]);
    both_ways(&[]);
}
