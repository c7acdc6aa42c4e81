//! Prometheus metrics: request counts and latencies per route (the matched
//! route pattern, never the raw path, so ids do not explode the series),
//! the threat-intelligence match index this process serves (read from
//! the current snapshot when scraped), and the embedded detection
//! pipeline's counters per input (read from its status when scraped), and
//! the flow collector's per-exporter health, per-group rates and active
//! attacks (this process's status merged with the other flow nodes' in the
//! store, read when scraped). Flow series carry a `node` label (the node's
//! name: a handful of values); stale nodes have only `anbao_flow_node_up`
//! (0) and no rates.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::{ConstCounter, Counter};
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    intel: IntelGauges,
    /// The merged flow view of the scrape in progress.
    flows: Arc<std::sync::Mutex<anbao_flow::FlowSnapshot>>,
}

#[derive(Default)]
struct IntelGauges {
    indicators: Gauge,
    allowlisted: Gauge,
    generation: Gauge,
    heap_bytes: Gauge,
    build_seconds: Gauge<f64, std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

fn latency_histogram() -> Histogram {
    Histogram::new([0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0])
}

impl Metrics {
    pub fn new(detection: Arc<anbao_detect::PipelineStatus>) -> Metrics {
        let mut registry = Registry::with_prefix("anbao");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register("http_requests", "HTTP requests by route and status", requests.clone());
        registry.register("http_request_duration_seconds", "HTTP request latency by route", latency.clone());
        let intel = IntelGauges::default();
        registry.register("intel_index_indicators", "Indicators in the live match index", intel.indicators.clone());
        registry.register(
            "intel_index_allowlisted",
            "Stored indicators left out of the index by allowlists",
            intel.allowlisted.clone(),
        );
        registry.register("intel_index_generation", "Store generation the index reflects", intel.generation.clone());
        registry.register("intel_index_heap_bytes", "Memory the index owns", intel.heap_bytes.clone());
        registry.register("intel_index_build_seconds", "Time the last index build took", intel.build_seconds.clone());
        registry.register_collector(Box::new(DetectionCollector(detection)));
        let flows = Arc::new(std::sync::Mutex::new(anbao_flow::FlowSnapshot::default()));
        registry.register_collector(Box::new(FlowCollector(flows.clone())));
        Metrics { registry, requests, latency, intel, flows }
    }
}

/// One metric family with a sample per row of a status snapshot (an input,
/// an exporter, a group), labelled by `labels(row)`.
fn encode_rows<R, L: EncodeLabelSet, M: EncodeMetric>(
    encoder: &mut DescriptorEncoder,
    name: &str,
    help: &str,
    metric_type: MetricType,
    rows: &[R],
    labels: impl Fn(&R) -> L,
    value: impl Fn(&R) -> M,
) -> Result<(), std::fmt::Error> {
    let mut family = encoder.encode_descriptor(name, help, None, metric_type)?;
    for row in rows {
        value(row).encode(family.encode_family(&labels(row))?)?;
    }
    Ok(())
}

/// The detection pipeline's counters, read from its status at each scrape.
#[derive(Debug)]
struct DetectionCollector(Arc<anbao_detect::PipelineStatus>);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InputLabels {
    input: String,
    kind: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct InputStateLabels {
    input: String,
    kind: String,
    state: String,
}

impl Collector for DetectionCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snap = self.0.snapshot();
        let pipeline: [(&str, &str, u64); 4] = [
            ("detect_detections", "Indicator hits and heuristic findings", snap.detections),
            ("detect_dropped", "Detections not kept because the pending set was full", snap.dropped),
            ("detect_alerts_written", "Alert rows written (new or updated) to the store", snap.flushed_alerts),
            ("detect_flush_failures", "Alert writes that failed", snap.flush_failures),
        ];
        for (name, help, value) in pipeline {
            ConstCounter::new(value).encode(encoder.encode_descriptor(name, help, None, MetricType::Counter)?)?;
        }
        type PerInput = fn(&anbao_detect::status::InputSnapshot) -> u64;
        let per_input: [(&str, &str, PerInput); 4] = [
            ("detect_input_events", "Events read from the input and matched", |i| i.events),
            ("detect_input_packets", "IP packets decoded from the input (captures and interfaces)", |i| i.packets),
            ("detect_input_files", "Capture files read from the spool directory", |i| i.files),
            ("detect_input_problems", "Records of the input that could not be read", |i| i.problems),
        ];
        let input_labels = |i: &anbao_detect::status::InputSnapshot| InputLabels {
            input: i.name.clone(),
            kind: i.kind.as_str().to_owned(),
        };
        for (name, help, value) in per_input {
            let metric = MetricType::Counter;
            encode_rows(&mut encoder, name, help, metric, &snap.inputs, input_labels, |i| ConstCounter::new(value(i)))?;
        }
        encode_rows(
            &mut encoder,
            "detect_input_state",
            "1 for the state each input is in (starting, running, idle, failed, finished)",
            MetricType::Gauge,
            &snap.inputs,
            |i| InputStateLabels {
                input: i.name.clone(),
                kind: i.kind.as_str().to_owned(),
                state: i.state.as_str().to_owned(),
            },
            |_| ConstGauge::new(1i64),
        )
    }
}

