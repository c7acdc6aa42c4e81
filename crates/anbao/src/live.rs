//! Live capture from a network interface (`iface:NAME` as an input), for
//! sensors that sit on a mirror port or a resolver's own interface.
//!
//! libpcap (through the `pcap` crate) does the capturing: on Linux it uses
//! AF_PACKET with a memory-mapped ring and compiles tcpdump filter
//! expressions to BPF in the kernel, which we would otherwise have to write
//! with `unsafe` code the workspace forbids. It is behind the cargo feature
//! `live-capture` because it links the system's libpcap (Debian:
//! `libpcap-dev` to build, `libpcap0.8` to run); without the feature an
//! `iface:` input says so instead of failing obscurely.

use crate::traffic::{InputReport, ReadOptions, TrafficSink};
use anbao_net::Extractor;

/// The prefix that names an interface instead of a file.
pub const PREFIX: &str = "iface:";

/// The interface an input names, if it names one.
pub fn interface_of(input: &str) -> Option<&str> {
    input.strip_prefix(PREFIX)
}

#[cfg(not(feature = "live-capture"))]
pub fn read_interface(
    _interface: &str,
    _options: &ReadOptions,
    _extractor: &mut Extractor,
    _sink: &mut dyn TrafficSink,
    report: &mut InputReport,
) {
    report.error = Some(
        "live capture is not in this build of anbao: rebuild with `cargo build --release --features live-capture` \
         (needs libpcap-dev), or capture with tcpdump into a spool directory and read the files"
            .to_owned(),
    );
}

#[cfg(feature = "live-capture")]
pub fn read_interface(
    interface: &str,
    options: &ReadOptions,
    extractor: &mut Extractor,
    sink: &mut dyn TrafficSink,
    report: &mut InputReport,
) {
    use anbao_net::Timestamp;
    use anbao_net::capture::{Frame, LinkType};

    let opened = pcap::Capture::from_device(interface)
        .map(|c| {
            c.promisc(true)
                .snaplen(65_535)
                // Wake up at least every 200 ms so a packet limit or a
                // quiet interface never blocks for long.
                .timeout(200)
                .immediate_mode(true)
                .buffer_size(32 << 20)
                .precision(pcap::Precision::Nano)
        })
        .and_then(|c| c.open());
    let mut capture = match opened {
        Ok(c) => c,
        Err(e) => {
            report.error = Some(format!(
                "cannot capture on interface {interface}: {e} (capturing needs root or CAP_NET_RAW and CAP_NET_ADMIN)"
            ));
            return;
        }
    };
    if let Some(filter) = options.capture_filter.as_deref()
        && let Err(e) = capture.filter(filter, true)
    {
        report.error = Some(format!("capture filter {filter:?}: {e}"));
        return;
    }
    let link_type = LinkType(u32::try_from(capture.get_datalink().0).unwrap_or(u32::MAX));
    report.format = format!("live ({})", capture.get_datalink().get_name().unwrap_or_else(|_| "unknown link".into()));
    tracing::info!(interface, link = %report.format, filter = ?options.capture_filter, "capturing");
    let mut events = 0u64;
    loop {
        if options.max_packets.is_some_and(|max| report.records >= max) {
            break;
        }
        let packet = match capture.next_packet() {
            Ok(p) => p,
            Err(pcap::Error::TimeoutExpired) => continue,
            Err(e) => {
                report.problem(format!("packet {}", report.records + 1), format!("capture stopped: {e}"));
                break;
            }
        };
        report.records += 1;
        let header = packet.header;
        let ts = Timestamp::from_secs_nanos(header.ts.tv_sec, u32::try_from(header.ts.tv_usec).unwrap_or(0));
        let frame = Frame { ts, link_type, data: packet.data, original_len: header.len };
        let endpoints = extractor.frame(&frame, &mut |event| {
            events += 1;
            sink.event(&event);
        });
        if let Some(ep) = endpoints {
            sink.packet(ts, &ep);
        }
    }
    report.events = events;
    if let Ok(stat) = capture.stats() {
        let lost = u64::from(stat.dropped) + u64::from(stat.if_dropped);
        if lost > 0 {
            report.problem(
                format!("interface {interface}"),
                format!(
                    "{lost} packet(s) dropped before we read them ({} by the kernel buffer, {} by the interface)",
                    stat.dropped, stat.if_dropped
                ),
            );
        }
    }
}

/// Options for `iface:` inputs, shared by the commands that read traffic.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct LiveArgs {
    /// For `iface:NAME` inputs: a tcpdump filter expression, applied in the kernel
    /// (e.g. "udp port 53 or tcp port 80 or tcp port 443").
    #[arg(long, value_name = "EXPR")]
    pub capture_filter: Option<String>,
    /// For `iface:NAME` inputs: stop after this many packets (default: run until stopped).
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
}
