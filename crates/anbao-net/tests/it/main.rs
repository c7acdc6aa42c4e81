//! Integration tests of anbao-net: each decoder against real captures and
//! logs, and the extractor against every pcap in ../shared/data/pcap.

mod capture;
mod defrag;
mod dns;
mod extract;
mod http;
mod logs;
mod packet;
mod quic;
mod tcp;
mod tls;

/// `../shared/data` beside the checkout (CI puts it there).
#[allow(dead_code)]
pub fn shared_data() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}
