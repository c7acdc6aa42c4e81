//! The asset and responsibility registry (R1.3, R1.4, R1.5, R7.1, S3):
//! assets with their owning unit, responsible department and person,
//! software/hardware inventory, security domains and their boundaries, and
//! each unit's accountability record. Bulk import is all-or-nothing, with a
//! dry run that reports what would change.

use std::collections::{BTreeMap, HashMap};

use anbao_model::asset::{AssetType, CheckedAsset, CheckedComponent, ComponentKind, Criticality, Lifecycle, ZoneKind};
use anbao_model::validate::{self, Invalid};
use anbao_model::{OrgScope, OrgUnit, Timestamp};
use serde::Serialize;
use serde_json::json;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::AuditBatch;
use crate::sql::{Bind, Sql, id_list};
use crate::{Actor, Result, Store, StoreError, WriteTx, ts_col};

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Asset {
    pub id: i64,
    pub external_id: String,
    pub name: String,
    pub asset_type: AssetType,
    pub identifier: String,
    pub org_unit_id: i64,
    pub responsible_department_id: i64,
    pub responsible_person: String,
    pub operator_contact: String,
    pub oncall_phone: String,
    pub lifecycle: Lifecycle,
    pub criticality: Criticality,
    pub attributes: BTreeMap<String, String>,
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: Timestamp,
    #[serde(with = "time::serde::rfc3339")]
    pub updated_at: Timestamp,
    /// Filled by `get_asset`; empty in lists.
    pub components: Vec<Component>,
    /// Security domains the asset sits in. Filled by `get_asset`.
    pub domain_ids: Vec<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Component {
    pub id: i64,
    pub kind: ComponentKind,
    pub vendor: String,
    pub product: String,
    pub version: String,
    pub cpe: String,
    pub purl: String,
    pub end_of_support: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct AssetFilter {
    /// Only assets owned by these units (`None`: all).
    pub org_units: Option<Vec<i64>>,
    /// Substring of name, identifier, external id or responsible person.
    pub query: Option<String>,
    pub asset_type: Option<AssetType>,
    pub lifecycle: Option<Lifecycle>,
    pub domain_id: Option<i64>,
    pub limit: i64,
    pub offset: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecurityDomain {
    pub id: i64,
    pub org_unit_id: i64,
    pub name: String,
    pub zone_kind: ZoneKind,
    pub description: String,
    /// Assets in the domain.
    pub asset_count: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Boundary {
    pub id: i64,
    pub domain_a: i64,
    pub domain_b: i64,
    pub device_asset_id: Option<i64>,
    pub controls: String,
}

/// S3: who answers for security in an organisation unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Accountability {
    pub org_unit_id: i64,
    pub leader_name: String,
    pub leader_title: String,
    pub security_department_id: Option<i64>,
    pub staff: Vec<StaffMember>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StaffMember {
    pub name: String,
    #[serde(default)]
    pub post: String,
    /// Certificate held for the post (持证上岗, S5), if any.
    #[serde(default)]
    pub certificate: String,
}

/// One row of a bulk import, already checked by the model.
#[derive(Debug, Clone)]
pub struct ImportRow {
    /// Where the row came from (file line or array index), for errors.
    pub line: usize,
    pub asset: CheckedAsset,
    pub components: Vec<CheckedComponent>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportAction {
    Create,
    Update { changed: Vec<String> },
    Unchanged,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportOutcome {
    pub line: usize,
    pub name: String,
    pub action: ImportAction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ImportError {
    pub line: usize,
    pub field: String,
    pub message: String,
}

/// What an import did (or, in a dry run, would do). When `errors` is not
/// empty nothing was written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    pub dry_run: bool,
    pub created: usize,
    pub updated: usize,
    pub unchanged: usize,
    pub rows: Vec<ImportOutcome>,
    pub errors: Vec<ImportError>,
}

const ASSET_COLS: &str = "id, external_id, name, asset_type, identifier, org_unit_id, responsible_department_id, \
     responsible_person, operator_contact, oncall_phone_sealed, lifecycle, criticality, attributes, created_at, updated_at";

/// Resolves the organisation-unit references of drafts (an id, or a code)
/// against the tree, within the caller's scope.
struct UnitResolver<'a> {
    by_id: HashMap<i64, &'a OrgUnit>,
    by_code: HashMap<&'a str, Vec<&'a OrgUnit>>,
    scope: &'a OrgScope,
}

impl<'a> UnitResolver<'a> {
    fn new(units: &'a [OrgUnit], scope: &'a OrgScope) -> Self {
        let mut by_code: HashMap<&str, Vec<&OrgUnit>> = HashMap::new();
        for u in units.iter().filter(|u| !u.code.is_empty()) {
            by_code.entry(u.code.as_str()).or_default().push(u);
        }
        UnitResolver { by_id: units.iter().map(|u| (u.id, u)).collect(), by_code, scope }
    }

    /// An id first (when it names a unit in scope), then a code among the
    /// units in scope: Chinese administrative codes are numeric too.
    fn resolve(&self, field: &'static str, reference: &str) -> Result<i64, Invalid> {
        if let Some(u) = reference.parse::<i64>().ok().and_then(|id| self.by_id.get(&id))
            && self.scope.contains(u.id)
        {
            return Ok(u.id);
        }
        let in_scope: Vec<i64> = self
            .by_code
            .get(reference)
            .map(|units| units.iter().map(|u| u.id).filter(|id| self.scope.contains(*id)).collect())
            .unwrap_or_default();
        match in_scope.as_slice() {
            [one] => Ok(*one),
            [] => Err(Invalid {
                field,
                reason: format!("no organisation unit {reference:?} (by id or code) within your scope"),
            }),
            _ => Err(Invalid {
                field,
                reason: format!("code {reference:?} names several organisation units; use the unit id"),
            }),
        }
    }
}

/// An asset's stored columns, resolved and sealed, as written.
#[derive(Debug, Clone, PartialEq)]
struct AssetColumns {
    external_id: String,
    name: String,
    asset_type: AssetType,
    identifier: String,
    org_unit_id: i64,
    responsible_department_id: i64,
    responsible_person: String,
    operator_contact: String,
    oncall_phone: String,
    lifecycle: Lifecycle,
    criticality: Criticality,
    attributes: BTreeMap<String, String>,
}

impl AssetColumns {
    fn from_checked(a: &CheckedAsset, units: &UnitResolver<'_>) -> Result<AssetColumns, Invalid> {
        Ok(AssetColumns {
            external_id: a.external_id.clone(),
            name: a.name.clone(),
            asset_type: a.asset_type,
            identifier: a.identifier.clone(),
            org_unit_id: units.resolve("org_unit", &a.org_unit)?,
            responsible_department_id: units.resolve("responsible_department", &a.responsible_department)?,
            responsible_person: a.responsible_person.clone(),
            operator_contact: a.operator_contact.clone(),
            oncall_phone: a.oncall_phone.clone(),
            lifecycle: a.lifecycle,
            criticality: a.criticality,
            attributes: a.attributes.clone(),
        })
    }

    fn of(asset: &Asset) -> AssetColumns {
        AssetColumns {
            external_id: asset.external_id.clone(),
            name: asset.name.clone(),
            asset_type: asset.asset_type,
            identifier: asset.identifier.clone(),
            org_unit_id: asset.org_unit_id,
            responsible_department_id: asset.responsible_department_id,
            responsible_person: asset.responsible_person.clone(),
            operator_contact: asset.operator_contact.clone(),
            oncall_phone: asset.oncall_phone.clone(),
            lifecycle: asset.lifecycle,
            criticality: asset.criticality,
            attributes: asset.attributes.clone(),
        }
    }

    /// The audit view: everything but the on-call phone (personal data).
    fn audit_json(&self, id: i64) -> serde_json::Value {
        json!({
            "id": id, "external_id": self.external_id, "name": self.name, "asset_type": self.asset_type,
            "identifier": self.identifier, "org_unit_id": self.org_unit_id,
            "responsible_department_id": self.responsible_department_id,
            "responsible_person": self.responsible_person, "operator_contact": self.operator_contact,
            "lifecycle": self.lifecycle, "criticality": self.criticality, "attributes": self.attributes,
        })
    }

    /// Names of the fields that differ.
    fn changes(&self, other: &AssetColumns) -> Vec<String> {
        let mut changed = Vec::new();
        let mut check = |name: &str, differs: bool| {
            if differs {
                changed.push(name.to_owned());
            }
        };
        check("external_id", self.external_id != other.external_id);
        check("name", self.name != other.name);
        check("asset_type", self.asset_type != other.asset_type);
        check("identifier", self.identifier != other.identifier);
        check("org_unit", self.org_unit_id != other.org_unit_id);
        check("responsible_department", self.responsible_department_id != other.responsible_department_id);
        check("responsible_person", self.responsible_person != other.responsible_person);
        check("operator_contact", self.operator_contact != other.operator_contact);
        check("oncall_phone", self.oncall_phone != other.oncall_phone);
        check("lifecycle", self.lifecycle != other.lifecycle);
        check("criticality", self.criticality != other.criticality);
        check("attributes", self.attributes != other.attributes);
        changed
    }
}

fn parse_col<T: std::str::FromStr<Err = String>>(row: &AnyRow, col: &str) -> Result<T> {
    let s: String = row.try_get(col)?;
    s.parse().map_err(|e| StoreError::Corrupt(format!("column {col}: {e}")))
}

fn component_of(row: &AnyRow) -> Result<Component> {
    Ok(Component {
        id: row.try_get("id")?,
        kind: parse_col(row, "kind")?,
        vendor: row.try_get("vendor")?,
        product: row.try_get("product")?,
        version: row.try_get("version")?,
        cpe: row.try_get("cpe")?,
        purl: row.try_get("purl")?,
        end_of_support: row.try_get("end_of_support")?,
    })
}

fn component_json(c: &CheckedComponent) -> serde_json::Value {
    json!({ "kind": c.kind, "vendor": c.vendor, "product": c.product, "version": c.version, "cpe": c.cpe,
            "purl": c.purl, "end_of_support": c.end_of_support })
}

impl Store {
    fn asset_of(&self, row: &AnyRow) -> Result<Asset> {
        let attributes: String = row.try_get("attributes")?;
        Ok(Asset {
            id: row.try_get("id")?,
            external_id: row.try_get("external_id")?,
            name: row.try_get("name")?,
            asset_type: parse_col(row, "asset_type")?,
            identifier: row.try_get("identifier")?,
            org_unit_id: row.try_get("org_unit_id")?,
            responsible_department_id: row.try_get("responsible_department_id")?,
            responsible_person: row.try_get("responsible_person")?,
            operator_contact: row.try_get("operator_contact")?,
            oncall_phone: self.sealer().open(&row.try_get::<String, _>("oncall_phone_sealed")?)?,
            lifecycle: parse_col(row, "lifecycle")?,
            criticality: parse_col(row, "criticality")?,
            attributes: serde_json::from_str(&attributes)
                .map_err(|e| StoreError::Corrupt(format!("asset attributes are not a JSON object: {e}")))?,
            created_at: ts_col(row, "created_at")?,
            updated_at: ts_col(row, "updated_at")?,
            components: Vec::new(),
            domain_ids: Vec::new(),
        })
    }

    fn asset_filter_sql(select: &str, filter: &AssetFilter) -> Sql {
        let mut sql = Sql::new(select);
        sql.push(" FROM assets a WHERE 1 = 1");
        if let Some(units) = &filter.org_units {
            sql.push(" AND a.org_unit_id IN ").push(&id_list(units.iter().copied()));
        }
        if let Some(q) = filter.query.as_deref().map(str::trim).filter(|q| !q.is_empty()) {
            let escaped = q.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            let pattern = format!("%{escaped}%");
            sql.push(" AND (");
            for (i, col) in ["a.name", "a.identifier", "a.external_id", "a.responsible_person"].iter().enumerate() {
                if i > 0 {
                    sql.push(" OR ");
                }
                sql.push(&format!("lower({col}) LIKE ")).bind(Bind::Text(pattern.clone())).push(" ESCAPE '\\'");
            }
            sql.push(")");
        }
        if let Some(t) = filter.asset_type {
            sql.push(" AND a.asset_type = ").bind(Bind::Text(t.as_str().to_owned()));
        }
        if let Some(l) = filter.lifecycle {
            sql.push(" AND a.lifecycle = ").bind(Bind::Text(l.as_str().to_owned()));
        }
        if let Some(d) = filter.domain_id {
            sql.push(" AND a.id IN (SELECT asset_id FROM asset_domains WHERE domain_id = ")
                .bind(Bind::Int(d))
                .push(")");
        }
        sql
    }

    pub async fn list_assets(&self, filter: &AssetFilter) -> Result<Vec<Asset>> {
        let cols: Vec<String> = ASSET_COLS.split(", ").map(|c| format!("a.{c}")).collect();
        let mut sql = Self::asset_filter_sql(&format!("SELECT {}", cols.join(", ")), filter);
        let limit = if filter.limit <= 0 { 100 } else { filter.limit.min(100_000) };
        sql.push(" ORDER BY a.name, a.id LIMIT ").bind(Bind::Int(limit));
        sql.push(" OFFSET ").bind(Bind::Int(filter.offset.max(0)));
        let rows = sql.query().fetch_all(self.pool()).await?;
        rows.iter().map(|r| self.asset_of(r)).collect()
    }

    pub async fn count_assets(&self, filter: &AssetFilter) -> Result<i64> {
        let sql = Self::asset_filter_sql("SELECT COUNT(*) AS n", filter);
        Ok(sql.query().fetch_one(self.pool()).await?.try_get("n")?)
    }

    /// Assets per type within `org_units`, for the dashboard.
    pub async fn asset_counts_by_type(&self, org_units: Option<&[i64]>) -> Result<Vec<(AssetType, i64)>> {
        let mut sql = String::from("SELECT asset_type, COUNT(*) AS n FROM assets");
        if let Some(units) = org_units {
            sql.push_str(&format!(" WHERE org_unit_id IN {}", id_list(units.iter().copied())));
        }
        sql.push_str(" GROUP BY asset_type ORDER BY asset_type");
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        rows.iter().map(|r| Ok((parse_col(r, "asset_type")?, r.try_get("n")?))).collect()
    }

    /// The pre-launch gate (R1.7): a planned system goes live only once
    /// cleared (risk assessment complete, or an approved exception).
    async fn check_launch_gate(&self, asset_id: i64, from: Lifecycle, to: Lifecycle) -> Result<()> {
        if from != Lifecycle::Planned || to != Lifecycle::Live {
            return Ok(());
        }
        if self.prelaunch_clearances(asset_id).await?.is_empty() {
            return Err(Invalid {
                field: "lifecycle",
                reason: "a planned system goes live only after its pre-launch risk assessment is complete or an exception is approved"
                    .into(),
            }
            .into());
        }
        Ok(())
    }

    /// Whether an asset's stored inventory is exactly `components` (in any order).
    async fn same_inventory(&self, asset_id: i64, components: &[CheckedComponent]) -> Result<bool> {
        let rows = sqlx::query("SELECT * FROM asset_components WHERE asset_id = $1")
            .bind(asset_id)
            .fetch_all(self.pool())
            .await?;
        let key = |kind: ComponentKind, v: &str, p: &str, ver: &str, cpe: &str, purl: &str, eos: Option<&str>| {
            format!("{kind}\u{1f}{v}\u{1f}{p}\u{1f}{ver}\u{1f}{cpe}\u{1f}{purl}\u{1f}{}", eos.unwrap_or_default())
        };
        let mut stored: Vec<String> = rows
            .iter()
            .map(component_of)
            .collect::<Result<Vec<_>>>()?
            .iter()
            .map(|c| key(c.kind, &c.vendor, &c.product, &c.version, &c.cpe, &c.purl, c.end_of_support.as_deref()))
            .collect();
        let mut wanted: Vec<String> = components
            .iter()
            .map(|c| key(c.kind, &c.vendor, &c.product, &c.version, &c.cpe, &c.purl, c.end_of_support.as_deref()))
            .collect();
        stored.sort();
        wanted.sort();
        Ok(stored == wanted)
    }

    /// Inventory lines of assets in `org_units`, and how many carry a CPE
    /// or purl (so vulnerability matching can use them).
    pub async fn component_counts(&self, org_units: Option<&[i64]>) -> Result<(i64, i64)> {
        let mut sql = String::from(
            "SELECT COUNT(*) AS n, COALESCE(SUM(CASE WHEN c.cpe <> '' OR c.purl <> '' THEN 1 ELSE 0 END), 0) AS identified \
             FROM asset_components c JOIN assets a ON a.id = c.asset_id",
        );
        if let Some(units) = org_units {
            sql.push_str(&format!(" WHERE a.org_unit_id IN {}", id_list(units.iter().copied())));
        }
        let row = sqlx::query(&sql).fetch_one(self.pool()).await?;
        Ok((row.try_get("n")?, row.try_get("identified")?))
    }

    pub async fn get_asset(&self, id: i64) -> Result<Asset> {
        let row = sqlx::query(&format!("SELECT {ASSET_COLS} FROM assets WHERE id = $1"))
            .bind(id)
            .fetch_optional(self.pool())
            .await?
            .ok_or_else(|| StoreError::not_found("asset", id))?;
        let mut asset = self.asset_of(&row)?;
        let rows = sqlx::query("SELECT * FROM asset_components WHERE asset_id = $1 ORDER BY id")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        asset.components = rows.iter().map(component_of).collect::<Result<_>>()?;
        let rows = sqlx::query("SELECT domain_id FROM asset_domains WHERE asset_id = $1 ORDER BY domain_id")
            .bind(id)
            .fetch_all(self.pool())
            .await?;
        asset.domain_ids = rows.iter().map(|r| r.try_get("domain_id")).collect::<Result<_, _>>()?;
        Ok(asset)
    }

    /// Writes an asset's columns: inserts when `id` is `None`, else updates.
    /// Both statements take the columns as `$1`–`$12` and the time as `$13`.
    async fn write_asset_row(&self, tx: &mut WriteTx, id: Option<i64>, c: &AssetColumns, now: &str) -> Result<i64> {
        let attributes = serde_json::to_string(&c.attributes).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let sql = match id {
            None => {
                "INSERT INTO assets (external_id, name, asset_type, identifier, org_unit_id, responsible_department_id, \
                 responsible_person, operator_contact, oncall_phone_sealed, lifecycle, criticality, attributes, created_at, \
                 updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) RETURNING id"
            }
            Some(_) => {
                "UPDATE assets SET external_id = $1, name = $2, asset_type = $3, identifier = $4, org_unit_id = $5, \
                 responsible_department_id = $6, responsible_person = $7, operator_contact = $8, oncall_phone_sealed = $9, \
                 lifecycle = $10, criticality = $11, attributes = $12, updated_at = $13 WHERE id = $14 RETURNING id"
            }
        };
        let mut q = sqlx::query(sql)
            .bind(&c.external_id)
            .bind(&c.name)
            .bind(c.asset_type.as_str())
            .bind(&c.identifier)
            .bind(c.org_unit_id)
            .bind(c.responsible_department_id)
            .bind(&c.responsible_person)
            .bind(&c.operator_contact)
            .bind(self.sealer().seal(&c.oncall_phone)?)
            .bind(c.lifecycle.as_str())
            .bind(c.criticality.as_str())
            .bind(&attributes)
            .bind(now);
        if let Some(id) = id {
            q = q.bind(id);
        }
        let row = q.fetch_one(&mut **tx).await.map_err(|e| {
            StoreError::unique_or(e, || format!("external_id {:?} is already used by another asset", c.external_id))
        })?;
        Ok(row.try_get("id")?)
    }

    async fn insert_component(tx: &mut WriteTx, asset_id: i64, c: &CheckedComponent, now: &str) -> Result<i64> {
        let row = sqlx::query(
            "INSERT INTO asset_components (asset_id, kind, vendor, product, version, cpe, purl, end_of_support, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
        )
        .bind(asset_id)
        .bind(c.kind.as_str())
        .bind(&c.vendor)
        .bind(&c.product)
        .bind(&c.version)
        .bind(&c.cpe)
        .bind(&c.purl)
        .bind(c.end_of_support.as_deref())
        .bind(now)
        .fetch_one(&mut **tx)
        .await?;
        Ok(row.try_get("id")?)
    }

    /// Creates an asset (with its initial inventory) from a checked draft
    /// whose unit references are resolved within `scope`.
    pub async fn create_asset(
        &self,
        actor: &Actor,
        scope: &OrgScope,
        asset: &CheckedAsset,
        components: &[CheckedComponent],
    ) -> Result<Asset> {
        let units = self.list_org_units().await?;
        let cols = AssetColumns::from_checked(asset, &UnitResolver::new(&units, scope))?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let id = self.write_asset_row(&mut tx, None, &cols, &now).await?;
        for c in components {
            Self::insert_component(&mut tx, id, c, &now).await?;
        }
        let mut after = cols.audit_json(id);
        after["components"] = components.iter().map(component_json).collect();
        let mut audit = AuditBatch::start(&mut tx).await?;
        audit
            .append(
                &mut tx,
                &now,
                actor,
                "asset.create",
                "asset",
                &id.to_string(),
                Some(cols.org_unit_id),
                None,
                Some(&after),
            )
            .await?;
        tx.commit().await?;
        self.get_asset(id).await
    }

    /// Replaces an asset's fields (not its inventory) with `asset`.
    pub async fn update_asset(&self, actor: &Actor, scope: &OrgScope, id: i64, asset: &CheckedAsset) -> Result<Asset> {
        let before = self.get_asset(id).await?;
        let units = self.list_org_units().await?;
        let cols = AssetColumns::from_checked(asset, &UnitResolver::new(&units, scope))?;
        let old = AssetColumns::of(&before);
        let changed = cols.changes(&old);
        if changed.is_empty() {
            return Ok(before);
        }
        self.check_launch_gate(id, old.lifecycle, cols.lifecycle).await?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        self.write_asset_row(&mut tx, Some(id), &cols, &now).await?;
        let mut after = cols.audit_json(id);
        if changed.iter().any(|c| c == "oncall_phone") {
            after["oncall_phone_changed"] = json!(true);
        }
        let mut audit = AuditBatch::start(&mut tx).await?;
        audit
            .append(
                &mut tx,
                &now,
                actor,
                "asset.update",
                "asset",
                &id.to_string(),
                Some(cols.org_unit_id),
                Some(&old.audit_json(id)),
                Some(&after),
            )
            .await?;
        tx.commit().await?;
        self.get_asset(id).await
    }

    pub async fn delete_asset(&self, actor: &Actor, id: i64) -> Result<()> {
        let before = self.get_asset(id).await?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        sqlx::query("DELETE FROM assets WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let mut old = AssetColumns::of(&before).audit_json(id);
        old["components"] = before.components.len().into();
        let mut audit = AuditBatch::start(&mut tx).await?;
        audit
            .append(
                &mut tx,
                &now,
                actor,
                "asset.delete",
                "asset",
                &id.to_string(),
                Some(before.org_unit_id),
                Some(&old),
                None,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn add_component(&self, actor: &Actor, asset_id: i64, c: &CheckedComponent) -> Result<Component> {
        let asset = self.get_asset(asset_id).await?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let id = Self::insert_component(&mut tx, asset_id, c, &now).await?;
        let mut after = component_json(c);
        after["asset_id"] = asset_id.into();
        after["id"] = id.into();
        let mut audit = AuditBatch::start(&mut tx).await?;
        audit
            .append(
                &mut tx,
                &now,
                actor,
                "asset.component_add",
                "asset",
                &asset_id.to_string(),
                Some(asset.org_unit_id),
                None,
                Some(&after),
            )
            .await?;
        tx.commit().await?;
        Ok(Component {
            id,
            kind: c.kind,
            vendor: c.vendor.clone(),
            product: c.product.clone(),
            version: c.version.clone(),
            cpe: c.cpe.clone(),
            purl: c.purl.clone(),
            end_of_support: c.end_of_support.clone(),
        })
    }

    pub async fn delete_component(&self, actor: &Actor, asset_id: i64, component_id: i64) -> Result<()> {
        let asset = self.get_asset(asset_id).await?;
        let Some(c) = asset.components.iter().find(|c| c.id == component_id) else {
            return Err(StoreError::not_found("component", component_id));
        };
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        sqlx::query("DELETE FROM asset_components WHERE id = $1 AND asset_id = $2")
            .bind(component_id)
            .bind(asset_id)
            .execute(&mut *tx)
            .await?;
        let before = serde_json::to_value(c).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut audit = AuditBatch::start(&mut tx).await?;
        audit
            .append(
                &mut tx,
                &now,
                actor,
                "asset.component_remove",
                "asset",
                &asset_id.to_string(),
                Some(asset.org_unit_id),
                Some(&before),
                None,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Bulk import: resolves and validates every row first; with any error
    /// nothing is written. Rows with an `external_id` that exists update
    /// that asset (and replace its inventory when the row brings one);
    /// others are created. One audit entry per changed asset.
    pub async fn import_assets(
        &self,
        actor: &Actor,
        scope: &OrgScope,
        rows: &[ImportRow],
        dry_run: bool,
    ) -> Result<ImportReport> {
        let units = self.list_org_units().await?;
        let resolver = UnitResolver::new(&units, scope);
        let mut report = ImportReport { dry_run, ..ImportReport::default() };
        let mut resolved = Vec::with_capacity(rows.len());
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for row in rows {
            match AssetColumns::from_checked(&row.asset, &resolver) {
                Ok(cols) => resolved.push((row, cols)),
                Err(e) => {
                    report.errors.push(ImportError { line: row.line, field: e.field.into(), message: e.to_string() })
                }
            }
            let ext = row.asset.external_id.as_str();
            if !ext.is_empty()
                && let Some(first) = seen.insert(ext, row.line)
            {
                report.errors.push(ImportError {
                    line: row.line,
                    field: "external_id".into(),
                    message: format!("external_id {ext:?} already appears on line {first}"),
                });
            }
        }
        // Existing assets by external id, to decide create or update.
        let mut existing: HashMap<String, Asset> = HashMap::new();
        let ext_ids: Vec<&str> = rows.iter().map(|r| r.asset.external_id.as_str()).filter(|e| !e.is_empty()).collect();
        for chunk in ext_ids.chunks(500) {
            // The `<> ''` lets both databases use the partial unique index.
            let mut sql =
                Sql::new(&format!("SELECT {ASSET_COLS} FROM assets WHERE external_id <> '' AND external_id IN ("));
            for (i, e) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push(", ");
                }
                sql.bind(Bind::Text((*e).to_owned()));
            }
            sql.push(")");
            for r in sql.query().fetch_all(self.pool()).await? {
                let a = self.asset_of(&r)?;
                existing.insert(a.external_id.clone(), a);
            }
        }
        for (row, cols) in &resolved {
            if let Some(old) = existing.get(&cols.external_id)
                && !scope.contains(old.org_unit_id)
            {
                report.errors.push(ImportError {
                    line: row.line,
                    field: "external_id".into(),
                    message: format!("external_id {:?} belongs to an asset outside your scope", cols.external_id),
                });
            }
        }
        if !report.errors.is_empty() {
            report.errors.sort_by_key(|e| e.line);
            return Ok(report);
        }
        let mut plan = Vec::with_capacity(resolved.len());
        for (row, cols) in resolved {
            let action = match existing.get(&cols.external_id) {
                None => ImportAction::Create,
                Some(old) => {
                    let mut changed = cols.changes(&AssetColumns::of(old));
                    if !row.components.is_empty() && !self.same_inventory(old.id, &row.components).await? {
                        changed.push("components".into());
                    }
                    if let Err(StoreError::Invalid(e)) =
                        self.check_launch_gate(old.id, old.lifecycle, cols.lifecycle).await
                    {
                        report.errors.push(ImportError {
                            line: row.line,
                            field: e.field.into(),
                            message: e.to_string(),
                        });
                    }
                    if changed.is_empty() { ImportAction::Unchanged } else { ImportAction::Update { changed } }
                }
            };
            match action {
                ImportAction::Create => report.created += 1,
                ImportAction::Update { .. } => report.updated += 1,
                ImportAction::Unchanged => report.unchanged += 1,
            }
            report.rows.push(ImportOutcome { line: row.line, name: cols.name.clone(), action: action.clone() });
            plan.push((row, cols, action));
        }
        if !report.errors.is_empty() {
            report.errors.sort_by_key(|e| e.line);
            report.rows.clear();
            (report.created, report.updated, report.unchanged) = (0, 0, 0);
            return Ok(report);
        }
        if dry_run {
            return Ok(report);
        }
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let mut audit = AuditBatch::start(&mut tx).await?;
        for (row, cols, action) in &plan {
            let write = async {
                match action {
                    ImportAction::Unchanged => Ok(0),
                    ImportAction::Create => {
                        let id = self.write_asset_row(&mut tx, None, cols, &now).await?;
                        for c in &row.components {
                            Self::insert_component(&mut tx, id, c, &now).await?;
                        }
                        let mut after = cols.audit_json(id);
                        after["components"] = row.components.iter().map(component_json).collect();
                        audit
                            .append(
                                &mut tx,
                                &now,
                                actor,
                                "asset.import_create",
                                "asset",
                                &id.to_string(),
                                Some(cols.org_unit_id),
                                None,
                                Some(&after),
                            )
                            .await
                    }
                    ImportAction::Update { .. } => {
                        let old = existing
                            .get(&cols.external_id)
                            .ok_or_else(|| StoreError::Corrupt("import plan lost an asset".into()))?;
                        self.write_asset_row(&mut tx, Some(old.id), cols, &now).await?;
                        if !row.components.is_empty() {
                            sqlx::query("DELETE FROM asset_components WHERE asset_id = $1")
                                .bind(old.id)
                                .execute(&mut *tx)
                                .await?;
                            for c in &row.components {
                                Self::insert_component(&mut tx, old.id, c, &now).await?;
                            }
                        }
                        let mut after = cols.audit_json(old.id);
                        if !row.components.is_empty() {
                            after["components"] = row.components.iter().map(component_json).collect();
                        }
                        audit
                            .append(
                                &mut tx,
                                &now,
                                actor,
                                "asset.import_update",
                                "asset",
                                &old.id.to_string(),
                                Some(cols.org_unit_id),
                                Some(&AssetColumns::of(old).audit_json(old.id)),
                                Some(&after),
                            )
                            .await
                    }
                }
            };
            // Name the row in any failure that only the database could see.
            if let Err(e) = write.await {
                return Err(match e {
                    StoreError::Conflict(m) => StoreError::Conflict(format!("line {}: {m}", row.line)),
                    other => other,
                });
            }
        }
        tx.commit().await?;
        Ok(report)
    }

    // Security domains and boundaries (R1.4).

    pub async fn list_domains(&self, org_units: Option<&[i64]>) -> Result<Vec<SecurityDomain>> {
        let mut sql = String::from(
            "SELECT d.id, d.org_unit_id, d.name, d.zone_kind, d.description, \
             (SELECT COUNT(*) FROM asset_domains m WHERE m.domain_id = d.id) AS asset_count FROM security_domains d",
        );
        if let Some(units) = org_units {
            sql.push_str(&format!(" WHERE d.org_unit_id IN {}", id_list(units.iter().copied())));
        }
        sql.push_str(" ORDER BY d.org_unit_id, d.name");
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(SecurityDomain {
                    id: r.try_get("id")?,
                    org_unit_id: r.try_get("org_unit_id")?,
                    name: r.try_get("name")?,
                    zone_kind: parse_col(r, "zone_kind")?,
                    description: r.try_get("description")?,
                    asset_count: r.try_get("asset_count")?,
                })
            })
            .collect()
    }

    pub async fn create_domain(
        &self,
        actor: &Actor,
        org_unit_id: i64,
        name: &str,
        zone: ZoneKind,
        description: &str,
    ) -> Result<SecurityDomain> {
        validate::label("name", name)?;
        validate::optional_text("description", description)?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let id: i64 = sqlx::query(
            "INSERT INTO security_domains (org_unit_id, name, zone_kind, description, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        )
        .bind(org_unit_id)
        .bind(name.trim())
        .bind(zone.as_str())
        .bind(description.trim())
        .bind(&now)
        .fetch_one(&mut *tx)
        .await
        .map_err(|e| {
            StoreError::unique_or(e, || {
                format!("a security domain named {:?} already exists in that unit", name.trim())
            })
        })?
        .try_get("id")?;
        let domain = SecurityDomain {
            id,
            org_unit_id,
            name: name.trim().to_owned(),
            zone_kind: zone,
            description: description.trim().to_owned(),
            asset_count: 0,
        };
        let after = serde_json::to_value(&domain).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut audit = AuditBatch::start(&mut tx).await?;
        audit
            .append(
                &mut tx,
                &now,
                actor,
                "domain.create",
                "security_domain",
                &id.to_string(),
                Some(org_unit_id),
                None,
                Some(&after),
            )
            .await?;
        tx.commit().await?;
        Ok(domain)
    }

    pub async fn delete_domain(&self, actor: &Actor, id: i64) -> Result<()> {
        let domain = self
            .list_domains(None)
            .await?
            .into_iter()
            .find(|d| d.id == id)
            .ok_or_else(|| StoreError::not_found("security domain", id))?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        sqlx::query("DELETE FROM security_domains WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let before = serde_json::to_value(&domain).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut audit = AuditBatch::start(&mut tx).await?;
        audit
            .append(
                &mut tx,
                &now,
                actor,
                "domain.delete",
                "security_domain",
                &id.to_string(),
                Some(domain.org_unit_id),
                Some(&before),
                None,
            )
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Puts an asset in exactly these domains.
    pub async fn set_asset_domains(&self, actor: &Actor, asset_id: i64, domain_ids: &[i64]) -> Result<Vec<i64>> {
        let asset = self.get_asset(asset_id).await?;
        let known: Vec<i64> = self.list_domains(None).await?.into_iter().map(|d| d.id).collect();
        if let Some(bad) = domain_ids.iter().find(|d| !known.contains(d)) {
            return Err(Invalid { field: "domain_ids", reason: format!("security domain {bad} does not exist") }.into());
        }
        let mut wanted = domain_ids.to_vec();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted == asset.domain_ids {
            return Ok(wanted);
        }
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        sqlx::query("DELETE FROM asset_domains WHERE asset_id = $1").bind(asset_id).execute(&mut *tx).await?;
        for d in &wanted {
            sqlx::query("INSERT INTO asset_domains (asset_id, domain_id) VALUES ($1, $2)")
                .bind(asset_id)
                .bind(d)
                .execute(&mut *tx)
                .await?;
        }
        let mut audit = AuditBatch::start(&mut tx).await?;
        audit
            .append(
                &mut tx,
                &now,
                actor,
                "asset.domains",
                "asset",
                &asset_id.to_string(),
                Some(asset.org_unit_id),
                Some(&json!({ "domain_ids": asset.domain_ids })),
                Some(&json!({ "domain_ids": wanted })),
            )
            .await?;
        tx.commit().await?;
        Ok(wanted)
    }

    pub async fn list_boundaries(&self) -> Result<Vec<Boundary>> {
        let rows =
            sqlx::query("SELECT id, domain_a, domain_b, device_asset_id, controls FROM domain_boundaries ORDER BY id")
                .fetch_all(self.pool())
                .await?;
        rows.iter()
            .map(|r| {
                Ok(Boundary {
                    id: r.try_get("id")?,
                    domain_a: r.try_get("domain_a")?,
                    domain_b: r.try_get("domain_b")?,
                    device_asset_id: r.try_get("device_asset_id")?,
                    controls: r.try_get("controls")?,
                })
            })
            .collect()
    }

    /// Records that `device` (a firewall, gateway …) guards the boundary
    /// between two domains.
    pub async fn create_boundary(
        &self,
        actor: &Actor,
        a: i64,
        b: i64,
        device: Option<i64>,
        controls: &str,
    ) -> Result<Boundary> {
        if a == b {
            return Err(Invalid { field: "domain_b", reason: "a boundary joins two different domains".into() }.into());
        }
        validate::optional_text("controls", controls)?;
        let domains = self.list_domains(None).await?;
        let Some(org) = domains.iter().find(|d| d.id == a).map(|d| d.org_unit_id) else {
            return Err(Invalid { field: "domain_a", reason: format!("security domain {a} does not exist") }.into());
        };
        if !domains.iter().any(|d| d.id == b) {
            return Err(Invalid { field: "domain_b", reason: format!("security domain {b} does not exist") }.into());
        }
        if let Some(dev) = device {
            self.get_asset(dev)
                .await
                .map_err(|_| Invalid { field: "device_asset_id", reason: format!("asset {dev} does not exist") })?;
        }
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        let id: i64 = sqlx::query(
            "INSERT INTO domain_boundaries (domain_a, domain_b, device_asset_id, controls, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(a)
        .bind(b)
        .bind(device)
        .bind(controls.trim())
        .bind(&now)
        .fetch_one(&mut *tx)
        .await?
        .try_get("id")?;
        let boundary =
            Boundary { id, domain_a: a, domain_b: b, device_asset_id: device, controls: controls.trim().to_owned() };
        let after = serde_json::to_value(&boundary).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut audit = AuditBatch::start(&mut tx).await?;
        audit
            .append(&mut tx, &now, actor, "boundary.create", "boundary", &id.to_string(), Some(org), None, Some(&after))
            .await?;
        tx.commit().await?;
        Ok(boundary)
    }

    pub async fn delete_boundary(&self, actor: &Actor, id: i64) -> Result<()> {
        let boundary = self
            .list_boundaries()
            .await?
            .into_iter()
            .find(|b| b.id == id)
            .ok_or_else(|| StoreError::not_found("boundary", id))?;
        let org = self.list_domains(None).await?.into_iter().find(|d| d.id == boundary.domain_a).map(|d| d.org_unit_id);
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        sqlx::query("DELETE FROM domain_boundaries WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let before = serde_json::to_value(&boundary).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut audit = AuditBatch::start(&mut tx).await?;
        audit
            .append(&mut tx, &now, actor, "boundary.delete", "boundary", &id.to_string(), org, Some(&before), None)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    // Accountability (S3).

    pub async fn get_accountability(&self, org_unit_id: i64) -> Result<Option<Accountability>> {
        let row = sqlx::query("SELECT * FROM accountability WHERE org_unit_id = $1")
            .bind(org_unit_id)
            .fetch_optional(self.pool())
            .await?;
        let Some(r) = row else { return Ok(None) };
        let staff: String = r.try_get("staff")?;
        Ok(Some(Accountability {
            org_unit_id,
            leader_name: r.try_get("leader_name")?,
            leader_title: r.try_get("leader_title")?,
            security_department_id: r.try_get("security_department_id")?,
            staff: serde_json::from_str(&staff)
                .map_err(|e| StoreError::Corrupt(format!("accountability staff: {e}")))?,
        }))
    }

    pub async fn list_accountability(&self) -> Result<Vec<Accountability>> {
        let rows =
            sqlx::query("SELECT org_unit_id FROM accountability ORDER BY org_unit_id").fetch_all(self.pool()).await?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            if let Some(a) = self.get_accountability(r.try_get("org_unit_id")?).await? {
                out.push(a);
            }
        }
        Ok(out)
    }

    pub async fn set_accountability(&self, actor: &Actor, record: &Accountability) -> Result<Accountability> {
        let trimmed = Accountability {
            org_unit_id: record.org_unit_id,
            leader_name: record.leader_name.trim().to_owned(),
            leader_title: record.leader_title.trim().to_owned(),
            security_department_id: record.security_department_id,
            staff: record
                .staff
                .iter()
                .map(|s| StaffMember {
                    name: s.name.trim().to_owned(),
                    post: s.post.trim().to_owned(),
                    certificate: s.certificate.trim().to_owned(),
                })
                .collect(),
        };
        let record = &trimmed;
        validate::label("leader_name", &record.leader_name)?;
        validate::optional_text("leader_title", &record.leader_title)?;
        for s in &record.staff {
            validate::label("staff", &s.name)?;
            validate::optional_text("staff", &s.post)?;
            validate::optional_text("staff", &s.certificate)?;
        }
        let units = self.list_org_units().await?;
        if !units.iter().any(|u| u.id == record.org_unit_id) {
            return Err(StoreError::not_found("organisation unit", record.org_unit_id));
        }
        if let Some(d) = record.security_department_id
            && !units.iter().any(|u| u.id == d)
        {
            return Err(Invalid {
                field: "security_department_id",
                reason: format!("organisation unit {d} does not exist"),
            }
            .into());
        }
        let before = self.get_accountability(record.org_unit_id).await?;
        let staff = serde_json::to_string(&record.staff).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let mut tx = self.write_tx().await?;
        let now = self.now_text();
        sqlx::query("DELETE FROM accountability WHERE org_unit_id = $1")
            .bind(record.org_unit_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO accountability (org_unit_id, leader_name, leader_title, security_department_id, staff, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(record.org_unit_id)
        .bind(record.leader_name.trim())
        .bind(record.leader_title.trim())
        .bind(record.security_department_id)
        .bind(&staff)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        let to_json = |a: &Accountability| serde_json::to_value(a).map_err(|e| StoreError::Corrupt(e.to_string()));
        let before_json = before.as_ref().map(to_json).transpose()?;
        let after_json = to_json(record)?;
        let mut audit = AuditBatch::start(&mut tx).await?;
        audit
            .append(
                &mut tx,
                &now,
                actor,
                "accountability.set",
                "org_unit",
                &record.org_unit_id.to_string(),
                Some(record.org_unit_id),
                before_json.as_ref(),
                Some(&after_json),
            )
            .await?;
        tx.commit().await?;
        Ok(record.clone())
    }
}
