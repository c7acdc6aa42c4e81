use anbao_inventory::{TextEncoding, parse_assets_json};

use crate::{error_places, test_data};

#[test]
fn good_json() {
    let p = parse_assets_json(&test_data("assets_good.json")).unwrap();
    assert_eq!(p.encoding, TextEncoding::Utf8);
    assert_eq!(p.errors, []);
    assert_eq!(p.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [1, 2]);
    assert_eq!(p.rows[0].components[0].cpe, "cpe:2.3:a:nginx:nginx:1.24.0:*:*:*:*:*:*:*");
    assert_eq!(p.rows[1].draft.attributes.len(), 2);
}

#[test]
fn bad_json() {
    let p = parse_assets_json(&test_data("assets_bad.json")).unwrap();
    assert_eq!(
        error_places(&p),
        [
            (1, Some("owner")),
            (2, Some("asset_type")),
            (2, Some("responsible_person")),
            (2, Some("external_id")),
            (2, Some("components[0].cpe")),
            (3, None),
        ]
    );
    let messages: Vec<&str> = p.errors.iter().map(|e| e.message.as_str()).collect();
    assert!(messages[0].starts_with("item 1: unknown field \"owner\""), "{}", messages[0]);
    assert!(messages[3].contains("item 2: external_id \"GD-0001\" is already used by item 1"), "{}", messages[3]);
    assert!(messages[4].starts_with("item 2: components[0].cpe: "), "{}", messages[4]);
    assert_eq!(messages[5], "item 3: expected an object, found a number");
    assert_eq!(p.rows, []);
}
