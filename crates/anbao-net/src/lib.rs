//! Network-side decoders (requirements R3.1–R3.3 monitoring of botnets,
//! trojans and mobile malware, R8.1–R8.4 the industry's monitoring and
//! disposal capability): everything that turns captured bytes or sensor logs
//! into typed [`Event`]s the detectors match.
//!
//! - [`capture`]: pcap and pcapng files (recognised by magic), frame by frame.
//! - [`packet`]: link layers (Ethernet, 802.1Q/QinQ, Linux SLL/SLL2, raw IP,
//!   BSD loopback), IPv4/IPv6 with extension headers, UDP and TCP.
//! - [`defrag`] and [`tcp`]: bounded IPv4 fragment reassembly and the little
//!   in-order TCP reassembly needed for DNS over TCP, HTTP request heads and
//!   ClientHellos split across segments.
//! - [`dns`], [`http`], [`tls`], [`quic`]: application messages (DNS queries
//!   and responses, HTTP/1.x request heads, TLS ClientHello with JA3/JA4,
//!   QUIC Initial packets decrypted with the version's public Initial keys).
//! - [`logs`]: Zeek, Suricata EVE, BIND, Unbound and plain query logs.
//! - [`extract`]: the [`Extractor`] that drives a frame through all of the
//!   above, and [`event`]: what comes out.
//!
//! This crate owns wire formats and their decoding rules. It must not do
//! I/O (no files, sockets, database or async runtime: callers hand in bytes
//! or a `std::io::Read`) and must not decide what is malicious: matching and
//! heuristics belong to `anbao-detect`.
//!
//! Inputs are hostile: no panics (unwrap, expect, indexing are denied), every
//! buffer bounded, every error says what and where.
//!
//! Dependencies: `pcap-parser` for the capture file formats; `ring` for the
//! QUIC Initial keys (HKDF, AES-128-GCM, AES header protection); `md-5` for
//! JA3. Packet, DNS, HTTP-head and ClientHello decoding is our own: it is the
//! hot path of the product (millions of packets per CPU-second, no
//! allocation per layer), and the crates that exist either allocate per
//! name/record (hickory-proto) or parse far more than we need.

#![deny(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing)]
#![cfg_attr(test, allow(clippy::unwrap_used, clippy::expect_used, clippy::panic, clippy::indexing_slicing))]

pub mod capture;
pub mod defrag;
pub mod dns;
pub mod event;
pub mod extract;
pub mod http;
pub mod logs;
pub mod packet;
pub mod quic;
pub mod tcp;
pub mod tls;

pub use event::{
    Answer, AnswerData, Dns, Endpoints, Event, Flow, Http, IdsAlert, Message, Proto, Qr, Timestamp, TlsHello,
};
pub use extract::{ExtractStats, Extractor, Limits};
