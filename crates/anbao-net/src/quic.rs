//! QUIC Initial packets (RFC 9000/9001, and v2 RFC 9369): derive the public
//! Initial keys from the client's Destination Connection ID, remove header
//! protection, decrypt, and collect CRYPTO frames until the ClientHello is
//! whole (it may span several Initial packets and datagrams).
//!
//! OWNER: helper Q. Stub until filled.

use std::net::IpAddr;

use crate::event::TlsHello;

/// The client side of a UDP flow: (client address, client port, server
/// address, server port).
pub type FlowKey = (IpAddr, u16, IpAddr, u16);

#[derive(Debug, Clone, PartialEq)]
pub enum QuicOutcome {
    /// Not a QUIC long-header packet of a version we know.
    NotQuic,
    /// QUIC, but nothing for us (not a client Initial, or a later packet of
    /// a connection whose hello was already seen).
    Ignored,
    /// Part of a ClientHello; more Initial packets needed.
    Pending,
    Hello(TlsHello),
    /// A client Initial we could not read (authentication failed, malformed
    /// frames, CRYPTO data over the bound).
    Undecodable(&'static str),
}

/// Bounded per-connection state for ClientHellos split across datagrams.
#[derive(Debug)]
pub struct QuicInitials {
    max_connections: usize,
}

impl QuicInitials {
    pub fn new(max_connections: usize) -> Self {
        QuicInitials { max_connections }
    }

    /// Feeds one UDP payload sent from `flow.0:flow.1` to `flow.2:flow.3`.
    pub fn datagram(&mut self, flow: FlowKey, payload: &[u8]) -> QuicOutcome {
        let _ = (flow, payload, self.max_connections);
        QuicOutcome::NotQuic
    }
}
