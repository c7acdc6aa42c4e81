//! Trains the DGA character model at build time: trigram surprisal (bits)
//! with add-k smoothing over the registrable labels of
//! `data/benign-domains.txt`, and the mean and spread of per-character
//! surprisal of those labels by length. Writes `dga_trigram.bin` (f32 LE,
//! one per trigram cell) and `dga_model.rs` (the length table and counts)
//! into OUT_DIR; `src/heuristics/dga.rs` includes both.

use std::error::Error;
use std::fmt::Write as _;
use std::path::PathBuf;

#[allow(dead_code)]
#[path = "src/heuristics/alphabet.rs"]
mod alphabet;

use alphabet::{BOUNDARY, CELLS, HOLDOUT_EVERY, MAX_LEN_BUCKET, SYMBOLS, cell, len_bucket, symbol};

/// Add-k smoothing: every trigram counts as seen `K` times more than it was.
/// 1.0 separated random labels from benign ones best of 0.01, 0.1, 0.5, 1
/// and 2 on the held-out slice (see the module doc of `dga`).
const K: f64 = 1.0;

const LIST: &str = "data/benign-domains.txt";

fn main() -> Result<(), Box<dyn Error>> {
    println!("cargo:rerun-if-changed={LIST}");
    println!("cargo:rerun-if-changed=src/heuristics/alphabet.rs");
    println!("cargo:rerun-if-changed=build.rs");
    let manifest = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    let text = std::fs::read_to_string(manifest.join(LIST)).map_err(|e| format!("reading {LIST}: {e}"))?;

    let labels: Vec<Vec<usize>> = text
        .lines()
        .enumerate()
        .filter(|(i, _)| i % HOLDOUT_EVERY != 0)
        .filter_map(|(_, line)| {
            let label = line.trim().split('.').next()?;
            let symbols: Option<Vec<usize>> = label.bytes().map(|b| symbol(b.to_ascii_lowercase())).collect();
            symbols.filter(|s| !s.is_empty())
        })
        .collect();
    if labels.len() < 1000 {
        return Err(format!("{LIST}: only {} usable labels; the model needs a real list", labels.len()).into());
    }

    let mut counts = vec![0u32; CELLS];
    for label in &labels {
        for (a, b, c) in trigrams(label) {
            if let Some(n) = counts.get_mut(cell(a, b, c)) {
                *n += 1;
            }
        }
    }
    let mut surprisal = vec![0f64; CELLS];
    for a in 0..SYMBOLS {
        for b in 0..SYMBOLS {
            let total: f64 = (0..SYMBOLS).filter_map(|c| counts.get(cell(a, b, c))).map(|&n| f64::from(n)).sum();
            for c in 0..SYMBOLS {
                let n = counts.get(cell(a, b, c)).map_or(0.0, |&n| f64::from(n));
                if let Some(s) = surprisal.get_mut(cell(a, b, c)) {
                    *s = -((n + K) / (total + K * SYMBOLS as f64)).log2();
                }
            }
        }
    }

    // Mean and standard deviation of bits per character, by label length.
    let mut sums = [(0f64, 0f64, 0u64); MAX_LEN_BUCKET + 1];
    for label in &labels {
        let bits: f64 = trigrams(label).filter_map(|(a, b, c)| surprisal.get(cell(a, b, c))).sum();
        let per_char = bits / (label.len() + 1) as f64;
        if let Some(slot) = sums.get_mut(len_bucket(label.len())) {
            slot.0 += per_char;
            slot.1 += per_char * per_char;
            slot.2 += 1;
        }
    }
    let mut model = String::new();
    writeln!(model, "/// Labels the model was trained on.")?;
    writeln!(model, "pub(crate) const TRAINED_LABELS: usize = {};", labels.len())?;
    writeln!(model, "/// (mean, standard deviation) of bits per character of benign labels, by length.")?;
    writeln!(model, "pub(crate) const LENGTH_STATS: [(f32, f32); {}] = [", MAX_LEN_BUCKET + 1)?;
    let mut previous = (4.0f64, 1.0f64);
    for (sum, sum_sq, n) in sums {
        // Lengths with too few examples borrow the previous length's numbers.
        let stats = if n >= 20 {
            let mean = sum / n as f64;
            let var = (sum_sq / n as f64 - mean * mean).max(0.0);
            (mean, var.sqrt().max(0.05))
        } else {
            previous
        };
        previous = stats;
        writeln!(model, "    ({:?}, {:?}),", stats.0 as f32, stats.1 as f32)?;
    }
    writeln!(model, "];")?;
    writeln!(
        model,
        "/// Trigram surprisal in bits, f32 little-endian per cell.\n\
         pub(crate) static TRIGRAM_BITS: &[u8] = include_bytes!(concat!(env!(\"OUT_DIR\"), \"/dga_trigram.bin\"));"
    )?;

    let bytes: Vec<u8> = surprisal.iter().flat_map(|&s| (s as f32).to_le_bytes()).collect();
    std::fs::write(out.join("dga_trigram.bin"), bytes)?;
    std::fs::write(out.join("dga_model.rs"), model)?;
    Ok(())
}

/// The trigrams of `^ ^ label $`.
fn trigrams(label: &[usize]) -> impl Iterator<Item = (usize, usize, usize)> + '_ {
    let padded = [BOUNDARY, BOUNDARY].into_iter().chain(label.iter().copied()).chain([BOUNDARY]);
    let mut window = (BOUNDARY, BOUNDARY);
    padded.skip(2).map(move |c| {
        let t = (window.0, window.1, c);
        window = (window.1, c);
        t
    })
}
