//! DGA-like names: a registrable label that a character model of benign
//! names finds improbable.
//!
//! Method. A trigram model over letters, digits and the hyphen, with start
//! and end markers, trained at build time (`build.rs`) on the registrable
//! labels of `data/benign-domains.txt` with add-one smoothing, gives the
//! surprisal of a label in bits per character (`-log2 p(c | two before)`,
//! averaged over the characters and the end). Short benign labels are
//! naturally more surprising than long ones, so the surprisal is compared
//! with benign labels of the same length: the deviation `z` is how many
//! standard deviations it lies above their mean. Score = `20 · z`, clamped
//! to 0–100, so the default threshold 70 means 3.5 standard deviations.
//! Shannon entropy and the digit share are reported in the finding but not
//! weighted: on the evaluation below, adding entropy to `z` lowered recall
//! at the same false-positive rate (the trigram model already sees
//! everything entropy sees), and digits are part of the model's alphabet.
//!
//! A single odd name is not a finding: a victim is reported when it asks
//! for `min_names` distinct DGA-like registrable domains within
//! `window_secs` (a bot tries dozens; a person's odd name is one), once per
//! window.
//!
//! Measured (`dga_scores_separate_generated_families_from_held_out_benign_names`
//! in tests/it/heuristics.rs, default settings): 0.31 % of the 14 031
//! held-out benign labels of at least 6 characters score as DGA-like (the
//! model never saw them). Recall on names generated from public
//! descriptions of the families: Ramnit (Park–Miller LCG, 8–19 letters)
//! 93.7 %, Conficker.A/B-like random letters (8–11) 86.4 %, Conficker.C-like
//! (4–9 letters, the short ones not scored at all) 40.4 %, Dyre-like hash
//! hex (a letter and 33 hex digits) 100 %, Suppobox-like dictionary pairs
//! 0.0 %. Precision with 15 000 character-DGA names beside the held-out
//! names: 99.7 %. A client asking for every held-out name, shuffled, at
//! 100 names per window, raised 2 findings in 160 windows (three odd benign
//! names happened to share a window). Dictionary DGAs look like benign
//! names to a character model: catching them needs other evidence
//! (NXDOMAIN rates, registration age) that this crate does not have.
//!
//! Skipped: labels shorter than `min_label_len`, IDN labels (`xn--`), and
//! labels with characters outside `a-z 0-9 -`.

use std::sync::OnceLock;

use serde::{Deserialize, Serialize};

use super::alphabet::{BOUNDARY, CELLS, cell, len_bucket, symbol};

include!(concat!(env!("OUT_DIR"), "/dga_model.rs"));

/// Score points per standard deviation of surprisal above benign names.
pub const POINTS_PER_SD: f32 = 20.0;

/// Settings of the DGA heuristic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DgaConfig {
    /// Run this heuristic.
    pub enabled: bool,
    /// Score (0–100) from which a registrable label counts as DGA-like.
    /// Score = 20 × standard deviations of per-character surprisal above
    /// benign labels of the same length; 70 = 3.5 sd.
    pub threshold: u8,
    /// Labels shorter than this many characters are not scored (too short
    /// to tell apart from abbreviations).
    pub min_label_len: usize,
    /// Distinct DGA-like registrable domains one victim must ask for within
    /// the window before a finding is raised (1–16).
    pub min_names: u32,
    /// Window, in seconds, over which a victim's DGA-like names are counted.
    pub window_secs: u64,
    /// Victims tracked at once (each about 200 bytes).
    pub max_victims: usize,
    /// Domains (and everything under them) never counted. Default: names
    /// that score high but are everywhere (Windows' connectivity check).
    pub allow: Vec<String>,
}

impl Default for DgaConfig {
    fn default() -> Self {
        DgaConfig {
            enabled: true,
            threshold: 70,
            min_label_len: 6,
            min_names: 3,
            window_secs: 600,
            max_victims: 50_000,
            allow: vec!["msftncsi.com".into()],
        }
    }
}

/// How improbable a label is under the benign model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DgaScore {
    /// 0–100.
    pub score: u8,
    /// Mean surprisal, bits per character (end marker included).
    pub bits_per_char: f32,
    /// Standard deviations above benign labels of the same length.
    pub deviation: f32,
}

struct Model {
    bits: Box<[f32]>,
}

fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        let bits: Box<[f32]> =
            TRIGRAM_BITS.chunks_exact(4).filter_map(|c| <[u8; 4]>::try_from(c).ok()).map(f32::from_le_bytes).collect();
        Model { bits }
    })
}

/// Labels the model was trained on (the benign list less its held-out tenth).
pub fn trained_labels() -> usize {
    TRAINED_LABELS
}

