//! Flow node status in the store (bus mode, R8.4): every flow process, a
//! collector (`anbao flow collect`, or `anbao serve` with `flow_listen`) or
//! a bus worker, names itself in its [`FlowStatus`] and writes its snapshot
//! to the store's `flow_nodes` every [`NODE_REPORT_SECS`], so `anbao serve`
//! on any node shows the whole deployment (anbao-flow's
//! [`anbao_flow::status::merge`]). Nodes not heard of for a day are removed
//! by the writers.

use std::sync::Arc;
use std::time::Duration;

use anbao_flow::FlowStatus;
use anbao_flow::status::{NODE_REPORT_SECS, NodeInfo};
use anbao_store::{FlowNodeDraft, Store};

/// Rows older than this are removed.
const FORGET_AFTER: time::Duration = time::Duration::days(1);

/// Names this process's flow status `node`.
pub fn identify(status: &FlowStatus, id: String, role: &str, name: String, partition: Option<u32>) {
    status.set_node(NodeInfo { id, role: role.to_owned(), name, partition });
}

/// Writes `status`'s snapshot to the store now. Nothing without a node name.
pub async fn write(store: &Store, status: &FlowStatus) -> anyhow::Result<()> {
    let snap = status.snapshot();
    let Some(node) = &snap.node else { return Ok(()) };
    let draft = FlowNodeDraft {
        node_id: node.id.clone(),
        role: node.role.clone(),
        name: node.name.clone(),
        partition: node.partition,
        snapshot: serde_json::to_string(&snap)?,
    };
    store.put_flow_node(&draft).await?;
    Ok(())
}

/// Writes the snapshot every [`NODE_REPORT_SECS`] until the process ends,
/// and once an hour removes the nodes not heard of for a day. A failure
/// is logged; the next round tries again.
pub fn spawn_reporter(store: Store, status: Arc<FlowStatus>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(NODE_REPORT_SECS));
        let mut round = 0u64;
        loop {
            tick.tick().await;
            if let Err(e) = write(&store, &status).await {
                tracing::warn!(error = format!("{e:#}"), "writing the flow node status");
            }
            if round.is_multiple_of(3600 / NODE_REPORT_SECS)
                && let Err(e) = store.purge_flow_nodes(store.clock().now() - FORGET_AFTER).await
            {
                tracing::warn!(error = %e, "removing old flow nodes");
            }
            round += 1;
        }
    });
}
