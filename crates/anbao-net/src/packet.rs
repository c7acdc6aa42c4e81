//! Link, network and transport layers: from a frame's bytes to the IP
//! endpoints and the UDP/TCP payload. No allocation.
//!
//! OWNER: helper A. Stub until filled.
