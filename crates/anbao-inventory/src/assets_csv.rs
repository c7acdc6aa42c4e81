//! Asset lists as CSV: reading a spreadsheet export through a
//! [`ColumnMapping`], and writing our own export that the default mapping
//! reads back.
//!
//! One asset per line. Its first inventory line (`component.*` columns) sits
//! on the asset's line; further ones follow on continuation lines whose
//! asset columns are all empty. Cells are trimmed. A cell that starts with
//! `=`, `+`, `-`, `@`, tab or carriage return is written with a leading `'`
//! so spreadsheets do not run it as a formula (CSV injection), and the `'` is
//! taken off again on reading (a value that itself starts with `'` and one
//! of those characters gets a second `'`, so it survives).

use std::collections::BTreeSet;

use anbao_model::asset::{AssetDraft, ComponentDraft};

use crate::csv_records::{Record, Records, sniff_delimiter};
use crate::import::{
    Errors, ImportError, ImportLimits, ImportParse, ParsedRow, SeenIds, asset_problems, component_problems,
};
use crate::mapping::{
    ASSET_FIELDS, ATTR_PREFIX, COMPONENT_FIELDS, COMPONENT_PREFIX, ColumnMapping, REQUIRED_FIELDS, is_known_field,
};
use crate::text::{TextEncoding, decode_text};

/// Reads the header line of a CSV file, so a caller can show the columns or
/// build [`ColumnMapping::default_for`]. Empty when the file has no line.
pub fn csv_headers(bytes: &[u8]) -> Result<(TextEncoding, Vec<String>), ImportError> {
    let decoded = decode_text(bytes)?;
    let delimiter = sniff_delimiter(&decoded.text);
    let header = Records::new(&decoded.text, delimiter, ImportLimits::default().max_field_len)
        .find(|r| !r.is_blank())
        .map(|r| r.fields.iter().map(|f| f.trim().to_owned()).collect())
        .unwrap_or_default();
    Ok((decoded.encoding, header))
}

/// [`parse_assets_csv_with`] with the default limits.
pub fn parse_assets_csv(bytes: &[u8], mapping: &ColumnMapping) -> Result<ImportParse, ImportError> {
    parse_assets_csv_with(bytes, mapping, &ImportLimits::default())
}

/// [`parse_assets_csv`] with the mapping guessed from the file's own header
/// by [`ColumnMapping::default_for`].
pub fn parse_assets_csv_auto(bytes: &[u8]) -> Result<ImportParse, ImportError> {
    let (_, headers) = csv_headers(bytes)?;
    parse_assets_csv(bytes, &ColumnMapping::default_for(&headers))
}

/// Reads an asset list from CSV bytes in any encoding [`decode_text`]
/// detects, delimited by comma, tab or semicolon (guessed from the header).
/// The first non-blank line is the header; `mapping` says which header holds
/// which field. The whole file is rejected only when it cannot be decoded;
/// everything else is a [`RowError`](crate::RowError) by line and field.
pub fn parse_assets_csv_with(
    bytes: &[u8],
    mapping: &ColumnMapping,
    limits: &ImportLimits,
) -> Result<ImportParse, ImportError> {
    let decoded = decode_text(bytes)?;
    let mut out = ImportParse::new(decoded.encoding);
    let mut errors = Errors::new(limits.max_errors);
    let delimiter = sniff_delimiter(&decoded.text);
    let mut records = Records::new(&decoded.text, delimiter, limits.max_field_len);

    let Some(header) = records.by_ref().find(|r| !r.is_blank()) else {
        errors.push(1, None, "the file is empty: expected a header line naming the columns");
        out.errors = errors.list;
        return Ok(out);
    };
    let Some(columns) = resolve_columns(&header, mapping, &mut errors) else {
        out.errors = errors.list;
        return Ok(out);
    };
    out.ignored_columns = header
        .fields
        .iter()
        .enumerate()
        .filter(|(i, h)| !h.trim().is_empty() && !columns.iter().any(|c| c.index == *i))
        .map(|(_, h)| h.trim().to_owned())
        .collect();

    let mut pending: Vec<(ParsedRow, bool)> = Vec::new();
    let mut seen = SeenIds::default();
    let mut data_rows = 0usize;
    for record in records {
        if errors.full() {
            break;
        }
        if record.is_blank() {
            continue;
        }
        data_rows += 1;
        if data_rows > limits.max_rows {
            errors.push(record.line, None, format!("more than {} rows; stopped reading here", limits.max_rows));
            break;
        }
        read_record(&record, header.fields.len(), limits.max_field_len, &columns, &mut pending, &mut seen, &mut errors);
    }
    out.rows = pending.into_iter().filter(|(_, failed)| !failed).map(|(row, _)| row).collect();
    out.errors = errors.list;
    Ok(out)
}

