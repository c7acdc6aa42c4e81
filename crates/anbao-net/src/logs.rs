//! Sensor and resolver logs, one line at a time: Zeek dns/http/ssl/conn (TSV
//! with its #fields header, and JSON), Suricata EVE JSON (dns, http, tls,
//! flow, alert), BIND query logs, Unbound query logs, and a plain
//! `timestamp client qname qtype` format.
//!
//! OWNER: helper C. Stub until filled.
