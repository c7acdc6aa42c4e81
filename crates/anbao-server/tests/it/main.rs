//! Integration tests of the HTTP surface: the application router driven
//! with `oneshot` requests (no sockets), each case on its own SQLite file.
//! Shared setup lives in `harness`.

mod harness;

mod alerts;
mod assessments;
mod assets;
mod audit;
mod board;
mod escaping;
mod evidence;
mod flows;
mod handling;
mod headers;
mod import;
mod incident_leaks;
mod incidents;
mod input;
mod intel;
mod intel_more;
mod login;
mod matrix;
mod mitigations;
mod notify;
mod ops;
mod plans;
mod reports;
mod scope;
mod taxii;
mod totp;
mod warnings;