/// The merged flow view, set by [`render`] before each scrape's encoding.
#[derive(Debug)]
struct FlowCollector(Arc<std::sync::Mutex<anbao_flow::FlowSnapshot>>);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ExporterLabels {
    exporter: String,
    node: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct GroupLabels {
    group: String,
    node: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct NodeLabels {
    node: String,
    role: String,
}

impl Collector for FlowCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let snap = match self.0.lock() {
            Ok(s) => s.clone(),
            Err(_) => return Ok(()),
        };
        let local = snap.node.as_ref().map(|n| n.name.clone()).unwrap_or_default();
        let node_of = |n: &Option<String>| n.clone().unwrap_or_else(|| local.clone());
        if !snap.nodes.is_empty() {
            encode_rows(
                &mut encoder,
                "flow_node_up",
                "1 for each flow node heard of in the last 30 seconds, 0 for a stale one",
                MetricType::Gauge,
                &snap.nodes,
                |n| NodeLabels { node: n.info.name.clone(), role: n.info.role.clone() },
                |n| ConstGauge::new(i64::from(!n.stale)),
            )?;
        }
        if !snap.enabled {
            return Ok(());
        }
        type PerExporter = fn(&anbao_flow::Health) -> u64;
        let per_exporter: [(&str, &str, PerExporter); 4] = [
            ("flow_exporter_packets", "Export datagrams received from the exporter", |h| h.packets),
            ("flow_exporter_flows", "Flow records decoded from the exporter", |h| h.flows),
            ("flow_exporter_sequence_gaps", "Times the exporter's sequence number jumped (lost exports)", |h| {
                h.sequence_gaps
            }),
            ("flow_exporter_template_errors", "Templates of the exporter refused", |h| h.template_errors),
        ];
        let exporter_labels = |row: &anbao_flow::status::ExporterRow| ExporterLabels {
            exporter: row.exporter.to_string(),
            node: node_of(&row.node),
        };
        for (name, help, value) in per_exporter {
            let metric = MetricType::Counter;
            encode_rows(&mut encoder, name, help, metric, &snap.exporters, exporter_labels, |row| {
                ConstCounter::new(value(&row.health))
            })?;
        }
        let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        type PerGroup = fn(&anbao_flow::status::GroupRow) -> u64;
        let per_group: [(&str, &str, PerGroup); 2] = [
            ("flow_group_pps", "Packets per second to the group in the last full second", |g| g.pps),
            ("flow_group_bps", "Bits per second to the group in the last full second", |g| g.bps),
        ];
        let group_labels =
            |g: &anbao_flow::status::GroupRow| GroupLabels { group: g.name.clone(), node: node_of(&g.node) };
        for (name, help, value) in per_group {
            let metric = MetricType::Gauge;
            encode_rows(&mut encoder, name, help, metric, &snap.groups, group_labels, |g| {
                ConstGauge::new(int(value(g)))
            })?;
        }
        ConstGauge::new(int(snap.attacks.len() as u64)).encode(encoder.encode_descriptor(
            "flow_attacks_active",
            "Attacks in progress",
            None,
            MetricType::Gauge,
        )?)?;
        Ok(())
    }
}

pub async fn track(State(metrics): State<Arc<Metrics>>, req: Request, next: Next) -> Response {
    let route =
        req.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned()).unwrap_or_else(|| "unmatched".into());
    let method = req.method().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    let elapsed = start.elapsed().as_secs_f64();
    metrics
        .requests
        .get_or_create(&RequestLabels {
            method: method.clone(),
            route: route.clone(),
            status: response.status().as_u16().to_string(),
        })
        .inc();
    metrics.latency.get_or_create(&RouteLabels { method, route }).observe(elapsed);
    response
}

pub async fn render(State(state): State<AppState>) -> Response {
    let snapshot = state.intel.current();
    let g = &state.metrics.intel;
    let int = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
    g.indicators.set(int(snapshot.indicators));
    g.allowlisted.set(int(snapshot.allowlisted));
    g.generation.set(snapshot.generation);
    g.heap_bytes.set(int(snapshot.index.heap_bytes() as u64));
    g.build_seconds.set(snapshot.build_time.as_secs_f64());
    let flows = crate::api::flows::view(&state).await;
    if let Ok(mut f) = state.metrics.flows.lock() {
        *f = flows;
    }
    let mut out = String::new();
    if let Err(e) = prometheus_client::encoding::text::encode(&mut out, &state.metrics.registry) {
        tracing::error!(error = %e, "encoding metrics");
    }
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], out).into_response()
}

/// A short random id to tie a 5xx answer to its log line.
pub fn request_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}
