//! Asset lists as JSON: an array of objects, each the fields of an
//! [`AssetDraft`] (`attributes` an object of strings) plus `components`, an
//! array of [`ComponentDraft`] objects. Errors name the item (1-based array
//! index, "item N") and the field; unknown fields are errors.

use anbao_model::asset::{AssetDraft, ComponentDraft};
use serde_json::{Map, Value};

use crate::import::{
    Errors, ImportError, ImportLimits, ImportParse, ParsedRow, SeenIds, asset_problems, component_problems,
};
use crate::mapping::{ASSET_FIELDS, ATTR_PREFIX, COMPONENT_FIELDS};
use crate::text::decode_text;

/// [`parse_assets_json_with`] with the default limits.
pub fn parse_assets_json(bytes: &[u8]) -> Result<ImportParse, ImportError> {
    parse_assets_json_with(bytes, &ImportLimits::default())
}

/// Reads a JSON array of assets (in any encoding [`decode_text`] detects).
/// The whole file is rejected when it cannot be decoded, is not JSON, or is
/// not an array; everything else is a [`RowError`](crate::RowError) whose
/// `line` is the 1-based item.
pub fn parse_assets_json_with(bytes: &[u8], limits: &ImportLimits) -> Result<ImportParse, ImportError> {
    let decoded = decode_text(bytes)?;
    let value: Value = serde_json::from_str(&decoded.text).map_err(|e| ImportError::Json {
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    })?;
    let Value::Array(items) = value else { return Err(ImportError::NotAnArray { found: kind(&value) }) };
    let mut out = ImportParse::new(decoded.encoding);
    let mut errors = Errors::new(limits.max_errors);
    let mut seen = SeenIds::default();
    for (index, item) in items.iter().enumerate() {
        let n = index + 1;
        if errors.full() {
            break;
        }
        if n > limits.max_rows {
            errors.push(n, None, format!("item {n}: more than {} items; stopped reading here", limits.max_rows));
            break;
        }
        let before = errors.list.len();
        let Some(row) = read_item(n, item, limits, &mut seen, &mut errors) else { continue };
        if errors.list.len() == before {
            out.rows.push(row);
        }
    }
    out.errors = errors.list;
    Ok(out)
}

fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A string value, or an error naming `field`.
fn string_of(n: usize, field: &str, v: &Value, limits: &ImportLimits, errors: &mut Errors) -> Option<String> {
    match v {
        Value::String(s) if s.len() > limits.max_field_len => {
            errors.push(
                n,
                Some(field.to_owned()),
                format!("item {n}: {field} is {} bytes long; at most {} are allowed", s.len(), limits.max_field_len),
            );
            None
        }
        Value::String(s) => Some(s.trim().to_owned()),
        other => {
            errors.push(n, Some(field.to_owned()), format!("item {n}: {field} must be a string, not {}", kind(other)));
            None
        }
    }
}

