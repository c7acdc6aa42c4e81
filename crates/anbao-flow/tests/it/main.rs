//! Integration tests of anbao-flow: the softflowd exports in
//! ../shared/data/flow against tshark's cflow dissector (tables in
//! test_data/), hand-built datagrams for what those files lack (late
//! templates, withdrawal, sampling, enterprise and variable-length
//! elements, sFlow), and damaged input.

mod build;
mod ipfix;
mod oracle;
mod sflow;
mod v5;
mod v9;

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anbao_flow::{Decoder, DecoderConfig, FlowError, FlowRecord, PacketReport, Timestamp};
use anbao_net::capture::{self, LinkType};
use anbao_net::packet::{self, Transport};

/// `../shared/data` beside the checkout (CI puts it there).
pub fn shared_data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data")
}

pub fn test_data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("test_data").join(name)
}

/// A UDP datagram of a capture: frame number (1-based), time, source, payload.
pub struct Datagram {
    pub frame: usize,
    pub ts: Timestamp,
    pub src: IpAddr,
    pub payload: Vec<u8>,
}

pub fn udp_datagrams(path: &Path) -> Vec<Datagram> {
    let file = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut out = Vec::new();
    let mut frame = 0;
    capture::read_capture(file, |f| {
        frame += 1;
        if let Ok(Some(p)) = packet::decode(LinkType(f.link_type.0), f.data)
            && let Transport::Udp(u) = p.transport
        {
            out.push(Datagram { frame, ts: f.ts, src: p.src, payload: u.payload.to_vec() });
        }
    })
    .unwrap();
    out
}

pub fn exporter() -> IpAddr {
    "192.0.2.1".parse().unwrap()
}

/// Feeds `payload` from [`exporter`] at `secs` and returns what came out.
pub fn feed(decoder: &mut Decoder, secs: i64, payload: &[u8]) -> (Result<PacketReport, FlowError>, Vec<FlowRecord>) {
    let mut flows = Vec::new();
    let r = decoder.decode(exporter(), Timestamp(secs * 1_000_000_000), payload, &mut |f| flows.push(f));
    (r, flows)
}

pub fn decoder() -> Decoder {
    Decoder::new(DecoderConfig::default())
}

pub fn health(decoder: &Decoder) -> anbao_flow::Health {
    decoder.exporters().remove(&exporter()).unwrap_or_default()
}
