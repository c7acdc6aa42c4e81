//! The result of reading an asset list, whatever its format: the rows that
//! passed every check, and every error found, by line and field.

use std::collections::HashMap;

use anbao_model::asset::{AssetDraft, AssetType, ComponentDraft};

use crate::text::{DecodeError, TextEncoding};

/// Limits that keep a hostile or mistaken upload from costing unbounded
/// memory or time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImportLimits {
    /// Data rows (CSV records after the header, JSON array items) read at
    /// most; beyond that reading stops with an error.
    pub max_rows: usize,
    /// Longest field in bytes; a longer one is an error (its text is not
    /// kept).
    pub max_field_len: usize,
    /// Errors collected at most; beyond that reading stops with one last
    /// error saying so.
    pub max_errors: usize,
}

impl Default for ImportLimits {
    fn default() -> Self {
        ImportLimits { max_rows: 1_000_000, max_field_len: 64 * 1024, max_errors: 10_000 }
    }
}

/// Why a whole file was rejected (row-level problems are [`RowError`]s).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// JSON syntax error.
    #[error("JSON syntax error at line {line}, column {column}: {message}")]
    Json { line: usize, column: usize, message: String },
    /// The JSON document is not an array of assets.
    #[error("expected a JSON array of assets, found {found}")]
    NotAnArray { found: &'static str },
}

/// An asset read from a file, with its inventory lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedRow {
    /// Where it came from: the 1-based line of a CSV file (the header is
    /// line 1 when it is the first line), or the 1-based item of a JSON array.
    pub line: usize,
    pub draft: AssetDraft,
    pub components: Vec<ComponentDraft>,
}

/// Something wrong with one line (CSV) or item (JSON).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowError {
    /// 1-based CSV line (the header's line for header problems) or JSON item.
    pub line: usize,
    /// The field at fault, by our name (`responsible_person`, `attr.vendor`,
    /// `component.cpe`; in JSON `components[0].cpe`), when there is one.
    pub field: Option<String>,
    pub message: String,
}

/// What reading an asset list gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportParse {
    /// The encoding the file was read in.
    pub encoding: TextEncoding,
    /// The assets that passed every check ([`AssetDraft::check`] and
    /// [`ComponentDraft::check`], unique `external_id`); a row with any
    /// error is left out.
    pub rows: Vec<ParsedRow>,
    /// Every problem found, in file order.
    pub errors: Vec<RowError>,
    /// CSV headers that map to no field and were ignored (empty for JSON).
    pub ignored_columns: Vec<String>,
}

impl ImportParse {
    pub(crate) fn new(encoding: TextEncoding) -> Self {
        ImportParse { encoding, rows: Vec::new(), errors: Vec::new(), ignored_columns: Vec::new() }
    }
}

/// Collects errors up to the limit.
pub(crate) struct Errors {
    pub list: Vec<RowError>,
    max: usize,
    full: bool,
}

impl Errors {
    pub fn new(max: usize) -> Self {
        Errors { list: Vec::new(), max: max.max(1), full: false }
    }

    pub fn push(&mut self, line: usize, field: Option<String>, message: impl Into<String>) {
        if self.full {
            return;
        }
        if self.list.len() + 1 >= self.max {
            self.list.push(RowError {
                line,
                field: None,
                message: format!("more than {} errors; stopped reading here", self.max - 1),
            });
            self.full = true;
            return;
        }
        self.list.push(RowError { line, field, message: message.into() });
    }

    /// True once the limit was reached: stop reading.
    pub fn full(&self) -> bool {
        self.full
    }
}

/// A field problem found by the model's checks, by model field name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldProblem {
    /// `name`, `responsible_person`, or `attr.<key>` for an attribute.
    pub field: String,
    pub reason: String,
}

