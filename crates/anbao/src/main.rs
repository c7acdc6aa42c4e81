//! The `anbao` binary: command-line interface and wiring. The only crate
//! that knows argv, stdout and exit codes.
//!
//! Exit codes: 0 success; 1 a check found a problem (e.g. a broken audit
//! chain); 2 an error (bad arguments, unreadable files, database down).

/// `println!` that returns an error instead of panicking when stdout is
/// closed (`anbao openapi | head`), so `main` can exit quietly.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*)
    }};
}

mod audit;
mod bus;
mod config;
mod demo;
mod detect;
mod flow;
mod init;
mod intel;
mod intel_pull;
mod intel_sample;
mod live;
mod net;
mod scan;
mod secrets;
mod serve;
mod token;
mod traffic;
mod user;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

const AFTER_HELP: &str = "Every setting of anbao.toml can also be given as an environment variable \
ANBAO_<NAME> (e.g. ANBAO_LISTEN, ANBAO_DATABASE); flags win over the environment, which wins over the file.\n\
Exit status: 0 success, 1 a check found a problem, 2 error.";

/// anbao (安保): cybersecurity assurance for telecom and internet operators,
/// following MIIT guidance 工信部保〔2014〕368号.
#[derive(Debug, Parser)]
#[command(name = "anbao", version, about, long_about = None, after_help = AFTER_HELP, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the platform: web UI, JSON API and background work.
    Serve(serve::ServeArgs),
    /// Write a commented anbao.toml and create the database.
    Init(init::InitArgs),
    /// Create, list and revoke API tokens for scripts.
    #[command(subcommand)]
    Token(token::TokenCommand),
    /// Check and export the hash-chained audit log.
    #[command(subcommand)]
    Audit(audit::AuditCommand),
    /// Manage user accounts from the command line (e.g. to recover access).
    #[command(subcommand)]
    User(user::UserCommand),
    /// Threat intelligence: import feeds, export indicators and blocklists, look values up.
    #[command(subcommand)]
    Intel(intel::IntelCommand),
    /// Network decoders: print what captures and logs contain (DNS, HTTP, TLS, QUIC).
    #[command(subcommand)]
    Net(net::NetCommand),
    /// Flow exports: decode the NetFlow v5/v9, IPFIX and sFlow datagrams in captures.
    #[command(subcommand)]
    Flow(flow::FlowCommand),
    /// Match captures and logs against indicators (files or the store) and print the alerts.
    /// Exit status 0 when nothing matched, 1 when something did, 2 on error,
    /// 3 when nothing matched but part of the input could not be read.
    Scan(scan::ScanArgs),
    /// Decode captures and logs at the network edge and publish the events to NATS JetStream for workers.
    Sensor(bus::SensorArgs),
    /// Process events from NATS JetStream (shared by any number of workers) and write alerts to the database.
    Worker(bus::WorkerArgs),
    /// Print the OpenAPI 3 document of the JSON API.
    Openapi,
}

/// Where to find the data: shared by every command that opens the store.
#[derive(Debug, Clone, Args)]
pub struct DataArgs {
    /// Data directory (database, secrets, evidence). Default ./anbao-data.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Database URL (sqlite://PATH or postgres://USER@HOST/DB). Default: SQLite in the data directory.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Configuration file. Default: DATA_DIR/anbao.toml if present.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
}

impl DataArgs {
    /// Whether a database is named: by a flag, or by ANBAO_DATABASE,
    /// ANBAO_DATA_DIR or ANBAO_CONFIG.
    pub fn named(&self) -> bool {
        let env = |k: &str| std::env::var_os(k).is_some_and(|v| !v.is_empty());
        self.data_dir.is_some()
            || self.database.is_some()
            || self.config.is_some()
            || ["ANBAO_DATABASE", "ANBAO_DATA_DIR", "ANBAO_CONFIG"].into_iter().any(env)
    }

    /// The effective configuration: defaults, file, environment, flags.
    pub fn config(&self) -> anyhow::Result<config::Config> {
        let env = |k: &str| std::env::var(k).ok();
        let data_dir = self
            .data_dir
            .clone()
            .or_else(|| env("ANBAO_DATA_DIR").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("./anbao-data"));
        let explicit = self.config.clone().or_else(|| env("ANBAO_CONFIG").map(PathBuf::from));
        let path = explicit.clone().unwrap_or_else(|| data_dir.join("anbao.toml"));
        let mut c = config::load(Some(&path), explicit.is_some(), &env)?;
        if let Some(d) = &self.data_dir {
            c.data_dir = d.clone();
        }
        if let Some(db) = &self.database {
            c.database = db.clone();
        }
        Ok(c)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("anbao: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(a) => serve::run(a).await,
            Command::Init(a) => init::run(a).await,
            Command::Token(c) => token::run(c).await,
            Command::Audit(c) => audit::run(c).await,
            Command::User(c) => user::run(c).await,
            Command::Intel(c) => intel::run(c).await,
            Command::Net(c) => net::run(c).await,
            Command::Flow(c) => flow::run(c).await,
            Command::Scan(a) => scan::run(a).await,
            Command::Sensor(a) => bus::run_sensor(a).await,
            Command::Worker(a) => bus::run_worker(a).await,
            Command::Openapi => {
                out!("{}", serde_json::to_string_pretty(&anbao_server::openapi_json())?)?;
                Ok(ExitCode::SUCCESS)
            }
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            // A closed pipe (e.g. `anbao audit export | head`) is not an error.
            if e.chain().any(|c| {
                c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            }) {
                return ExitCode::SUCCESS;
            }
            eprintln!("anbao: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// Opens the store the configuration names, creating the data directory
/// and secrets file on first use.
pub async fn open_store(c: &config::Config) -> anyhow::Result<anbao_store::Store> {
    use anyhow::Context;
    anbao_store::Backend::from_url(&c.database_url())?;
    if c.database.is_empty() {
        std::fs::create_dir_all(&c.data_dir)
            .with_context(|| format!("creating data directory {}", c.data_dir.display()))?;
    }
    let sealer = secrets::load_or_create(&c.secrets_path())?;
    let mut options = anbao_store::StoreOptions::new(sealer);
    options.max_connections = c.db_max_connections.max(1);
    let store = anbao_store::Store::open(&c.database_url(), options).await?;
    Ok(store)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_definition_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
