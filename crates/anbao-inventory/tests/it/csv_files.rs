use anbao_inventory::{ColumnMapping, TextEncoding, csv_headers, parse_assets_csv, parse_assets_csv_auto};

use crate::{error_places, test_data};

fn utf16(text: &str, little_endian: bool) -> Vec<u8> {
    let mut out = if little_endian { vec![0xFF, 0xFE] } else { vec![0xFE, 0xFF] };
    for unit in text.encode_utf16() {
        out.extend(if little_endian { unit.to_le_bytes() } else { unit.to_be_bytes() });
    }
    out
}

#[test]
fn chinese_headers_in_every_encoding_give_the_same_rows() {
    let utf8 = test_data("assets_zh.csv");
    let p = parse_assets_csv_auto(&utf8).unwrap();
    assert_eq!(p.encoding, TextEncoding::Utf8);
    assert_eq!(p.errors, []);
    assert_eq!(p.ignored_columns, Vec::<String>::new());
    let summary: Vec<(usize, &str, &str, usize)> = p
        .rows
        .iter()
        .map(|r| (r.line, r.draft.external_id.as_str(), r.draft.responsible_person.as_str(), r.components.len()))
        .collect();
    assert_eq!(summary, [(2, "GD-0001", "张伟", 1), (3, "GD-0002", "王芳", 2), (5, "GD-0003", "王芳", 1)]);
    let router = &p.rows[1];
    assert_eq!(router.draft.attributes.get("vendor").map(String::as_str), Some("华为"));
    assert_eq!(router.draft.attributes.get("model").map(String::as_str), Some("NE40E"));
    assert_eq!(router.components[1].product, "OpenSSH");
    assert_eq!(router.components[1].cpe, "cpe:2.3:a:openbsd:openssh:8.9p1:*:*:*:*:*:*:*");
    assert_eq!(p.rows[2].draft.name, "权威DNS服务器（主）");

    let gbk = test_data("assets_zh_gbk.csv");
    assert!(std::str::from_utf8(&gbk).is_err(), "the GBK file must not be valid UTF-8");
    let g = parse_assets_csv_auto(&gbk).unwrap();
    assert_eq!(g.encoding, TextEncoding::Gb18030);
    assert_eq!(g.errors, []);
    assert_eq!(g.rows, p.rows);

    let text = String::from_utf8(utf8).unwrap();
    let mut bom = b"\xEF\xBB\xBF".to_vec();
    bom.extend(text.as_bytes());
    for (bytes, encoding) in [
        (bom, TextEncoding::Utf8Bom),
        (utf16(&text, true), TextEncoding::Utf16Le),
        (utf16(&text.replace(',', "\t"), true), TextEncoding::Utf16Le),
        (utf16(&text, false), TextEncoding::Utf16Be),
    ] {
        let q = parse_assets_csv_auto(&bytes).unwrap();
        assert_eq!((q.encoding, &q.errors, &q.rows), (encoding, &p.errors, &p.rows));
    }
}

#[test]
fn missing_person_and_duplicate_id_are_reported_by_line_and_field() {
    let p = parse_assets_csv_auto(&test_data("missing_person_dup_id.csv")).unwrap();
    assert_eq!(error_places(&p), [(3, Some("responsible_person")), (5, Some("external_id"))]);
    assert_eq!(p.errors[0].message, "is required (column \"责任人\")");
    assert_eq!(p.errors[1].message, "external_id \"GD-0001\" is already used on line 2");
    let lines: Vec<usize> = p.rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, [2, 6]);
}

#[test]
fn broken_quoting_is_reported_with_its_line() {
    let p = parse_assets_csv_auto(&test_data("broken_quoting.csv")).unwrap();
    assert_eq!(error_places(&p), [(3, None), (4, None), (5, Some("name")), (7, None)]);
    assert!(p.errors[0].message.contains("after the closing quote"), "{}", p.errors[0].message);
    assert!(p.errors[1].message.contains("quote inside unquoted column 2"), "{}", p.errors[1].message);
    assert!(p.errors[2].message.contains("control characters"), "{}", p.errors[2].message);
    assert!(p.errors[3].message.contains("opened on line 7 is never closed"), "{}", p.errors[3].message);
    assert_eq!(p.rows.iter().map(|r| r.line).collect::<Vec<_>>(), [2]);
}

#[test]
fn an_explicit_mapping_for_foreign_headers() {
    let text = "Hostname;Kind;Unit;Dept;Owner;Site\nfw1;device;GD;GD-NOC;王芳;B1-3F\n";
    let (encoding, headers) = csv_headers(text.as_bytes()).unwrap();
    assert_eq!(encoding, TextEncoding::Utf8);
    assert_eq!(headers, ["Hostname", "Kind", "Unit", "Dept", "Owner", "Site"]);
    let mapping = ColumnMapping::new()
        .with("name", "Hostname")
        .with("asset_type", "Kind")
        .with("org_unit", "Unit")
        .with("responsible_department", "Dept")
        .with("responsible_person", "Owner")
        .with("attr.location", "Site");
    let p = parse_assets_csv(text.as_bytes(), &mapping).unwrap();
    assert_eq!(p.errors, []);
    assert_eq!(p.rows[0].draft.attributes.get("location").map(String::as_str), Some("B1-3F"));
}

#[test]
fn undecodable_files_are_rejected_with_the_offset() {
    let err = parse_assets_csv_auto(b"name,asset_type\r\n\xFF\xFE\xFD").unwrap_err();
    assert_eq!(
        err.to_string(),
        "not UTF-8 (invalid byte at offset 17) and not GB18030/GBK (invalid byte at offset 17); save the file as UTF-8"
    );
}
