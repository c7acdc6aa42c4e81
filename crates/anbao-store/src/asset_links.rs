//! Assets an address or a name belongs to (issue #7): the registry side of
//! "affected assets" on alerts and "related assets" on incidents. The
//! matching rules are `anbao_model::asset_match`; this reads the assets.
//!
//! Each call reads the address columns of the assets in scope (not the
//! sealed contact fields) and matches in memory: one indexed scan of a
//! registry of tens of thousands of assets per page view. A registry far
//! larger would want the addresses in their own indexed table.

use anbao_model::asset::{AssetType, Criticality};
use anbao_model::asset_match::{self, AssetAddress};
use serde::Serialize;
use sqlx::Row;

use crate::sql::id_list;
use crate::{Result, Store, StoreError};

/// Most assets returned for one lookup.
pub const MAX_AFFECTED_ASSETS: usize = 50;

/// An asset some probe falls under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AffectedAsset {
    pub id: i64,
    pub name: String,
    pub asset_type: AssetType,
    pub identifier: String,
    pub org_unit_id: i64,
    pub responsible_person: String,
    pub criticality: Criticality,
    /// The probe (as given) that matched first.
    pub matched: String,
}

impl Store {
    /// The assets within `org_units` (`None`: all) that any of `targets`
    /// falls under (see [`asset_match::probes`]: addresses, prefixes or
    /// names, several per target separated by commas), by id, at most
    /// [`MAX_AFFECTED_ASSETS`].
    pub async fn assets_affected_by(&self, org_units: Option<&[i64]>, targets: &[&str]) -> Result<Vec<AffectedAsset>> {
        let probes: Vec<(&str, AssetAddress)> =
            targets.iter().flat_map(|t| asset_match::probes(t).into_iter().map(move |p| (*t, p))).collect();
        if probes.is_empty() || org_units.is_some_and(<[i64]>::is_empty) {
            return Ok(Vec::new());
        }
        let mut sql = String::from(
            "SELECT id, name, asset_type, identifier, org_unit_id, responsible_person, criticality, attributes FROM assets",
        );
        if let Some(units) = org_units {
            sql.push_str(" WHERE org_unit_id IN ");
            sql.push_str(&id_list(units.iter().copied()));
        }
        sql.push_str(" ORDER BY id");
        let rows = sqlx::query(&sql).fetch_all(self.pool()).await?;
        let mut out = Vec::new();
        for row in &rows {
            let identifier: String = row.try_get("identifier")?;
            let attributes: String = row.try_get("attributes")?;
            let attributes = serde_json::from_str(&attributes)
                .map_err(|e| StoreError::Corrupt(format!("asset attributes are not a JSON object: {e}")))?;
            let known = asset_match::asset_addresses(&identifier, &attributes);
            let Some((matched, _)) = probes.iter().find(|(_, p)| known.iter().any(|a| a.covers(p))) else {
                continue;
            };
            let text = |col: &str| -> Result<String> { Ok(row.try_get(col)?) };
            out.push(AffectedAsset {
                id: row.try_get("id")?,
                name: text("name")?,
                asset_type: text("asset_type")?.parse().map_err(|e| StoreError::Corrupt(format!("asset_type: {e}")))?,
                identifier,
                org_unit_id: row.try_get("org_unit_id")?,
                responsible_person: text("responsible_person")?,
                criticality: text("criticality")?
                    .parse()
                    .map_err(|e| StoreError::Corrupt(format!("criticality: {e}")))?,
                matched: (*matched).to_owned(),
            });
            if out.len() >= MAX_AFFECTED_ASSETS {
                break;
            }
        }
        Ok(out)
    }
}
