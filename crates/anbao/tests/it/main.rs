//! Contract tests of the `anbao` command line: each test runs the real
//! binary (and, where needed, `anbao serve` as a child process) the way an
//! operator or a script would, and checks exit codes, output and effects.
//!
//! PostgreSQL tests need a server at `ANBAO_TEST_POSTGRES` (default
//! `postgres://postgres@127.0.0.1:5432/test`, trust auth) and the `psql`
//! client; they fail, not skip, when it is unreachable.

mod harness;

mod audit;
mod bus;
mod cluster;
mod config;
mod errors;
mod exporters;
mod flow;
mod help;
mod init;
mod intel;
mod intel_pull;
mod net;
mod notify;
mod scan;
mod taxii;
mod tls;
mod token;
