//! `anbao audit`: verify the hash chain offline; export entries.

use std::io::Write;
use std::process::ExitCode;

use anbao_store::AuditFilter;
use anyhow::Result;
use clap::Subcommand;

use crate::{DataArgs, open_store};

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Check the whole chain: exit 0 when intact, 1 naming the first altered, inserted or deleted entry.
    Verify {
        /// Also require the chain to contain this head (SEQ:HASH, as printed by an earlier verify), to catch a truncated tail.
        #[arg(long, value_name = "SEQ:HASH")]
        anchor: Option<String>,
        /// Print the result as JSON (intact, checked, head_seq, head_hash, first_break, message).
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Write entries as JSON lines, newest first.
    Export {
        /// At most this many entries.
        #[arg(long, default_value_t = 100_000)]
        limit: i64,
        #[command(flatten)]
        data: DataArgs,
    },
}

pub async fn run(cmd: AuditCommand) -> Result<ExitCode> {
    match cmd {
        AuditCommand::Verify { anchor, json, data } => {
            let store = open_store(&data.config()?).await?;
            let v = store.verify_audit().await?;
            let mut problem = v.first_break.as_ref().map(|b| b.to_string());
            if problem.is_none()
                && let Some(a) = &anchor
            {
                problem = anchor_problem(&store, a).await?;
            }
            if json {
                out!(
                    "{}",
                    serde_json::json!({
                        "intact": problem.is_none(), "checked": v.checked, "head_seq": v.head_seq, "head_hash": v.head_hash,
                        "first_break": v.first_break, "message": problem,
                    })
                )?;
            } else if let Some(p) = &problem {
                out!("audit chain BROKEN after {} good entries: {p}", v.checked)?;
            } else {
                out!("audit chain intact: {} entries; head {}:{}", v.checked, v.head_seq, v.head_hash)?;
            }
            store.close().await;
            Ok(if problem.is_none() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        AuditCommand::Export { limit, data } => {
            let store = open_store(&data.config()?).await?;
            let entries = store.list_audit(&AuditFilter { limit, ..Default::default() }).await?;
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for e in entries {
                serde_json::to_writer(&mut out, &e)?;
                out.write_all(b"\n")?;
            }
            out.flush()?;
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// Whether the entry recorded as `SEQ:HASH` is still in the chain, unchanged.
async fn anchor_problem(store: &anbao_store::Store, anchor: &str) -> Result<Option<String>> {
    let (seq, hash) = anchor.split_once(':').unwrap_or((anchor, ""));
    let seq: i64 = seq.parse().map_err(|_| anyhow::anyhow!("--anchor {anchor:?}: expected SEQ:HASH"))?;
    let stored = store.list_audit(&AuditFilter { before_seq: Some(seq + 1), limit: 1, ..Default::default() }).await?;
    Ok(match stored.first() {
        Some(e) if e.seq == seq && e.hash == hash => None,
        _ => Some(format!(
            "the chain no longer contains the anchor entry {seq} with hash {hash}: entries were removed from the tail or rewritten"
        )),
    })
}
