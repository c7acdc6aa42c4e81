//! The little TCP reassembly the application decoders need: per flow, the
//! first bytes of each direction in sequence order (bounded), so a DNS
//! message over TCP, an HTTP request head or a ClientHello split across
//! segments can be read. Not a full stream engine.
//!
//! OWNER: helper A. Stub until filled.
