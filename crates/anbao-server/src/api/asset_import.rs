//! Bulk asset import and export (R1.3, R1.8): CSV (UTF-8, UTF-16 or GBK,
//! with a column mapping), JSON and nmap XML in; CSV and JSON out. Imports
//! are all-or-nothing: any error in any row and nothing is written; a dry
//! run reports what would change.

use anbao_inventory::{AssetDefaults, ColumnMapping, ImportParse, RowError};
use anbao_model::asset::{AssetDraft, ComponentDraft};
use anbao_store::{Asset, ImportReport, ImportRow};
use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::{ApiError, ErrorBody};
use crate::extract::Query;

/// Largest upload accepted by the import routes (a 100,000-asset CSV is
/// about 20 MB).
pub const IMPORT_LIMIT: usize = 128 * 1024 * 1024;

#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `auto` (default: by content), `csv`, `json` or `nmap`.
    pub format: Option<String>,
    /// Report what would change without writing (default false).
    pub dry_run: Option<bool>,
    /// CSV column mapping as JSON: our field name → header in the file,
    /// e.g. `{"name":"系统名称"}`; unmapped fields use the usual headers.
    pub mapping: Option<String>,
    /// nmap imports: owning unit (id or code) for every host found.
    pub org_unit: Option<String>,
    /// nmap imports: responsible department (id or code).
    pub responsible_department: Option<String>,
    /// nmap imports: responsible person.
    pub responsible_person: Option<String>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportErrorView {
    /// CSV line (header = 1), JSON item or nmap host number.
    pub line: usize,
    pub field: Option<String>,
    pub message: String,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ImportResult {
    /// The encoding the file was read in.
    pub encoding: String,
    pub format: String,
    pub dry_run: bool,
    /// True when something was written.
    pub committed: bool,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Per row: create, update (with the changed fields) or unchanged.
    #[schema(value_type = Vec<Object>)]
    pub rows: Vec<serde_json::Value>,
    /// Every problem, by line and field; when not empty nothing was written.
    pub errors: Vec<ImportErrorView>,
    /// CSV headers that mapped to no field.
    pub ignored_columns: Vec<String>,
}

fn detect(format: &str, body: &[u8]) -> &'static str {
    match format {
        "csv" => "csv",
        "json" => "json",
        "nmap" | "xml" => "nmap",
        _ => {
            let start = body.iter().position(|b| !b.is_ascii_whitespace() && *b != 0xEF && *b != 0xBB && *b != 0xBF);
            match start.and_then(|i| body.get(i)) {
                Some(b'[') => "json",
                Some(b'<') => "nmap",
                _ => "csv",
            }
        }
    }
}

fn parse(q: &ImportQuery, format: &str, body: &[u8]) -> Result<ImportParse, ApiError> {
    let whole = |e: &dyn std::fmt::Display| ApiError::field("file", format!("file: {e}"));
    match format {
        "json" => anbao_inventory::parse_assets_json(body).map_err(|e| whole(&e)),
        "nmap" => {
            let scan = anbao_inventory::parse_nmap_xml(body).map_err(|e| whole(&e))?;
            let defaults = AssetDefaults {
                org_unit: q.org_unit.clone().unwrap_or_default(),
                responsible_department: q.responsible_department.clone().unwrap_or_default(),
                responsible_person: q.responsible_person.clone().unwrap_or_default(),
                ..AssetDefaults::default()
            };
            Ok(scan.to_import(&defaults))
        }
        _ => match q.mapping.as_deref().filter(|m| !m.trim().is_empty()) {
            None => anbao_inventory::parse_assets_csv_auto(body).map_err(|e| whole(&e)),
            Some(m) => {
                let given: std::collections::BTreeMap<String, String> = serde_json::from_str(m).map_err(|e| {
                    ApiError::field("mapping", format!("mapping: not a JSON object of field → header: {e}"))
                })?;
                let (_, headers) = anbao_inventory::csv_headers(body).map_err(|e| whole(&e))?;
                let mut mapping = ColumnMapping::default_for(&headers);
                for (field, header) in given {
                    mapping.insert(field, header);
                }
                anbao_inventory::parse_assets_csv(body, &mapping).map_err(|e| whole(&e))
            }
        },
    }
}

fn error_view(e: &RowError) -> ImportErrorView {
    ImportErrorView { line: e.line, field: e.field.clone(), message: e.message.clone() }
}

