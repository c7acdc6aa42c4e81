//! `anbao user`: account recovery and listing without the web UI.

use std::process::ExitCode;

use anbao_store::{Actor, UserFilter};
use anyhow::{Context, Result};
use clap::Subcommand;

use crate::{DataArgs, open_store};

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// List accounts.
    List {
        /// Print the accounts as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Set a new random password (printed on stdout), clear any lockout and end the user's sessions.
    ResetPassword {
        /// User name of the account.
        username: String,
        #[command(flatten)]
        data: DataArgs,
    },
}

pub async fn run(cmd: UserCommand) -> Result<ExitCode> {
    match cmd {
        UserCommand::List { json, data } => {
            let store = open_store(&data.config()?).await?;
            let users = store.list_users(&UserFilter { limit: 10_000, ..Default::default() }).await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&users)?)?;
            } else {
                out!("{:>5}  {:<20} {:<10} {:>5}  STATUS", "ID", "USERNAME", "ROLE", "UNIT")?;
                for u in users {
                    out!(
                        "{:>5}  {:<20} {:<10} {:>5}  {}",
                        u.id,
                        u.username,
                        u.role,
                        u.org_unit_id,
                        if u.disabled { "disabled" } else { "active" }
                    )?;
                }
            }
            store.close().await;
        }
        UserCommand::ResetPassword { username, data } => {
            let store = open_store(&data.config()?).await?;
            let user =
                store.get_user_by_username(&username).await?.with_context(|| format!("no user named {username:?}"))?;
            let password = anbao_store::generate_password(&user.username);
            store.set_password(&Actor::cli(), user.id, &password, true).await?;
            out!("{password}")?;
            store.close().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