/// A mapped column.
struct Column {
    /// Our field name.
    field: String,
    header: String,
    index: usize,
}

impl Column {
    fn is_component(&self) -> bool {
        self.field.starts_with(COMPONENT_PREFIX)
    }
}

/// Checks the mapping against the header; `None` (with errors pushed) when
/// rows cannot be read with it.
fn resolve_columns(header: &Record, mapping: &ColumnMapping, errors: &mut Errors) -> Option<Vec<Column>> {
    let line = header.line;
    if let Some(e) = &header.error {
        errors.push(line, None, format!("header line: {e}"));
        return None;
    }
    if let Some((index, len)) = header.too_long.first() {
        errors.push(line, None, format!("header of column {} is {len} bytes long", index + 1));
        return None;
    }
    let headers: Vec<&str> = header.fields.iter().map(|h| h.trim()).collect();
    let listed = || headers.iter().filter(|h| !h.is_empty()).map(|h| format!("{h:?}")).collect::<Vec<_>>().join(", ");
    let mut columns = Vec::new();
    let mut ok = true;
    for (field, wanted) in mapping.iter() {
        if !is_known_field(field) {
            errors.push(
                line,
                Some(field.to_owned()),
                format!(
                    "the mapping names unknown field {field:?} (fields: {}, attr.<key>, component.<field>)",
                    ASSET_FIELDS.join(", ")
                ),
            );
            ok = false;
            continue;
        }
        let wanted = wanted.trim();
        let found: Vec<usize> = headers.iter().enumerate().filter(|(_, h)| **h == wanted).map(|(i, _)| i).collect();
        match found.as_slice() {
            [index] => columns.push(Column { field: field.to_owned(), header: wanted.to_owned(), index: *index }),
            [] => {
                errors.push(
                    line,
                    Some(field.to_owned()),
                    format!("column {wanted:?} mapped to {field} is not in the header (columns: {})", listed()),
                );
                ok = false;
            }
            [first, second, ..] => {
                errors.push(
                    line,
                    Some(field.to_owned()),
                    format!(
                        "column {wanted:?} mapped to {field} appears more than once in the header (columns {} and {})",
                        first + 1,
                        second + 1
                    ),
                );
                ok = false;
            }
        }
    }
    let missing: Vec<&str> =
        REQUIRED_FIELDS.iter().copied().filter(|f| !columns.iter().any(|c| c.field == *f)).collect();
    if ok && missing.len() == REQUIRED_FIELDS.len() {
        errors.push(
            line,
            None,
            format!(
                "the header maps none of the required fields ({}); is this an asset list? Columns found: {}",
                REQUIRED_FIELDS.join(", "),
                listed()
            ),
        );
        return None;
    }
    for field in &missing {
        errors.push(line, Some((*field).to_owned()), format!("no column is mapped to the required field {field}"));
        ok = false;
    }
    ok.then_some(columns)
}

/// Characters that make a spreadsheet treat a cell as a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Undoes the CSV-injection guard of [`guard_cell`]: drops a leading `'`
/// before a formula character or another `'`.
fn unguard_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) || rest.starts_with('\'') => rest,
        _ => cell,
    }
}

