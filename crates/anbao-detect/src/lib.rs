//! Detection (requirements R3.1–R3.3 finding botnet, trojan and
//! mobile-malware victims; R3.6 matching traffic against the shared
//! indicator libraries; R3.8 naming the subscriber to notify):
//!
//! - [`matcher`]: every DNS name and answer address, HTTP host and URL,
//!   TLS/QUIC SNI and fingerprint, and flow endpoint of an
//!   [`anbao_net::Event`] looked up in the indicator index, allowlist
//!   applied, each hit a [`Detection`] naming the victim.
//! - [`alerts`]: detections folded into [`Alert`]s by a stable key (victim,
//!   indicator) with counts, first and last seen, and the first evidence.
//! - [`heuristics`]: what no feed lists yet: DGA-like names, DNS
//!   tunnelling, lookalikes of protected brands, fast-flux; each a
//!   [`Finding`] with a score, deduplicated per victim and domain.
//! - [`status`]: what a running pipeline reports about its inputs and
//!   counters (for the status page and `/metrics`).
//!
//! This crate owns what counts as a hit and who the victim is. It must not
//! do I/O (no files, store, network): callers hand in events and an index,
//! and take alerts away to print or store. Decoding belongs to `anbao-net`,
//! the indicator rules to `anbao-intel`.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

pub mod alerts;
pub mod heuristics;
pub mod matcher;
pub mod status;

pub use alerts::{Alert, AlertBook, AlertKey, Evidence};
pub use heuristics::{Finding, Heuristics, HeuristicsConfig, HeuristicsStats};
pub use matcher::{Detection, EndpointPairs, Field, Intel, MatchHow, MatchStats, client_of, partition_of};
pub use status::{InputKind, InputState, PipelineStatus, StatusSnapshot};
