//! Where feed bytes come from: files, directories (a MISP feed directory or
//! a folder of files), `http(s)://` URLs, or bytes already in hand (an
//! upload, stdin). Gzip is undone here, transparently, with a cap on the
//! decompressed size.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::FeedsError;

/// One thing the user named.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Input {
    Path(PathBuf),
    Url(String),
    Bytes { name: String, bytes: Vec<u8> },
}

impl Input {
    /// `http://…`/`https://…` are URLs, anything else a path.
    pub fn parse(arg: &str) -> Input {
        if arg.starts_with("http://") || arg.starts_with("https://") {
            Input::Url(arg.to_owned())
        } else {
            Input::Path(PathBuf::from(arg))
        }
    }

    /// A short name for the source when the user gave none: the file stem,
    /// the directory name, or the URL's host.
    pub fn default_source(&self) -> String {
        match self {
            Input::Path(p) => {
                let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let stem = name.split('.').next().unwrap_or_default().to_owned();
                if stem.is_empty() { "file".to_owned() } else { stem }
            }
            Input::Url(u) => u.split("://").nth(1).and_then(|r| r.split(['/', ':']).next()).unwrap_or("url").to_owned(),
            Input::Bytes { name, .. } => {
                name.split('.').next().filter(|s| !s.is_empty()).unwrap_or("upload").to_owned()
            }
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Input::Path(p) => p.display().to_string(),
            Input::Url(u) => u.clone(),
            Input::Bytes { name, .. } => name.clone(),
        }
    }
}

/// Limits on what is read.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest document after decompression.
    pub max_document_bytes: usize,
    /// Per HTTP request (connect and read).
    pub http_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_document_bytes: 2 << 30, http_timeout: Duration::from_secs(120) }
    }
}

/// One document to read, not yet loaded.
#[derive(Clone, Debug)]
pub(crate) enum Source {
    File(PathBuf),
    Url(String),
    Bytes { name: String, bytes: Vec<u8> },
}

impl Source {
    pub(crate) fn name(&self) -> String {
        match self {
            Source::File(p) => p.display().to_string(),
            Source::Url(u) => u.clone(),
            Source::Bytes { name, .. } => name.clone(),
        }
    }
}

/// A MISP feed's index: `manifest.json` beside one `<uuid>.json` per event.
const MISP_MANIFEST: &str = "manifest.json";

/// The documents an input stands for. A directory with a `manifest.json`
/// is a MISP feed: the events the manifest lists. Any other directory: its
/// regular files, sorted by name (not recursive; hidden files skipped). A
/// URL ending in `manifest.json` is a MISP feed on a web server.
pub(crate) fn expand(input: &Input, limits: &Limits) -> Result<Vec<Source>, FeedsError> {
    match input {
        Input::Bytes { name, bytes } => Ok(vec![Source::Bytes { name: name.clone(), bytes: bytes.clone() }]),
        Input::Url(url) => {
            if let Some(base) = url.strip_suffix(MISP_MANIFEST) {
                let manifest = fetch(url, limits)?;
                let uuids = manifest_events(&manifest, url)?;
                Ok(uuids.into_iter().map(|u| Source::Url(format!("{base}{u}.json"))).collect())
            } else {
                Ok(vec![Source::Url(url.clone())])
            }
        }
        Input::Path(path) => {
            let meta = std::fs::metadata(path).map_err(|e| FeedsError::io(path, e))?;
            if !meta.is_dir() {
                return Ok(vec![Source::File(path.clone())]);
            }
            let manifest = path.join(MISP_MANIFEST);
            if manifest.is_file() {
                let bytes = read_file(&manifest, limits)?;
                let uuids = manifest_events(&bytes, &manifest.display().to_string())?;
                return Ok(uuids.into_iter().map(|u| Source::File(path.join(format!("{u}.json")))).collect());
            }
            let mut files = Vec::new();
            for entry in std::fs::read_dir(path).map_err(|e| FeedsError::io(path, e))? {
                let entry = entry.map_err(|e| FeedsError::io(path, e))?;
                let name = entry.file_name();
                if name.to_string_lossy().starts_with('.') {
                    continue;
                }
                if entry.file_type().map_err(|e| FeedsError::io(path, e))?.is_file() {
                    files.push(entry.path());
                }
            }
            files.sort();
            Ok(files.into_iter().map(Source::File).collect())
        }
    }
}

/// Event uuids a MISP manifest lists, oldest first (so a later event's
/// statement about a value wins).
fn manifest_events(bytes: &[u8], name: &str) -> Result<Vec<String>, FeedsError> {
    let entries = anbao_intel::misp::read_manifest(bytes)
        .map_err(|e| FeedsError::Unreadable { input: name.to_owned(), reason: e.to_string() })?;
    let mut entries: Vec<_> = entries.into_iter().collect();
    entries.sort_by(|a, b| a.timestamp.cmp(&b.timestamp).then_with(|| a.uuid.cmp(&b.uuid)));
    Ok(entries
        .into_iter()
        .map(|e| e.uuid)
        // A uuid is a file name here: nothing that could leave the folder.
        .filter(|u| !u.is_empty() && u.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'))
        .collect())
}

/// Loads and decompresses a document.
pub(crate) fn load(source: Source, limits: &Limits) -> Result<(String, Vec<u8>), FeedsError> {
    let name = source.name();
    let raw = match source {
        Source::File(p) => read_file(&p, limits)?,
        Source::Url(u) => fetch(&u, limits)?,
        Source::Bytes { bytes, .. } => bytes,
    };
    let bytes = anbao_intel::compress::decompress(&raw, limits.max_document_bytes)
        .map_err(|e| FeedsError::Unreadable { input: name.clone(), reason: e.to_string() })?
        .into_owned();
    Ok((name, bytes))
}

fn read_file(path: &Path, limits: &Limits) -> Result<Vec<u8>, FeedsError> {
    let file = std::fs::File::open(path).map_err(|e| FeedsError::io(path, e))?;
    read_capped(file, limits.max_document_bytes, &path.display().to_string())
}

fn read_capped(r: impl Read, max: usize, name: &str) -> Result<Vec<u8>, FeedsError> {
    let mut buf = Vec::new();
    let cap = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
    r.take(cap)
        .read_to_end(&mut buf)
        .map_err(|e| FeedsError::Unreadable { input: name.to_owned(), reason: e.to_string() })?;
    if buf.len() > max {
        return Err(FeedsError::Unreadable { input: name.to_owned(), reason: format!("larger than {max} bytes") });
    }
    Ok(buf)
}

/// GETs a URL; non-2xx answers are errors naming the status.
pub(crate) fn fetch(url: &str, limits: &Limits) -> Result<Vec<u8>, FeedsError> {
    let agent = ureq::AgentBuilder::new().timeout(limits.http_timeout).build();
    let unreadable = |reason: String| FeedsError::Unreadable { input: url.to_owned(), reason };
    match agent.get(url).call() {
        Ok(resp) => read_capped(resp.into_reader(), limits.max_document_bytes, url),
        Err(ureq::Error::Status(code, resp)) => Err(unreadable(format!("HTTP {code} {}", resp.status_text()))),
        Err(e) => Err(unreadable(e.to_string())),
    }
}
