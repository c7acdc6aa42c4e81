//! Decoding errors. Offsets are bytes from the start of the UDP payload.

/// What went wrong with one export datagram (or one part of it).
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum FlowError {
    /// The payload is not NetFlow v5/v9, IPFIX or sFlow v5 (for a collector
    /// reading every UDP payload of a capture, this is not an error).
    #[error("not a flow export (first bytes {first:#010x})")]
    NotFlowExport { first: u32 },
    /// The datagram ends inside something whose length it announced.
    #[error("{what} truncated at byte {at}: {needed} bytes needed, {available} left")]
    Truncated { what: &'static str, at: usize, needed: usize, available: usize },
    /// A field that cannot be right.
    #[error("{what} malformed at byte {at}: {why}")]
    Malformed { what: &'static str, at: usize, why: &'static str },
    /// A template (or options template) that cannot be used; the set it was
    /// in is skipped, the rest of the datagram is still read.
    #[error("template {id} at byte {at}: {why}")]
    BadTemplate { id: u16, at: usize, why: &'static str },
    /// A bound of [`DecoderConfig`](crate::DecoderConfig) was reached.
    #[error("{what} limit reached at byte {at}")]
    Limit { what: &'static str, at: usize },
}

impl FlowError {
    /// Whether this is a problem of the datagram (as opposed to "not a flow
    /// export at all").
    pub fn is_problem(&self) -> bool {
        !matches!(self, FlowError::NotFlowExport { .. })
    }
}
