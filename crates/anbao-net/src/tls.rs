//! TLS ClientHello (from TLS records, or a bare handshake message for
//! QUIC): SNI, ALPN, JA3 and JA4.
//!
//! OWNER: helper B. Stub until filled.

use crate::event::TlsHello;

#[derive(Debug, Clone, PartialEq)]
pub enum HelloStatus {
    Complete(TlsHello),
    /// A ClientHello has started; give more bytes.
    Partial,
    NotTls,
}

/// Reads a ClientHello from the start of a client's TCP stream (TLS records,
/// possibly several).
pub fn parse_client_hello_records(bytes: &[u8]) -> HelloStatus {
    let _ = bytes;
    HelloStatus::NotTls
}

/// Reads a ClientHello from a bare handshake message (QUIC CRYPTO data).
/// `quic` selects JA4's `q` prefix.
pub fn parse_client_hello_handshake(bytes: &[u8], quic: bool) -> HelloStatus {
    let _ = (bytes, quic);
    HelloStatus::NotTls
}
