//! The secrets file: the key that seals personal data at rest. Created with
//! owner-only permissions on first use; never logged.

use std::path::Path;

use anbao_store::Sealer;
use anyhow::{Context, Result};
use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretsFile {
    field_key: String,
}

pub fn load_or_create(path: &Path) -> Result<Sealer> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let f: SecretsFile =
                toml::from_str(&text).with_context(|| format!("parsing secrets file {}", path.display()))?;
            Sealer::from_hex(&f.field_key).with_context(|| format!("secrets file {}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = Sealer::generate_key_hex();
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            }
            let text = format!(
                "# anbao secrets: the key that seals personal data in the database.\n\
                 # Keep it apart from database backups; every node of a cluster needs the same file.\n\
                 field_key = \"{key}\"\n"
            );
            write_private(path, &text).with_context(|| format!("writing secrets file {}", path.display()))?;
            tracing::info!(path = %path.display(), "created secrets file");
            Sealer::from_hex(&key).context("generated key")
        }
        Err(e) => Err(e).with_context(|| format!("reading secrets file {}", path.display())),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut f = options.open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}
