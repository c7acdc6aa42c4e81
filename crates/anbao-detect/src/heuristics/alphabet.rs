//! The symbols of the DGA character model, shared by the build script that
//! trains the model and the scorer that reads it (one definition, so the
//! table layout cannot drift between the two).
//!
//! A label is scored as the sequence `^ ^ c1 c2 … cn $`: two start markers
//! give every character a two-symbol context, the end marker lets the model
//! judge how a label ends. Start and end share one symbol (they never occur
//! in the same position of a trigram's last slot and first slots).

/// Letters, digits and the hyphen: what a host name label may hold.
pub(crate) const LETTERS: usize = 37;
/// The start/end marker.
pub(crate) const BOUNDARY: usize = LETTERS;
/// Symbols in a trigram slot.
pub(crate) const SYMBOLS: usize = LETTERS + 1;
/// Cells of the trigram table: `(a * SYMBOLS + b) * SYMBOLS + c`.
pub(crate) const CELLS: usize = SYMBOLS * SYMBOLS * SYMBOLS;
/// Length statistics are kept per label length up to this; longer labels
/// share the last bucket.
pub(crate) const MAX_LEN_BUCKET: usize = 32;
/// Every `HOLDOUT_EVERY`-th line of the benign list (line numbers counted
/// from 0) is left out of training, so tests can measure false positives
/// on names the model has not seen.
pub(crate) const HOLDOUT_EVERY: usize = 10;

/// The symbol of an ASCII byte (lowercase expected), `None` for anything a
/// host name label cannot hold.
pub(crate) fn symbol(byte: u8) -> Option<usize> {
    match byte {
        b'a'..=b'z' => Some(usize::from(byte - b'a')),
        b'0'..=b'9' => Some(26 + usize::from(byte - b'0')),
        b'-' => Some(36),
        _ => None,
    }
}

/// The table cell of the trigram `a b c`.
pub(crate) fn cell(a: usize, b: usize, c: usize) -> usize {
    (a * SYMBOLS + b) * SYMBOLS + c
}

/// The length bucket of a label of `len` characters.
pub(crate) fn len_bucket(len: usize) -> usize {
    len.min(MAX_LEN_BUCKET)
}
