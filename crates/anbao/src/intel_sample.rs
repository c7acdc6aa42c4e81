//! `anbao intel sample`: the malware sample library from the command line.
//! Uploads may be zips with the conventional password; downloads are
//! always such zips, so a sample never lands on disk ready to run.

use std::path::PathBuf;
use std::process::ExitCode;

use anbao_intel::Category;
use anbao_intel::sample::{CONVENTIONAL_PASSWORD, pack_zip, unpack_zip};
use anbao_store::{Actor, MAX_SAMPLE_BYTES, SampleDraft};
use anyhow::{Context, Result, bail};
use clap::Subcommand;

use crate::{DataArgs, open_store};

#[derive(Debug, Subcommand)]
pub enum SampleCommand {
    /// Add files to the library; zips are opened with --zip-password and each file inside is added.
    Add {
        /// Files to add (zips are opened unless --keep-zip).
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// Malware family, e.g. Mirai.
        #[arg(long)]
        family: Option<String>,
        /// Category of the hash indicators made from the samples. Default: mobile_malware for APK/DEX, else trojan.
        #[arg(long, value_name = "C")]
        category: Option<Category>,
        /// Password of zipped uploads.
        #[arg(long, default_value = CONVENTIONAL_PASSWORD, value_name = "PASSWORD")]
        zip_password: String,
        /// Store zips as they are instead of opening them.
        #[arg(long)]
        keep_zip: bool,
        /// Print what was added as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// List samples, newest first; QUERY matches a hash prefix, a file name or a family.
    List {
        /// Hash prefix, file name or family to look for.
        query: Option<String>,
        /// At most this many samples.
        #[arg(long, default_value_t = 100)]
        limit: i64,
        /// Print the samples as JSON.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        data: DataArgs,
    },
    /// Write a sample as a zip encrypted with the conventional password.
    Get {
        /// Id of the sample, as `anbao intel sample list` shows it.
        id: i64,
        /// Where to write the zip.
        #[arg(long, short)]
        output: PathBuf,
        #[command(flatten)]
        data: DataArgs,
    },
}

pub async fn run(cmd: SampleCommand) -> Result<ExitCode> {
    match cmd {
        SampleCommand::Add { files, family, category, zip_password, keep_zip, json, data } => {
            let store = open_store(&data.config()?).await?;
            let mut added = Vec::new();
            for path in &files {
                let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
                let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let parts = if !keep_zip && anbao_intel::sample::file_type(&bytes) == "zip" {
                    unpack_zip(&bytes, &zip_password, 1000, MAX_SAMPLE_BYTES as u64)
                        .with_context(|| format!("opening {}", path.display()))?
                        .into_iter()
                        .map(|u| (u.name, u.bytes))
                        .collect()
                } else {
                    vec![(name, bytes)]
                };
                for (file_name, bytes) in parts {
                    let draft = SampleDraft {
                        file_name,
                        family: family.clone().unwrap_or_default(),
                        notes: String::new(),
                        category,
                    };
                    let (sample, created) = store.add_sample(&Actor::cli(), &bytes, &draft).await?;
                    if !json {
                        out!(
                            "{} {}\t{}\t{}\t{} bytes\t{}",
                            if created { "added" } else { "known" },
                            sample.id,
                            sample.sha256,
                            sample.file_type,
                            sample.size,
                            sample.file_name
                        )?;
                    }
                    added.push(serde_json::json!({"created": created, "sample": sample}));
                }
            }
            if json {
                out!("{}", serde_json::Value::Array(added))?;
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        SampleCommand::List { query, limit, json, data } => {
            let store = open_store(&data.config()?).await?;
            let samples = store.samples(query.as_deref(), limit).await?;
            if json {
                out!("{}", serde_json::to_string(&samples)?)?;
            } else {
                for s in &samples {
                    out!("{}\t{}\t{}\t{}\t{}\t{}", s.id, s.sha256, s.file_type, s.size, s.family, s.file_name)?;
                }
            }
            store.close().await;
            Ok(ExitCode::SUCCESS)
        }
        SampleCommand::Get { id, output, data } => {
            if output.extension().is_none_or(|e| e != "zip") {
                bail!("--output must end in .zip: samples are only written zipped");
            }
            let store = open_store(&data.config()?).await?;
            let (sample, bytes) = store.sample_content(&Actor::cli(), id).await?;
            store.close().await;
            let name = if sample.file_name.is_empty() { sample.sha256.clone() } else { sample.file_name.clone() };
            let zipped = pack_zip(&name, &bytes, CONVENTIONAL_PASSWORD)?;
            std::fs::write(&output, zipped).with_context(|| format!("writing {}", output.display()))?;
            eprintln!("wrote {} (zip password {CONVENTIONAL_PASSWORD:?})", output.display());
            Ok(ExitCode::SUCCESS)
        }
    }
}
