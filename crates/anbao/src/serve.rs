//! `anbao serve`: the platform's web UI and API, with embedded SQLite by
//! default or a shared PostgreSQL database.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anbao_server::{AppState, Lang, ServerConfig};
use anyhow::{Context, Result, bail};
use clap::Args;

use crate::{DataArgs, config::Config, open_store};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080; port 0 picks a free port).
    #[arg(long, value_name = "ADDR")]
    listen: Option<String>,
    #[command(flatten)]
    data: DataArgs,
    /// Load a small demo organisation (units and accounts) so every page has content.
    #[arg(long)]
    demo: bool,
}

pub fn print_admin(password: &str) -> std::io::Result<()> {
    out!("created the first administrator account")?;
    out!("  user:     admin")?;
    out!("  password: {password}")?;
    out!("change this password after the first login (Account page)")
}

pub fn print_admin_stderr(password: &str) {
    eprintln!("created the first administrator account: user admin, password {password}");
}

type RuleFiles =
    (Option<&'static anbao_model::grading::GradingRules>, Option<&'static anbao_model::catalogue::Catalogue>);

/// The operator's grading rules and extra requirements, read and checked
/// once at start-up (kept for the life of the process).
fn load_rule_files(c: &Config) -> Result<RuleFiles> {
    use anbao_model::catalogue::Catalogue;
    use anbao_model::grading::GradingRules;
    let grading = match c.grading_rules_file.as_str() {
        "" => None,
        path => {
            let text = std::fs::read_to_string(path).with_context(|| format!("reading grading_rules_file {path}"))?;
            let rules = GradingRules::parse(&text).with_context(|| format!("grading_rules_file {path}"))?;
            Some(&*Box::leak(Box::new(rules)))
        }
    };
    let catalogue = match c.extra_requirements_file.as_str() {
        "" => None,
        path => {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading extra_requirements_file {path}"))?;
            let extra = Catalogue::parse(&text).with_context(|| format!("extra_requirements_file {path}"))?;
            let merged = Catalogue::merge(Catalogue::builtin()?, &extra)
                .with_context(|| format!("extra_requirements_file {path}"))?;
            Some(&*Box::leak(Box::new(merged)))
        }
    };
    Ok((grading, catalogue))
}

fn init_tracing(c: &Config) {
    let filter = tracing_subscriber::EnvFilter::try_new(&c.log_level)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if c.log_format == "json" { builder.json().try_init() } else { builder.try_init() };
}

