//! Integration tests of the store. Every case runs twice, once on SQLite and
//! once on PostgreSQL (`<case>_sqlite`, `<case>_postgres`), each time on a
//! fresh database; see `harness` for how, and for the shared fixtures.
//!
//! PostgreSQL must be reachable (`ANBAO_TEST_POSTGRES`, default
//! `postgres://postgres@127.0.0.1:5432/test`); the PostgreSQL half fails,
//! rather than skips, when it is not.

#[macro_use]
mod harness;

mod alerts;
mod assessments;
mod assets;
mod audit;
mod flow_traffic;
mod incident_evidence;
mod incident_handling;
mod incident_leaks;
mod incident_tasks;
mod incidents;
mod integrity;
mod intel;
mod intel_sources;
mod mitigations;
mod notifications;
mod org_units;
mod plans;
mod reports;
mod samples;
mod sessions;
mod taxii;
mod tokens;
mod users;
mod warnings;
