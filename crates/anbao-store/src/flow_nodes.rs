//! Flow node status (issue #6, R8.4): each flow collector and bus worker
//! writes its status snapshot every few seconds ([`Store::put_flow_node`],
//! one row per node id), and `anbao serve` reads them all
//! ([`Store::flow_nodes`]) to show a bus deployment on /flows,
//! /api/v1/flows and /metrics. The snapshot is opaque JSON here (anbao-flow's
//! `FlowSnapshot`); nodes not heard of for a day are removed
//! ([`Store::purge_flow_nodes`]).

use anbao_model::Timestamp;
use anbao_model::clock::{format_ts, parse_ts};
use anbao_model::validate::Invalid;
use sqlx::Row;

use crate::{Result, Store, StoreError};

/// A node's status as it writes it.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowNodeDraft {
    /// Stable across restarts: `worker:HOST:pK`, `collector:NAME`, …
    pub node_id: String,
    /// `collector` or `worker`.
    pub role: String,
    pub name: String,
    /// The bus partition a worker owns.
    pub partition: Option<u32>,
    /// The snapshot as JSON.
    pub snapshot: String,
}

/// A node's last status, as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct FlowNode {
    pub node_id: String,
    pub role: String,
    pub name: String,
    pub partition: Option<u32>,
    pub snapshot: String,
    /// When the node wrote it (its clock).
    pub updated_at: Timestamp,
}

/// The longest node id, role or name kept.
const NAME_MAX: usize = 200;

impl Store {
    /// Writes (or replaces) a node's status, stamped with the store's clock.
    pub async fn put_flow_node(&self, node: &FlowNodeDraft) -> Result<()> {
        for (field, value) in [("node_id", &node.node_id), ("role", &node.role), ("name", &node.name)] {
            if value.trim().is_empty() || value.chars().count() > NAME_MAX {
                return Err(Invalid::field(field, "give 1 to 200 characters").into());
            }
        }
        sqlx::query(
            "INSERT INTO flow_nodes (node_id, role, name, bus_partition, snapshot, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (node_id) DO UPDATE SET role = excluded.role, \
             name = excluded.name, bus_partition = excluded.bus_partition, snapshot = excluded.snapshot, \
             updated_at = excluded.updated_at",
        )
        .bind(node.node_id.clone())
        .bind(node.role.clone())
        .bind(node.name.clone())
        .bind(node.partition.map(i64::from))
        .bind(node.snapshot.clone())
        .bind(self.now_text())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Every node's last status, by node id.
    pub async fn flow_nodes(&self) -> Result<Vec<FlowNode>> {
        let rows = sqlx::query(
            "SELECT node_id, role, name, bus_partition, snapshot, updated_at FROM flow_nodes ORDER BY node_id",
        )
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                let updated: String = r.try_get("updated_at")?;
                let partition: Option<i64> = r.try_get("bus_partition")?;
                Ok(FlowNode {
                    node_id: r.try_get("node_id")?,
                    role: r.try_get("role")?,
                    name: r.try_get("name")?,
                    partition: partition.and_then(|p| u32::try_from(p).ok()),
                    snapshot: r.try_get("snapshot")?,
                    updated_at: parse_ts(&updated)
                        .map_err(|e| StoreError::Corrupt(format!("flow_nodes.updated_at {updated:?}: {e}")))?,
                })
            })
            .collect()
    }

    /// Removes the nodes last heard of before `before`; returns how many.
    pub async fn purge_flow_nodes(&self, before: Timestamp) -> Result<u64> {
        Ok(sqlx::query("DELETE FROM flow_nodes WHERE updated_at < $1")
            .bind(format_ts(before))
            .execute(self.pool())
            .await?
            .rows_affected())
    }
}
