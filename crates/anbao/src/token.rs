//! `anbao token`: API tokens for scripts, created offline.

use std::process::ExitCode;

use anbao_model::Role;
use anbao_store::{Actor, NewToken};
use anyhow::{Context, Result};
use clap::Subcommand;

use crate::{DataArgs, open_store};

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it alone on stdout (it is shown only once).
    Create {
        /// Role the token acts with: admin, analyst, responder, auditor or regulator.
        #[arg(long)]
        role: Role,
        /// A name saying what uses the token, e.g. ci-bot.
        #[arg(long)]
        name: String,
        /// Organisation unit id the token is scoped to. Default: the root.
        #[arg(long, value_name = "ID")]
        org_unit: Option<i64>,
        /// Expiry, RFC 3339. Default: until revoked.
        #[arg(long, value_name = "TIME")]
        expires: Option<String>,
        /// Print the token and its record as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List tokens (never their secrets).
    List {
        /// Print the tokens as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Revoke a token by id.
    Revoke {
        /// Id of the token, as shown by `anbao token list`.
        id: i64,
        #[command(flatten)]
        data: DataArgs,
    },
}

pub async fn run(cmd: TokenCommand) -> Result<ExitCode> {
    match cmd {
        TokenCommand::Create { role, name, org_unit, expires, json, data } => {
            let store = open_store(&data.config()?).await?;
            if let Some(pw) = store.bootstrap("集团公司").await? {
                crate::serve::print_admin_stderr(&pw);
            }
            let unit = match org_unit {
                Some(u) => u,
                None => store.root_org_unit().await?.context("the organisation tree has no root")?.id,
            };
            let expires_at = expires
                .map(|e| {
                    anbao_model::clock::parse_ts(&e).with_context(|| format!("--expires {e:?} is not an RFC 3339 time"))
                })
                .transpose()?;
            let (secret, token) =
                store.create_token(&Actor::cli(), &NewToken { name, role, org_unit_id: unit, expires_at }).await?;
            if json {
                out!(
                    "{}",
                    serde_json::json!({ "token": secret, "id": token.id, "name": token.name, "role": token.role, "org_unit_id": token.org_unit_id })
                )?;
            } else {
                out!("{secret}")?;
            }
            store.close().await;
        }
        TokenCommand::List { json, data } => {
            let store = open_store(&data.config()?).await?;
            let tokens = store.list_tokens().await?;
            if json {
                out!("{}", serde_json::to_string_pretty(&tokens)?)?;
            } else {
                out!("{:>5}  {:<20} {:<10} {:>5}  {:<14} STATUS", "ID", "NAME", "ROLE", "UNIT", "PREFIX")?;
                for t in tokens {
                    let status = if t.revoked_at.is_some() { "revoked" } else { "active" };
                    out!(
                        "{:>5}  {:<20} {:<10} {:>5}  {:<14} {}",
                        t.id,
                        t.name,
                        t.role,
                        t.org_unit_id,
                        t.prefix,
                        status
                    )?;
                }
            }
            store.close().await;
        }
        TokenCommand::Revoke { id, data } => {
            let store = open_store(&data.config()?).await?;
            let t = store.revoke_token(&Actor::cli(), id).await?;
            eprintln!("revoked token {} ({})", t.id, t.name);
            store.close().await;
        }
    }
    Ok(ExitCode::SUCCESS)
}