fn read_item(
    n: usize,
    item: &Value,
    limits: &ImportLimits,
    seen: &mut SeenIds,
    errors: &mut Errors,
) -> Option<ParsedRow> {
    let Value::Object(object) = item else {
        errors.push(n, None, format!("item {n}: expected an object, found {}", kind(item)));
        return None;
    };
    let mut draft = AssetDraft::default();
    // Known fields in a fixed order (so errors come in the same order
    // whatever order the object's keys had), then the unknown ones.
    for &field in ASSET_FIELDS {
        let Some(value) = object.get(field) else { continue };
        let slot = match field {
            "external_id" => &mut draft.external_id,
            "name" => &mut draft.name,
            "asset_type" => &mut draft.asset_type,
            "identifier" => &mut draft.identifier,
            "org_unit" => &mut draft.org_unit,
            "responsible_department" => &mut draft.responsible_department,
            "responsible_person" => &mut draft.responsible_person,
            "operator_contact" => &mut draft.operator_contact,
            "oncall_phone" => &mut draft.oncall_phone,
            "lifecycle" => &mut draft.lifecycle,
            "criticality" => &mut draft.criticality,
            _ => continue,
        };
        if let Some(s) = string_of(n, field, value, limits, errors) {
            *slot = s;
        }
    }
    if let Some(value) = object.get("attributes") {
        read_attributes(n, value, limits, &mut draft, errors);
    }
    let components = object.get("components").map(|v| read_components(n, v, limits, errors)).unwrap_or_default();
    for key in object.keys() {
        if !ASSET_FIELDS.contains(&key.as_str()) && key != "attributes" && key != "components" {
            errors.push(
                n,
                Some(key.clone()),
                format!(
                    "item {n}: unknown field {key:?} (fields: {}, attributes, components)",
                    ASSET_FIELDS.join(", ")
                ),
            );
        }
    }
    for p in asset_problems(&draft) {
        let field = match p.field.strip_prefix(ATTR_PREFIX) {
            Some(key) => format!("attributes.{key}"),
            None => p.field,
        };
        errors.push(n, Some(field.clone()), format!("item {n}: {field}: {}", p.reason));
    }
    if let Some(first) = seen.check(&draft.external_id, n) {
        errors.push(
            n,
            Some("external_id".into()),
            format!("item {n}: external_id {:?} is already used by item {first}", draft.external_id.trim()),
        );
    }
    for (j, c) in components.iter().enumerate() {
        for p in component_problems(c) {
            let field = format!("components[{j}].{}", p.field);
            errors.push(n, Some(field.clone()), format!("item {n}: {field}: {}", p.reason));
        }
    }
    Some(ParsedRow { line: n, draft, components })
}

fn read_attributes(n: usize, value: &Value, limits: &ImportLimits, draft: &mut AssetDraft, errors: &mut Errors) {
    let Value::Object(map) = value else {
        errors.push(
            n,
            Some("attributes".into()),
            format!("item {n}: attributes must be an object of strings, not {}", kind(value)),
        );
        return;
    };
    for (key, v) in map {
        let field = format!("attributes.{key}");
        if let Some(s) = string_of(n, &field, v, limits, errors)
            && !s.is_empty()
        {
            draft.attributes.insert(key.clone(), s);
        }
    }
}

fn read_components(n: usize, value: &Value, limits: &ImportLimits, errors: &mut Errors) -> Vec<ComponentDraft> {
    let Value::Array(items) = value else {
        errors.push(
            n,
            Some("components".into()),
            format!("item {n}: components must be an array of objects, not {}", kind(value)),
        );
        return Vec::new();
    };
    let mut out = Vec::new();
    for (j, item) in items.iter().enumerate() {
        let Value::Object(object) = item else {
            let field = format!("components[{j}]");
            errors.push(n, Some(field.clone()), format!("item {n}: {field} must be an object, not {}", kind(item)));
            continue;
        };
        out.push(read_component(n, j, object, limits, errors));
    }
    out
}

fn read_component(
    n: usize,
    j: usize,
    object: &Map<String, Value>,
    limits: &ImportLimits,
    errors: &mut Errors,
) -> ComponentDraft {
    let mut c = ComponentDraft::default();
    for &key in COMPONENT_FIELDS {
        let Some(value) = object.get(key) else { continue };
        let field = format!("components[{j}].{key}");
        let slot = match key {
            "kind" => &mut c.kind,
            "vendor" => &mut c.vendor,
            "product" => &mut c.product,
            "version" => &mut c.version,
            "cpe" => &mut c.cpe,
            "purl" => &mut c.purl,
            "end_of_support" => &mut c.end_of_support,
            _ => continue,
        };
        if let Some(s) = string_of(n, &field, value, limits, errors) {
            *slot = s;
        }
    }
    for key in object.keys().filter(|k| !COMPONENT_FIELDS.contains(&k.as_str())) {
        let field = format!("components[{j}].{key}");
        errors.push(
            n,
            Some(field.clone()),
            format!("item {n}: unknown field {field} (fields: {})", COMPONENT_FIELDS.join(", ")),
        );
    }
    c
}

fn component_json(c: &ComponentDraft) -> Value {
    let mut m = Map::new();
    for (k, v) in [
        ("kind", &c.kind),
        ("vendor", &c.vendor),
        ("product", &c.product),
        ("version", &c.version),
        ("cpe", &c.cpe),
        ("purl", &c.purl),
        ("end_of_support", &c.end_of_support),
    ] {
        m.insert(k.to_owned(), Value::String(v.clone()));
    }
    Value::Object(m)
}

