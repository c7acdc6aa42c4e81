//! Domain types and rules of anbao: roles and what they may do, the
//! organisation-unit tree and data scoping, the audit-chain hash, the clock,
//! and validation of names and passwords.
//!
//! This crate owns the rules; it must not do I/O (no files, sockets,
//! databases or async runtime), so every other crate can depend on it and
//! every rule can be tested as a pure function.

pub mod asset;
pub mod asset_match;
pub mod audit;
pub mod catalogue;
pub mod cidr;
pub mod clock;
pub mod deadlines;
pub mod grading;
pub mod incident;
pub mod org;
pub mod report;
pub mod requirements;
pub mod risk;
pub mod role;
pub mod subscriber;
pub mod validate;

pub use clock::{Clock, ManualClock, SystemClock, Timestamp};
pub use org::{OrgKind, OrgScope, OrgUnit};
pub use role::{Permission, Role};
