//! IPv4 fragment reassembly, bounded in datagrams held, bytes per datagram
//! and age. Enough for DNS over UDP in fragments.
//!
//! OWNER: helper A. Stub until filled.