/// The JSON object of one asset, as [`parse_assets_json`] reads it.
pub fn asset_to_json(draft: &AssetDraft, components: &[ComponentDraft]) -> Value {
    let mut m = Map::new();
    for (k, v) in [
        ("external_id", &draft.external_id),
        ("name", &draft.name),
        ("asset_type", &draft.asset_type),
        ("identifier", &draft.identifier),
        ("org_unit", &draft.org_unit),
        ("responsible_department", &draft.responsible_department),
        ("responsible_person", &draft.responsible_person),
        ("operator_contact", &draft.operator_contact),
        ("oncall_phone", &draft.oncall_phone),
        ("lifecycle", &draft.lifecycle),
        ("criticality", &draft.criticality),
    ] {
        m.insert(k.to_owned(), Value::String(v.clone()));
    }
    let attributes = draft.attributes.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    m.insert("attributes".into(), Value::Object(attributes));
    m.insert("components".into(), Value::Array(components.iter().map(component_json).collect()));
    Value::Object(m)
}

/// Writes assets as a pretty-printed JSON array (UTF-8, no byte-order mark)
/// with the field names [`parse_assets_json`] reads.
pub fn assets_to_json<'a, I>(rows: I) -> Vec<u8>
where
    I: IntoIterator<Item = (&'a AssetDraft, &'a [ComponentDraft])>,
{
    let array = Value::Array(rows.into_iter().map(|(d, c)| asset_to_json(d, c)).collect());
    let mut out = format!("{array:#}").into_bytes();
    out.push(b'\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn errs(p: &ImportParse) -> Vec<(usize, Option<&str>)> {
        p.errors.iter().map(|e| (e.line, e.field.as_deref())).collect()
    }

    #[test]
    fn items_and_fields_are_named() {
        let text = r#"[
            {"name": "a", "asset_type": "device", "org_unit": "GD", "responsible_department": "SEC",
             "responsible_person": "x", "colour": "red"},
            "not an object",
            {"name": 7, "asset_type": "device", "org_unit": "GD", "responsible_department": "SEC",
             "responsible_person": "x", "attributes": {"vendor": "Huawei", "icp_filing": "y"},
             "components": [{"product": "VRP", "edition": "x"}, 3]}
        ]"#;
        let p = parse_assets_json(text.as_bytes()).unwrap();
        assert_eq!(
            errs(&p),
            [
                (1, Some("colour")),
                (2, None),
                (3, Some("name")),
                (3, Some("components[0].edition")),
                (3, Some("components[1]")),
                (3, Some("name")),
                (3, Some("attributes.icp_filing")),
            ]
        );
        assert!(p.errors[2].message.contains("must be a string, not a number"));
        assert!(p.errors[0].message.starts_with("item 1: unknown field \"colour\""), "{}", p.errors[0].message);
        assert_eq!(p.rows, []);
    }

    #[test]
    fn whole_file_errors() {
        assert!(matches!(parse_assets_json(b"{\"a\": 1}"), Err(ImportError::NotAnArray { found: "an object" })));
        assert!(matches!(parse_assets_json(b"[1,"), Err(ImportError::Json { line: 1, .. })));
        let deep = "[".repeat(10_000);
        assert!(matches!(parse_assets_json(deep.as_bytes()), Err(ImportError::Json { .. })));
    }

    #[test]
    fn limits() {
        let item = r#"{"name": "a", "asset_type": "device", "org_unit": "GD", "responsible_department": "SEC",
             "responsible_person": "x"}"#;
        let text = format!("[{item},{item},{item}]");
        let p =
            parse_assets_json_with(text.as_bytes(), &ImportLimits { max_rows: 2, ..ImportLimits::default() }).unwrap();
        assert_eq!(errs(&p), [(3, None)]);
        assert_eq!(p.rows.len(), 2);
        let p = parse_assets_json_with(text.as_bytes(), &ImportLimits { max_field_len: 1, ..ImportLimits::default() })
            .unwrap();
        assert_eq!(
            errs(&p)[..3],
            [(1, Some("asset_type")), (1, Some("org_unit")), (1, Some("responsible_department"))]
        );
    }
}