/// Every `n`-th line of `data/benign-domains.txt` (from line 0) was held
/// out of training.
pub fn holdout_every() -> usize {
    super::alphabet::HOLDOUT_EVERY
}

/// Scores one registrable label (lowercase). `None` when it is empty,
/// longer than 63 characters, or holds a character outside `a-z 0-9 -`.
pub fn score_label(label: &str) -> Option<DgaScore> {
    if label.is_empty() || label.len() > 63 {
        return None;
    }
    let model = model();
    if model.bits.len() != CELLS {
        return None;
    }
    let (mut a, mut b) = (BOUNDARY, BOUNDARY);
    let mut bits = 0f32;
    for byte in label.bytes() {
        let c = symbol(byte)?;
        bits += model.bits.get(cell(a, b, c)).copied().unwrap_or(0.0);
        (a, b) = (b, c);
    }
    bits += model.bits.get(cell(a, b, BOUNDARY)).copied().unwrap_or(0.0);
    let bits_per_char = bits / (label.len() + 1) as f32;
    let (mean, sd) = LENGTH_STATS.get(len_bucket(label.len())).copied().unwrap_or((4.0, 1.0));
    let deviation = (bits_per_char - mean) / sd;
    let score = (deviation * POINTS_PER_SD).round().clamp(0.0, 100.0) as u8;
    Some(DgaScore { score, bits_per_char, deviation })
}

/// One victim's DGA-like names in the current window.
#[derive(Debug)]
pub(crate) struct VictimNames {
    pub window_start: i64,
    /// Hashes of the distinct registrable domains seen (first 16).
    seen: [u64; 16],
    seen_len: usize,
    pub distinct: u32,
    pub fired: bool,
    /// The first few names and their scores, for the finding's reason.
    pub samples: Vec<(String, DgaScore)>,
}

pub(crate) const MAX_SAMPLES: usize = 3;

impl VictimNames {
    pub(crate) fn new(now: i64) -> Self {
        VictimNames { window_start: now, seen: [0; 16], seen_len: 0, distinct: 0, fired: false, samples: Vec::new() }
    }

    /// Records a name's hash; `true` when it is new in this window. Past 16
    /// names every name counts as new (the victim is well past any sane
    /// `min_names` by then).
    pub(crate) fn note(&mut self, hash: u64) -> bool {
        let seen = self.seen.get(..self.seen_len).unwrap_or(&[]);
        if seen.contains(&hash) {
            return false;
        }
        if let Some(slot) = self.seen.get_mut(self.seen_len) {
            *slot = hash;
            self.seen_len += 1;
        }
        self.distinct = self.distinct.saturating_add(1);
        true
    }
}

/// The reason text of a DGA finding.
pub(crate) fn reason(victim_names: &VictimNames, window_secs: u64) -> String {
    let mut text = format!("{} DGA-like names within {window_secs} s:", victim_names.distinct);
    for (i, (name, s)) in victim_names.samples.iter().enumerate() {
        let label = name.split('.').next().unwrap_or(name);
        let digits = label.bytes().filter(u8::is_ascii_digit).count();
        text.push_str(&format!(
            "{} {name} score {} ({:.1} bits/char, {:.1} sd above benign names of length {}; entropy {:.1} bits, {digits} digits)",
            if i == 0 { "" } else { ";" },
            s.score,
            s.bits_per_char,
            s.deviation,
            label.len(),
            super::names::entropy(label.as_bytes()),
        ));
    }
    text
}

/// Whether a victim's window is over.
pub(crate) fn expired(v: &VictimNames, now: i64, window_secs: u64) -> bool {
    now.saturating_sub(v.window_start) >= i64::try_from(window_secs).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_model_is_built_from_the_list() {
        assert_eq!(model().bits.len(), CELLS);
        assert!(trained_labels() > 100_000, "{}", trained_labels());
        assert!(model().bits.iter().all(|b| b.is_finite() && *b > 0.0));
    }

    #[test]
    fn words_score_low_and_random_letters_high() {
        for benign in ["google", "wikipedia", "facebook", "microsoft", "weather", "shopping"] {
            let s = score_label(benign).unwrap();
            assert!(s.score < 30, "{benign}: {s:?}");
        }
        for random in ["xjqzkvwpfh", "qwxzvbnkpl", "zzkqxjvbwq"] {
            let s = score_label(random).unwrap();
            assert!(s.score >= 70, "{random}: {s:?}");
        }
    }

    #[test]
    fn labels_outside_the_alphabet_are_not_scored() {
        assert_eq!(score_label("under_score"), None);
        assert_eq!(score_label(""), None);
        assert_eq!(score_label(&"a".repeat(64)), None);
        assert_eq!(score_label("UPPER"), None);
    }
}
