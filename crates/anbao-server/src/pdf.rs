//! PDF rendering of printable pages (the filing form) with a headless
//! Chromium: the page's HTML goes to a private temporary directory, Chromium
//! prints it, the PDF comes back. No PDF library renders Chinese text and
//! tables as faithfully as the browser people would print from anyway.

use std::path::{Path, PathBuf};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error("no PDF renderer: install Debian's chromium or set pdf_renderer in anbao.toml")]
    NoRenderer,
    #[error("the PDF renderer failed: {0}")]
    Failed(String),
}

const CANDIDATES: &[&str] = &["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"];

/// The configured renderer, or the first Chromium found on PATH.
pub fn find_renderer(configured: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = configured {
        return p.is_file().then(|| p.to_owned());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).flat_map(|dir| CANDIDATES.iter().map(move |c| dir.join(c))).find(|p| p.is_file())
}

/// Prints `html` (a complete document with its CSS inline) to PDF.
pub async fn html_to_pdf(renderer: Option<&Path>, html: &str) -> Result<Vec<u8>, PdfError> {
    let renderer = find_renderer(renderer).ok_or(PdfError::NoRenderer)?;
    let dir = std::env::temp_dir().join(format!("anbao-pdf-{}", crate::metrics::request_id()));
    let failed = |e: std::io::Error| PdfError::Failed(e.to_string());
    create_private_dir(&dir).map_err(failed)?;
    let result = render(&renderer, &dir, html).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    result
}

fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder.create(dir)
}

async fn render(renderer: &Path, dir: &Path, html: &str) -> Result<Vec<u8>, PdfError> {
    let failed = |e: std::io::Error| PdfError::Failed(e.to_string());
    let input = dir.join("page.html");
    let output = dir.join("page.pdf");
    tokio::fs::write(&input, html).await.map_err(failed)?;
    let mut cmd = tokio::process::Command::new(renderer);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-pdf-header-footer",
    ])
    .arg(format!("--user-data-dir={}", dir.join("profile").display()))
    .arg(format!("--print-to-pdf={}", output.display()))
    .arg(format!("file://{}", input.display()))
    .stdin(std::process::Stdio::null())
    .stdout(std::process::Stdio::null())
    .stderr(std::process::Stdio::piped())
    .kill_on_drop(true);
    let run = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .map_err(|_| PdfError::Failed("timed out after 60 s".into()))?
        .map_err(failed)?;
    let pdf = tokio::fs::read(&output).await.map_err(|e| {
        let stderr = String::from_utf8_lossy(&run.stderr);
        PdfError::Failed(format!("{e}; exit {:?}; {}", run.status.code(), stderr.lines().last().unwrap_or_default()))
    })?;
    if !pdf.starts_with(b"%PDF-") {
        return Err(PdfError::Failed("the output is not a PDF".into()));
    }
    Ok(pdf)
}