fn read_record(
    record: &Record,
    width: usize,
    max_field_len: usize,
    columns: &[Column],
    pending: &mut Vec<(ParsedRow, bool)>,
    seen: &mut SeenIds,
    errors: &mut Errors,
) {
    let line = record.line;
    let field_of = |index: usize| columns.iter().find(|c| c.index == index).map(|c| c.field.clone());
    let mut failed = false;
    if let Some(e) = &record.error {
        errors.push(line, None, e.clone());
        failed = true;
    } else if record.fields.len() != width {
        errors.push(line, None, format!("has {} fields; the header has {width}", record.fields.len()));
        failed = true;
    }
    for &(index, len) in &record.too_long {
        errors.push(
            line,
            field_of(index),
            format!("column {} is {len} bytes long; at most {max_field_len} are allowed", index + 1),
        );
        failed = true;
    }
    if failed {
        // Keep a failed placeholder, so continuation lines below it do not
        // attach to the asset above.
        pending.push((ParsedRow { line, draft: AssetDraft::default(), components: Vec::new() }, true));
        return;
    }

    let cell = |c: &Column| unguard_cell(record.fields.get(c.index).map_or("", |s| s.trim())).to_owned();
    let is_continuation = columns.iter().filter(|c| !c.is_component()).all(|c| cell(c).is_empty());

    let mut component = ComponentDraft::default();
    let mut has_component = false;
    for c in columns.iter().filter(|c| c.is_component()) {
        let value = cell(c);
        has_component |= !value.is_empty();
        let slot = match c.field.strip_prefix(COMPONENT_PREFIX).unwrap_or_default() {
            "kind" => &mut component.kind,
            "vendor" => &mut component.vendor,
            "product" => &mut component.product,
            "version" => &mut component.version,
            "cpe" => &mut component.cpe,
            "purl" => &mut component.purl,
            "end_of_support" => &mut component.end_of_support,
            _ => continue,
        };
        *slot = value;
    }
    let column_note = |field: &str| {
        columns.iter().find(|c| c.field == field).map(|c| format!(" (column {:?})", c.header)).unwrap_or_default()
    };
    let mut component_errors = Vec::new();
    if has_component {
        for p in component_problems(&component) {
            let field = format!("{COMPONENT_PREFIX}{}", p.field);
            let note = column_note(&field);
            component_errors.push((field, format!("{}{note}", p.reason)));
        }
    }

    if is_continuation && !has_component {
        // Values only in ignored columns: nothing to read.
        return;
    }
    if is_continuation {
        match pending.last_mut() {
            Some((parent, parent_failed)) => {
                parent.components.push(component);
                *parent_failed |= !component_errors.is_empty();
                for (field, message) in component_errors {
                    errors.push(line, Some(field), message);
                }
            }
            None => errors.push(line, None, "an inventory line with no asset line above it"),
        }
        return;
    }

    let mut draft = AssetDraft::default();
    for c in columns.iter().filter(|c| !c.is_component()) {
        let value = cell(c);
        if let Some(key) = c.field.strip_prefix(ATTR_PREFIX) {
            if !value.is_empty() {
                draft.attributes.insert(key.to_owned(), value);
            }
            continue;
        }
        let slot = match c.field.as_str() {
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
        *slot = value;
    }
    // Asset errors first, then the component's.
    let mut row_errors: Vec<(String, String)> = asset_problems(&draft)
        .into_iter()
        .map(|p| {
            let note = column_note(&p.field);
            (p.field, format!("{}{note}", p.reason))
        })
        .collect();
    if let Some(first) = seen.check(&draft.external_id, line) {
        row_errors.push((
            "external_id".to_owned(),
            format!("external_id {:?} is already used on line {first}", draft.external_id.trim()),
        ));
    }
    row_errors.extend(component_errors);
    let failed = !row_errors.is_empty();
    for (field, message) in row_errors {
        errors.push(line, Some(field), message);
    }
    let components = if has_component { vec![component] } else { Vec::new() };
    pending.push((ParsedRow { line, draft, components }, failed));
}

/// The cell text with the CSV-injection guard (see the module doc): a `'`
/// before a formula character, and before a `'` that reading would drop.
fn guard_cell(value: &str) -> String {
    if value.starts_with(FORMULA_START) || unguard_cell(value).len() != value.len() {
        format!("'{value}")
    } else {
        value.to_owned()
    }
}

/// Appends one CSV field, quoted when it must be.
fn push_field(out: &mut Vec<u8>, value: &str) {
    let value = guard_cell(value);
    if value.contains([',', '"', '\n', '\r']) || value.starts_with(' ') || value.ends_with(' ') {
        out.push(b'"');
        out.extend(value.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend(value.as_bytes());
    }
}

fn push_record<'a>(out: &mut Vec<u8>, fields: impl IntoIterator<Item = &'a str>) {
    for (i, f) in fields.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_field(out, f);
    }
    out.extend(b"\r\n");
}

fn asset_value<'a>(d: &'a AssetDraft, field: &str) -> &'a str {
    match field {
        "external_id" => &d.external_id,
        "name" => &d.name,
        "asset_type" => &d.asset_type,
        "identifier" => &d.identifier,
        "org_unit" => &d.org_unit,
        "responsible_department" => &d.responsible_department,
        "responsible_person" => &d.responsible_person,
        "operator_contact" => &d.operator_contact,
        "oncall_phone" => &d.oncall_phone,
        "lifecycle" => &d.lifecycle,
        "criticality" => &d.criticality,
        _ => "",
    }
}

