//! `anbao init`: write a commented configuration and create the database.

use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use clap::Args;

use crate::{DataArgs, config, open_store};

#[derive(Debug, Args)]
pub struct InitArgs {
    #[command(flatten)]
    data: DataArgs,
    /// Overwrite an existing anbao.toml.
    #[arg(long)]
    force: bool,
}

pub async fn run(args: InitArgs) -> Result<ExitCode> {
    let c = args.data.config()?;
    std::fs::create_dir_all(&c.data_dir).with_context(|| format!("creating {}", c.data_dir.display()))?;
    let path = args.data.config.clone().unwrap_or_else(|| c.data_dir.join("anbao.toml"));
    if path.exists() && !args.force {
        bail!("{} already exists; use --force to overwrite it", path.display());
    }
    std::fs::write(&path, config::render_commented(&c)?).with_context(|| format!("writing {}", path.display()))?;
    out!("wrote {}", path.display())?;
    let store = open_store(&c).await?;
    out!(
        "database ready: {} (schema version {})",
        anbao_store::redact_url(&c.database_url()),
        store.schema_version().await?
    )?;
    if let Some(password) = store.bootstrap("集团公司").await? {
        crate::serve::print_admin(&password)?;
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}
