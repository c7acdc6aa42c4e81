//! Golden files: every `test_data/<case>.{csv,json,xml}` is parsed and the
//! result rendered to text, compared with `<case>.expected` beside it.
//! `UPDATE_EXPECT=1` rewrites the expectations.

use std::fmt::Write as _;

use anbao_inventory::{AssetDefaults, ImportParse, parse_assets_csv_auto, parse_assets_json, parse_nmap_xml};

use crate::test_data_dir;

fn render_import(out: &mut String, p: &ImportParse) {
    let _ = writeln!(out, "encoding: {}", p.encoding);
    if !p.ignored_columns.is_empty() {
        let _ = writeln!(out, "ignored columns: {:?}", p.ignored_columns);
    }
    for e in &p.errors {
        let _ = writeln!(out, "error {} {}: {}", e.line, e.field.as_deref().unwrap_or("-"), e.message);
    }
    for r in &p.rows {
        let _ = writeln!(out, "row {}: {:#?}", r.line, r.draft);
        for c in &r.components {
            let _ = writeln!(out, "  component: {c:?}");
        }
    }
}

fn render(name: &str, bytes: &[u8]) -> String {
    let mut out = String::new();
    if name.ends_with(".csv") {
        match parse_assets_csv_auto(bytes) {
            Ok(p) => render_import(&mut out, &p),
            Err(e) => out = format!("rejected: {e}\n"),
        }
    } else if name.ends_with(".json") {
        match parse_assets_json(bytes) {
            Ok(p) => render_import(&mut out, &p),
            Err(e) => out = format!("rejected: {e}\n"),
        }
    } else {
        match parse_nmap_xml(bytes) {
            Ok(scan) => {
                let _ = writeln!(out, "{:#?}", scan.hosts);
                let defaults = AssetDefaults {
                    org_unit: "GD".into(),
                    responsible_department: "GD-NOC".into(),
                    responsible_person: "王芳".into(),
                    ..AssetDefaults::default()
                };
                render_import(&mut out, &scan.to_import(&defaults));
            }
            Err(e) => out = format!("rejected: {e}\n"),
        }
    }
    out
}

#[test]
fn golden_files() {
    let update = std::env::var_os("UPDATE_EXPECT").is_some();
    let mut names: Vec<String> = std::fs::read_dir(test_data_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".csv") || n.ends_with(".json") || n.ends_with(".xml"))
        .collect();
    names.sort();
    assert!(names.len() >= 7, "{names:?}");
    let mut failures = Vec::new();
    for name in names {
        let actual = render(&name, &crate::test_data(&name));
        let expected_path = test_data_dir().join(format!("{}.expected", name.rsplit_once('.').unwrap().0));
        if update {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if expected != actual {
            failures
                .push(format!("{name}: differs from {} (UPDATE_EXPECT=1 rewrites)\n{actual}", expected_path.display()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