fn component_value<'a>(c: &'a ComponentDraft, field: &str) -> &'a str {
    match field {
        "kind" => &c.kind,
        "vendor" => &c.vendor,
        "product" => &c.product,
        "version" => &c.version,
        "cpe" => &c.cpe,
        "purl" => &c.purl,
        "end_of_support" => &c.end_of_support,
        _ => "",
    }
}

/// Writes assets as CSV (UTF-8 with a byte-order mark, so spreadsheets pick
/// the encoding; CRLF line ends). Headers are our field names, which
/// [`ColumnMapping::default_for`] maps back: the asset fields, `attr.<key>`
/// for each attribute any asset has, and `component.<field>` when any asset
/// has components.
pub fn assets_to_csv<'a, I>(rows: I) -> Vec<u8>
where
    I: IntoIterator<Item = (&'a AssetDraft, &'a [ComponentDraft])>,
{
    let rows: Vec<(&AssetDraft, &[ComponentDraft])> = rows.into_iter().collect();
    let attr_keys: BTreeSet<&str> = rows.iter().flat_map(|(d, _)| d.attributes.keys().map(String::as_str)).collect();
    let with_components = rows.iter().any(|(_, c)| !c.is_empty());
    let mut header: Vec<String> = ASSET_FIELDS.iter().map(|f| (*f).to_owned()).collect();
    header.extend(attr_keys.iter().map(|k| format!("{ATTR_PREFIX}{k}")));
    if with_components {
        header.extend(COMPONENT_FIELDS.iter().map(|f| format!("{COMPONENT_PREFIX}{f}")));
    }
    let mut out = b"\xEF\xBB\xBF".to_vec();
    push_record(&mut out, header.iter().map(String::as_str));
    for (draft, components) in rows {
        let component_cells = |c: Option<&'a ComponentDraft>| {
            COMPONENT_FIELDS.iter().map(move |f| c.map_or("", |c| component_value(c, f)))
        };
        let asset_cells = ASSET_FIELDS.iter().map(|f| asset_value(draft, f));
        let attr_cells = attr_keys.iter().map(|k| draft.attributes.get(*k).map_or("", String::as_str));
        let mut first = components.iter();
        let head = first.next();
        if with_components {
            push_record(&mut out, asset_cells.chain(attr_cells).chain(component_cells(head)));
        } else {
            push_record(&mut out, asset_cells.chain(attr_cells));
        }
        for c in first {
            let blanks = std::iter::repeat_n("", ASSET_FIELDS.len() + attr_keys.len());
            push_record(&mut out, blanks.chain(component_cells(Some(c))));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> ImportParse {
        parse_assets_csv_auto(text.as_bytes()).unwrap()
    }

    fn errs(p: &ImportParse) -> Vec<(usize, Option<&str>)> {
        p.errors.iter().map(|e| (e.line, e.field.as_deref())).collect()
    }

    const HEAD: &str = "name,asset_type,org_unit,responsible_department,responsible_person";

    #[test]
    fn reads_a_minimal_file() {
        let p = parse(&format!("{HEAD}\n官网,website,GD,GD-SEC,张伟\n"));
        assert_eq!(p.errors, []);
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].line, 2);
        assert_eq!(p.rows[0].draft.responsible_person, "张伟");
    }

    #[test]
    fn header_problems() {
        let p = parse("colour,size\nred,1\n");
        assert_eq!(errs(&p), [(1, None)]);
        assert!(p.errors[0].message.contains("none of the required fields"), "{}", p.errors[0].message);
        let p = parse("资产名称,资产类型\nx,device\n");
        assert_eq!(
            errs(&p),
            [(1, Some("org_unit")), (1, Some("responsible_department")), (1, Some("responsible_person"))]
        );
        let p = parse("");
        assert_eq!(errs(&p), [(1, None)]);
        let m = ColumnMapping::new().with("name", "名称").with("colour", "颜色");
        let p = parse_assets_csv(format!("{HEAD}\n").as_bytes(), &m).unwrap();
        assert_eq!(errs(&p)[..2], [(1, Some("colour")), (1, Some("name"))]);
    }

    #[test]
    fn ragged_and_long_rows() {
        let p = parse(&format!("{HEAD}\na,device,GD,SEC\na,device,GD,SEC,x,y\n"));
        assert_eq!(errs(&p), [(2, None), (3, None)]);
        let limits = ImportLimits { max_field_len: 30, ..ImportLimits::default() };
        let text = format!("{HEAD}\n{},device,GD,SEC,x\n", "n".repeat(31));
        let p = parse_assets_csv_with(
            text.as_bytes(),
            &ColumnMapping::default_for(&HEAD.split(',').collect::<Vec<_>>()),
            &limits,
        )
        .unwrap();
        assert_eq!(errs(&p), [(2, Some("name"))]);
        assert!(p.errors[0].message.contains("31 bytes"), "{}", p.errors[0].message);
    }

    #[test]
    fn row_limit() {
        let limits = ImportLimits { max_rows: 2, ..ImportLimits::default() };
        let text = format!("{HEAD}\n\na,device,GD,SEC,x\nb,device,GD,SEC,x\nc,device,GD,SEC,x\nd,device,GD,SEC,x\n");
        let m = ColumnMapping::default_for(&HEAD.split(',').collect::<Vec<_>>());
        let p = parse_assets_csv_with(text.as_bytes(), &m, &limits).unwrap();
        assert_eq!(p.rows.len(), 2);
        assert_eq!(errs(&p), [(5, None)]);
    }

    #[test]
    fn continuation_lines_carry_more_components() {
        let text = format!(
            "{HEAD},component.product,component.version\n\
             dns1,dns_service,GD,SEC,x,BIND,9.18\n\
             ,,,,,Unbound,1.19\n\
             dns2,dns_service,GD,SEC,x,,\n"
        );
        let p = parse(&text);
        assert_eq!(p.errors, []);
        let products: Vec<Vec<&str>> =
            p.rows.iter().map(|r| r.components.iter().map(|c| c.product.as_str()).collect()).collect();
        assert_eq!(products, [vec!["BIND", "Unbound"], vec![]]);
        let p = parse(&format!("{HEAD},component.product\n,,,,,BIND\n"));
        assert_eq!(errs(&p), [(2, None)]);
        // A bad inventory line fails its asset.
        let p = parse(&format!("{HEAD},component.product,component.cpe\na,device,GD,SEC,x,,\n,,,,,BIND,cpe:/a:x\n"));
        assert_eq!(errs(&p), [(3, Some("component.cpe"))]);
        assert_eq!(p.rows, []);
    }

    /// Found by fuzzing (`inventory_csv`, minimised, GBK): a line with values
    /// only in unmapped columns was taken for an inventory line and gave the
    /// asset above an empty component, which export then dropped.
    #[test]
    fn fuzz_regression_values_only_in_ignored_columns() {
        let bytes = b",\xc3\xfb\xb3\xc6,\xc0\xe0\xd0\xcd,,\xb5\xa5\xce\xbb,\xd4\xf0\xc8\xce\xb2\xbf\xc3\xc5,\
            \xd4\xf0\xc8\xce\xc8\xcb,,,,,,,,\r,\xc4\xf7,device,,G,-,e,,,,,,,,\r,,,,,,,,,,,,e,,";
        let p = parse_assets_csv_auto(bytes).unwrap();
        assert_eq!(p.encoding, TextEncoding::Gb18030);
        assert_eq!(p.errors, []);
        assert_eq!(p.rows.len(), 1);
        assert_eq!(p.rows[0].components, []);
        let text = format!("{HEAD},note\na,device,GD,SEC,x,\n,,,,,remark only\n");
        let p = parse(&text);
        assert_eq!((p.errors.len(), p.rows[0].components.len()), (0, 0));
    }

    #[test]
    fn errors_of_a_line_are_in_field_order() {
        let text = format!("{HEAD},component.cpe\n,device,GD,SEC,,cpe:/a:x\n");
        let p = parse(&text);
        assert_eq!(
            errs(&p),
            [
                (2, Some("name")),
                (2, Some("responsible_person")),
                (2, Some("component.product")),
                (2, Some("component.cpe"))
            ]
        );
        assert!(p.errors[0].message.contains("(column \"name\")"), "{}", p.errors[0].message);
    }

    #[test]
    fn formula_cells_round_trip_guarded() {
        let d = AssetDraft {
            name: "=HYPERLINK(\"http://evil\")".into(),
            asset_type: "device".into(),
            org_unit: "GD".into(),
            responsible_department: "-SEC".into(),
            responsible_person: "@x".into(),
            ..AssetDraft::default()
        };
        let csv = assets_to_csv([(&d, &[][..])]);
        let text = String::from_utf8(csv.clone()).unwrap();
        assert!(text.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "{text}");
        let p = parse_assets_csv_auto(&csv).unwrap();
        assert_eq!(p.errors, []);
        assert_eq!(p.rows[0].draft, d);
    }
}