pub async fn run(args: ServeArgs) -> Result<ExitCode> {
    let mut c = args.data.config()?;
    if let Some(l) = &args.listen {
        c.listen = l.clone();
    }
    init_tracing(&c);
    let addr: SocketAddr =
        c.listen.parse().with_context(|| format!("listen address {:?} is not HOST:PORT", c.listen))?;
    let store = open_store(&c).await?;
    tracing::info!(database = %anbao_store::redact_url(&c.database_url()), backend = store.backend().as_str(), "store open");
    if let Some(password) = store.bootstrap("集团公司").await? {
        print_admin(&password)?;
    }
    if args.demo {
        crate::demo::load(&store).await?;
    }
    let tls = match (c.tls_cert.is_empty(), c.tls_key.is_empty()) {
        (true, true) => None,
        (false, false) => Some((PathBuf::from(&c.tls_cert), PathBuf::from(&c.tls_key))),
        _ => bail!("set both tls_cert and tls_key, or neither"),
    };
    let (grading_rules, catalogue) = load_rule_files(&c)?;
    let server_config = ServerConfig {
        secure_cookies: tls.is_some() || c.behind_tls_proxy,
        default_lang: Lang::parse(&c.language).with_context(|| format!("language {:?}: use zh or en", c.language))?,
        login: anbao_store::LoginPolicy {
            max_failures: c.lockout_failures.max(1),
            lockout: time::Duration::minutes(c.lockout_minutes.max(1)),
            ..Default::default()
        },
        session: anbao_store::SessionPolicy {
            idle: time::Duration::minutes(c.session_idle_minutes.max(1)),
            absolute: time::Duration::hours(c.session_max_hours.max(1)),
        },
        instance_name: c.instance_name.clone(),
        risk_method: {
            let m = anbao_model::risk::RiskMethod {
                medium_from: c.risk_medium_from,
                high_from: c.risk_high_from,
                critical_from: c.risk_critical_from,
            };
            m.check().map_err(|e| anyhow::anyhow!("risk_*_from settings: {}", e.reason))?;
            m
        },
        grading_rules,
        catalogue,
        incident_rules: {
            let minutes = anbao_model::incident::ReportMinutes {
                cii: c.incident_report_minutes_cii,
                central: c.incident_report_minutes_central,
                other: c.incident_report_minutes_other,
            };
            let builtin = anbao_model::incident::IncidentRules::builtin()?;
            if builtin.reporting.minutes == minutes {
                None
            } else {
                let rules = builtin.clone().with_minutes(minutes).context("incident_report_minutes_* settings")?;
                Some(&*Box::leak(Box::new(rules)))
            }
        },
        operator_category: c
            .operator_category
            .parse()
            .map_err(|e| anyhow::anyhow!("operator_category: {e}; use cii, central or other"))?,
        pdf_renderer: (!c.pdf_renderer.is_empty()).then(|| PathBuf::from(&c.pdf_renderer)),
        taxii_max_content_length: c.taxii_max_content_length.max(1024),
        incident_evidence_max_bytes: {
            let n = c.incident_evidence_max_bytes;
            if !(1..=anbao_store::INCIDENT_EVIDENCE_MAX_CEILING).contains(&n) {
                bail!("incident_evidence_max_bytes {n}: use 1 to {} bytes", anbao_store::INCIDENT_EVIDENCE_MAX_CEILING);
            }
            n
        },
        report_submission_url: {
            let url = c.report_submission_url.trim();
            if !(url.is_empty() || url.starts_with("https://") || url.starts_with("http://")) {
                bail!("report_submission_url {url:?}: use an https:// (or http://) URL");
            }
            (!url.is_empty()).then(|| url.to_owned())
        },
        report_signing_key: Some(c.report_signing_key_path()),
        report_inbound_max_skew: Duration::from_secs(u64::from(c.report_inbound_max_skew_seconds)),
        report_inbound_per_minute: c.report_inbound_per_minute,
        board_poll_interval: anbao_server::board::POLL_INTERVAL,
    };
    let state = AppState::new(store.clone(), server_config);
    state.intel.clone().spawn_refresher(store.clone(), Duration::from_secs(c.intel_refresh_seconds.max(1)));
    anbao_feeds::pull::spawn_scheduler(store.clone(), Duration::from_secs(60));
    // TAXII collections with a publish filter follow the indicators they admit.
    anbao_feeds::publish::spawn_publisher(store.clone(), Duration::from_secs(60));
    // Notifications: reporting-deadline warnings and delivery with retries; any node may run it.
    anbao_server::notify::spawn_worker(store.clone(), Duration::from_secs(c.notify_interval_seconds.max(1)));
    if !c.detect_inputs.is_empty() {
        // Match from the first event on, not against an empty index.
        if let Err(e) = state.intel.refresh(&store).await {
            tracing::warn!(error = %e, "loading the indicators for detection");
        }
    }
    let sensor = if c.detect_sensor.is_empty() { crate::scan::host_name() } else { c.detect_sensor.clone() };
    let heuristics = crate::detect::heuristics_config(&c.heuristics_file, &[])?;
    // Flow monitoring: attacks become alerts; the collector's threads stop with the process.
    // Mitigation: the executor carries out the rules in the store through the hooks
    // (any node with hooks configured may; rules are leased).
    let mitigation = crate::flow::mitigation::MitigationConfig::from_config(&c)?;
    if let Some(m) = &mitigation {
        crate::flow::mitigation::spawn_executor(store.clone(), m.clone());
    }
    let _flow_collector = if c.flow_listen.is_empty() {
        None
    } else {
        Some(
            crate::flow::alerts::spawn(
                store.clone(),
                &c.flow_listen,
                &c.flow_groups_file,
                sensor.clone(),
                state.flows.clone(),
                mitigation,
                crate::flow::alerts::IncidentRule::from_config(&c)?,
                crate::flow::traffic::history_config(&c),
            )
            .await?,
        )
    };
    // Traffic history older than its retention goes; any node may purge.
    crate::flow::traffic::spawn_purge(
        store.clone(),
        c.flow_traffic_retention_days,
        c.flow_traffic_group_retention_days,
    );
    if _flow_collector.is_some() {
        // Its status in the store too, for the other web nodes of a cluster.
        crate::flow::nodes::identify(&state.flows, format!("serve:{sensor}"), "collector", sensor.clone(), None);
        crate::flow::nodes::spawn_reporter(store.clone(), state.flows.clone());
    }
    crate::detect::spawn(
        store.clone(),
        state.intel.clone(),
        &c.detect_inputs,
        sensor,
        Duration::from_secs(c.detect_flush_seconds.max(1)),
        Some(heuristics),
        state.detection.clone(),
    );
    // Open boards' event streams never end by themselves; a shutdown must
    // end them or the graceful shutdown waits for the browsers.
    let boards = state.board.clone();
    let stop = async move {
        shutdown_signal().await;
        boards.close();
    };
    let app = anbao_server::router(state).into_make_service_with_connect_info::<SocketAddr>();

    // Expired sessions are removed in the background; any node may do it.
    let purge_store = store.clone();
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) = purge_store.purge_sessions().await {
                tracing::warn!(error = %e, "purging sessions");
            }
        }
    });

    match tls {
        None => {
            let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| format!("listening on {addr}"))?;
            let local = listener.local_addr()?;
            out!("anbao listening on http://{local}")?;
            out!("log in at http://{local}/login")?;
            tracing::info!(%local, "listening");
            axum::serve(listener, app).with_graceful_shutdown(stop).await.context("serving HTTP")?;
        }
        Some((cert, key)) => {
            let _ = rustls::crypto::ring::default_provider().install_default();
            let tls_config = axum_server::tls_rustls::RustlsConfig::from_pem_file(&cert, &key)
                .await
                .with_context(|| format!("loading TLS certificate {} and key {}", cert.display(), key.display()))?;
            let listener = std::net::TcpListener::bind(addr).with_context(|| format!("listening on {addr}"))?;
            let local = listener.local_addr()?;
            out!("anbao listening on https://{local}")?;
            out!("log in at https://{local}/login")?;
            let handle = axum_server::Handle::new();
            let h = handle.clone();
            tokio::spawn(async move {
                stop.await;
                h.graceful_shutdown(Some(Duration::from_secs(10)));
            });
            axum_server::from_tcp_rustls(listener, tls_config)
                .handle(handle)
                .serve(app)
                .await
                .context("serving HTTPS")?;
        }
    }
    store.close().await;
    Ok(ExitCode::SUCCESS)
}

pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
