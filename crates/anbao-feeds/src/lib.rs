//! Threat-intelligence feeds at the I/O edge (R3.5, R8.5): reads files,
//! directories (MISP feed folders) and `http(s)://` URLs, undoes gzip, picks
//! the reader from `anbao-intel` by format (or by sniffing the content), and
//! writes what it reads to the store as one recorded import run.
//!
//! `anbao-intel` stays pure (bytes in, items out); everything that touches
//! files, the network or the database for intel lives here, shared by the
//! CLI (`anbao intel import`) and the server (the import page, scheduled
//! pulls). This crate must not know HTTP routes, argv or the terminal.
//!
//! Deviation from the design sketch, which put the TAXII client in
//! `anbao-intel`: network clients are I/O and live here instead.

mod export;
mod format;
mod import;
mod input;
pub mod live;
pub mod publish;
pub mod pull;

pub use export::{ExportFormat, ExportReport, ExportRequest, export, exportable_kinds};
pub use format::Format;
pub use import::{
    ImportOptions, ImportSummary, NoProgress, Problem, Progress, ReadInputs, ReadStreamed, StartedImport,
    UNREADABLE_REASON, begin_import, continue_import, import, is_unreadable, read_inputs, read_inputs_into,
};
pub use input::{Input, Limits};
pub use live::{LiveIndex, Lookup, LookupHit, Snapshot, build_snapshot};
pub use pull::{PullOptions, PullSummary, pull};

/// What can go wrong beyond single bad values (those are [`Problem`]s).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FeedsError {
    #[error("{0}")]
    Usage(String),
    #[error("cannot read {path}: {cause}")]
    Io { path: String, cause: std::io::Error },
    #[error("cannot read {input}: {reason}")]
    Unreadable { input: String, reason: String },
    #[error(transparent)]
    Store(#[from] anbao_store::StoreError),
    #[error("{0}")]
    Internal(String),
}

impl FeedsError {
    pub(crate) fn io(path: &std::path::Path, cause: std::io::Error) -> FeedsError {
        FeedsError::Io { path: path.display().to_string(), cause }
    }
}