/// Reads, checks and (unless a dry run, and only when every row is good)
/// writes an upload. Shared by the API and the import page.
pub async fn run_import(
    state: &AppState,
    p: &Principal,
    client: &ClientAddr,
    q: &ImportQuery,
    body: &[u8],
) -> Result<ImportResult, ApiError> {
    let format = detect(q.format.as_deref().unwrap_or("auto"), body);
    let parsed = parse(q, format, body)?;
    let dry_run = q.dry_run.unwrap_or(false);
    let mut result = ImportResult {
        encoding: parsed.encoding.as_str().to_owned(),
        format: format.to_owned(),
        dry_run,
        committed: false,
        created: 0,
        updated: 0,
        unchanged: 0,
        rows: Vec::new(),
        errors: parsed.errors.iter().map(error_view).collect(),
        ignored_columns: parsed.ignored_columns.clone(),
    };
    let mut rows = Vec::with_capacity(parsed.rows.len());
    for r in &parsed.rows {
        let asset = r.draft.check().map_err(|e| ApiError::field(e.field, e.to_string()))?;
        let components = r.components.iter().map(ComponentDraft::check).collect::<Result<Vec<_>, _>>();
        match components {
            Ok(components) => rows.push(ImportRow { line: r.line, asset, components }),
            Err(e) => result.errors.push(ImportErrorView {
                line: r.line,
                field: Some(e.field.into()),
                message: e.to_string(),
            }),
        }
    }
    // The store checks unit references and existing assets for every row,
    // even when the file had errors, so all problems show at once; it
    // writes only when asked to and every row is good, so one call serves
    // both the check and the commit.
    let write = result.errors.is_empty() && !dry_run;
    let report: ImportReport = state.store.import_assets(&p.actor(client), &p.scope, &rows, !write).await?;
    result.errors.extend(report.errors.iter().map(|e| ImportErrorView {
        line: e.line,
        field: Some(e.field.clone()),
        message: e.message.clone(),
    }));
    result.errors.sort_by_key(|e| e.line);
    result.committed = write && report.errors.is_empty();
    // A refused file changes nothing: report no counts that suggest otherwise.
    if result.errors.is_empty() {
        result.created = report.created;
        result.updated = report.updated;
        result.unchanged = report.unchanged;
        result.rows = report.rows.iter().filter_map(|r| serde_json::to_value(r).ok()).collect();
    }
    Ok(result)
}

#[utoipa::path(post, path = "/api/v1/assets/import", tag = "govern", params(ImportQuery),
    request_body(content = String, description = "the file: CSV, JSON array or nmap -oX XML", content_type = "application/octet-stream"),
    responses((status = 200, body = ImportResult), (status = 422, body = ImportResult), (status = 413, body = ErrorBody)))]
pub async fn import(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Query(q): Query<ImportQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    if body.is_empty() {
        return Err(ApiError::field("file", "file: the request body is empty"));
    }
    let result = run_import(&state, &p, &client, &q, &body).await?;
    let status = if result.errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    Ok((status, Json(result)).into_response())
}

/// The draft an asset would be imported from: units by id, so an export
/// imports back unchanged.
pub fn draft_of(a: &Asset) -> (AssetDraft, Vec<ComponentDraft>) {
    let draft = AssetDraft {
        external_id: a.external_id.clone(),
        name: a.name.clone(),
        asset_type: a.asset_type.to_string(),
        identifier: a.identifier.clone(),
        org_unit: a.org_unit_id.to_string(),
        responsible_department: a.responsible_department_id.to_string(),
        responsible_person: a.responsible_person.clone(),
        operator_contact: a.operator_contact.clone(),
        oncall_phone: a.oncall_phone.clone(),
        lifecycle: a.lifecycle.to_string(),
        criticality: a.criticality.to_string(),
        attributes: a.attributes.clone(),
    };
    let components = a
        .components
        .iter()
        .map(|c| ComponentDraft {
            kind: c.kind.to_string(),
            vendor: c.vendor.clone(),
            product: c.product.clone(),
            version: c.version.clone(),
            cpe: c.cpe.clone(),
            purl: c.purl.clone(),
            end_of_support: c.end_of_support.clone().unwrap_or_default(),
        })
        .collect();
    (draft, components)
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `csv` (default) or `json`.
    pub format: Option<String>,
}

const EXPORT_LIMIT: i64 = 100_000;

#[utoipa::path(get, path = "/api/v1/assets/export", tag = "govern", params(ExportQuery),
    responses((status = 200, description = "CSV (UTF-8 with BOM) or JSON array, importable as is"), (status = 422, body = ErrorBody)))]
pub async fn export(
    State(state): State<AppState>,
    p: Principal,
    client: ClientAddr,
    Query(q): Query<ExportQuery>,
) -> Result<Response, ApiError> {
    let format = q.format.unwrap_or_else(|| "csv".into());
    if format != "csv" && format != "json" {
        return Err(ApiError::field("format", format!("format: {format:?} is not csv or json")));
    }
    let filter = anbao_store::AssetFilter { org_units: p.scope_filter(), limit: EXPORT_LIMIT, ..Default::default() };
    let mut rows = Vec::new();
    for a in state.store.list_assets(&filter).await? {
        rows.push(draft_of(&state.store.get_asset(a.id).await?));
    }
    state
        .store
        .audit_event(
            &p.actor(&client),
            "asset.export",
            "asset",
            "",
            Some(p.home_unit),
            Some(&serde_json::json!({ "format": format, "assets": rows.len() })),
        )
        .await?;
    let pairs = rows.iter().map(|(d, c)| (d, c.as_slice()));
    let (body, mime, name) = if format == "csv" {
        (anbao_inventory::assets_to_csv(pairs), "text/csv; charset=utf-8", "anbao-assets.csv")
    } else {
        (anbao_inventory::assets_to_json(pairs), "application/json", "anbao-assets.json")
    };
    Ok((
        [
            (header::CONTENT_TYPE, mime.to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"{name}\"")),
        ],
        body,
    )
        .into_response())
}