/// Runs [`AssetDraft::check`] until every faulty field is found: the check
/// stops at the first fault, so each faulty field is replaced by a valid
/// stand-in and the check repeated. Attributes are checked one by one
/// against the asset type.
pub(crate) fn asset_problems(draft: &AssetDraft) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    let mut d = draft.clone();
    d.attributes.clear();
    for _ in 0..=ASSET_FIX_ROUNDS {
        let Err(e) = d.check() else { break };
        problems.push(FieldProblem { field: e.field.to_owned(), reason: e.reason });
        let stand_in = "x".to_owned();
        match e.field {
            "name" => d.name = stand_in,
            "org_unit" => d.org_unit = stand_in,
            "responsible_department" => d.responsible_department = stand_in,
            "responsible_person" => d.responsible_person = stand_in,
            "asset_type" => d.asset_type = AssetType::Network.as_str().to_owned(),
            "external_id" => d.external_id.clear(),
            "identifier" => d.identifier.clear(),
            "operator_contact" => d.operator_contact.clear(),
            "oncall_phone" => d.oncall_phone.clear(),
            "lifecycle" => d.lifecycle.clear(),
            "criticality" => d.criticality.clear(),
            _ => break,
        }
    }
    if let Ok(asset_type) = draft.asset_type.parse::<AssetType>() {
        for (key, value) in &draft.attributes {
            let probe = AssetDraft {
                name: "x".into(),
                asset_type: asset_type.as_str().into(),
                org_unit: "x".into(),
                responsible_department: "x".into(),
                responsible_person: "x".into(),
                attributes: [(key.clone(), value.clone())].into(),
                ..AssetDraft::default()
            };
            if let Err(e) = probe.check() {
                problems.push(FieldProblem { field: format!("attr.{key}"), reason: e.reason });
            }
        }
    }
    problems
}

/// One more round than there are fields, so the loop always ends.
const ASSET_FIX_ROUNDS: usize = 12;

/// [`ComponentDraft::check`], every faulty field (as for assets).
pub(crate) fn component_problems(component: &ComponentDraft) -> Vec<FieldProblem> {
    let mut problems = Vec::new();
    let mut c = component.clone();
    for _ in 0..=8 {
        let Err(e) = c.check() else { break };
        problems.push(FieldProblem { field: e.field.to_owned(), reason: e.reason });
        match e.field {
            "product" => c.product = "x".into(),
            "kind" => c.kind.clear(),
            "vendor" => c.vendor.clear(),
            "version" => c.version.clear(),
            "cpe" => c.cpe.clear(),
            "purl" => c.purl.clear(),
            "end_of_support" => c.end_of_support.clear(),
            _ => break,
        }
    }
    problems
}

/// Remembers where each `external_id` was first seen.
#[derive(Default)]
pub(crate) struct SeenIds {
    first: HashMap<String, usize>,
}

impl SeenIds {
    /// Records `id` (trimmed; empty ids are not tracked) at `line`; returns
    /// the earlier line if it was seen before.
    pub fn check(&mut self, id: &str, line: usize) -> Option<usize> {
        let id = id.trim();
        if id.is_empty() {
            return None;
        }
        match self.first.get(id) {
            Some(&first) => Some(first),
            None => {
                self.first.insert(id.to_owned(), line);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_faulty_field_is_found() {
        let draft = AssetDraft {
            name: String::new(),
            asset_type: "server".into(),
            org_unit: "GD".into(),
            responsible_department: String::new(),
            responsible_person: String::new(),
            lifecycle: "dead".into(),
            oncall_phone: "1\u{7}".into(),
            ..AssetDraft::default()
        };
        let fields: Vec<String> = asset_problems(&draft).into_iter().map(|p| p.field).collect();
        assert_eq!(
            fields,
            ["name", "asset_type", "responsible_department", "responsible_person", "oncall_phone", "lifecycle"]
        );
    }

    #[test]
    fn attributes_are_checked_one_by_one() {
        let draft = AssetDraft {
            name: "官网".into(),
            asset_type: "website".into(),
            org_unit: "GD".into(),
            responsible_department: "GD-SEC".into(),
            responsible_person: "张伟".into(),
            attributes: [
                ("url".to_owned(), "https://example.cn".to_owned()),
                ("registrar".to_owned(), "x".to_owned()),
                ("hosting".to_owned(), "a\u{0}".to_owned()),
            ]
            .into(),
            ..AssetDraft::default()
        };
        let fields: Vec<String> = asset_problems(&draft).into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["attr.hosting", "attr.registrar"]);
        let mut ok = draft.clone();
        ok.attributes.retain(|k, _| k == "url");
        assert!(asset_problems(&ok).is_empty());
    }

    #[test]
    fn component_faults() {
        let c = ComponentDraft {
            kind: "gadget".into(),
            cpe: "cpe:/a:x:y".into(),
            end_of_support: "soon".into(),
            ..ComponentDraft::default()
        };
        let fields: Vec<String> = component_problems(&c).into_iter().map(|p| p.field).collect();
        assert_eq!(fields, ["product", "kind", "cpe", "end_of_support"]);
    }

    #[test]
    fn error_limit() {
        let mut e = Errors::new(3);
        for line in 1..10 {
            e.push(line, None, "bad");
        }
        assert!(e.full());
        assert_eq!(e.list.len(), 3);
        assert!(e.list[2].message.contains("more than 2 errors"));
    }
}
