//! The configuration file and its environment overrides. Each setting is
//! described once, in [`SETTINGS`]; the commented `anbao.toml` that
//! `anbao init` writes is generated from it, and a test keeps it and
//! [`Config`] in step.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use serde::{Deserialize, Serialize};

/// Every setting of `anbao.toml`. Precedence: built-in default < file <
/// `ANBAO_<NAME>` environment variable < command-line flag.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    /// Address the web UI and API listen on.
    pub listen: String,
    /// Directory for the embedded database, evidence files and the secrets file.
    pub data_dir: PathBuf,
    /// Database URL. Empty: SQLite at DATA_DIR/anbao.db. For several nodes: postgres://USER@HOST/DB.
    pub database: String,
    /// File with the key that seals personal data at rest. Empty: DATA_DIR/secrets.toml.
    pub secrets_file: String,
    /// Log level or tracing filter, e.g. "info" or "anbao_server=debug,info".
    pub log_level: String,
    /// Log format: "text" or "json".
    pub log_format: String,
    /// UI language for visitors who have not chosen one: "zh" or "en".
    pub language: String,
    /// Name shown in the page header, e.g. the operator's name.
    pub instance_name: String,
    /// PEM certificate chain for HTTPS. Empty: plain HTTP.
    pub tls_cert: String,
    /// PEM private key for HTTPS.
    pub tls_key: String,
    /// Set when a TLS-terminating proxy is in front, so cookies are marked Secure.
    pub behind_tls_proxy: bool,
    /// Minutes without activity before a session ends.
    pub session_idle_minutes: i64,
    /// Hours after login when a session ends however active.
    pub session_max_hours: i64,
    /// Consecutive failed logins before an account is locked.
    pub lockout_failures: i64,
    /// Minutes an account stays locked.
    pub lockout_minutes: i64,
    /// Database connections per process.
    pub db_max_connections: u32,
    /// Risk score (value × likelihood × severity, 1–125) from which a risk is medium.
    pub risk_medium_from: u32,
    /// Risk score from which a risk is high.
    pub risk_high_from: u32,
    /// Risk score from which a risk is critical.
    pub risk_critical_from: u32,
    /// Grading rules (TOML) replacing the shipped ones. Empty: shipped rules.
    pub grading_rules_file: String,
    /// The operator's own protection requirements (TOML, catalogue format),
    /// added to the shipped catalogue. Empty: none.
    pub extra_requirements_file: String,
    /// Chromium used to print PDFs (filing forms). Empty: the first chromium found on PATH.
    pub pdf_renderer: String,
    /// Seconds between checks for changed indicators or allowlists.
    pub intel_refresh_seconds: u64,
    /// Seconds between passes of the notification worker (deadline scan and delivery).
    pub notify_interval_seconds: u64,
    /// Largest TAXII envelope accepted, in bytes.
    pub taxii_max_content_length: usize,
    /// Largest evidence file attached to an incident, in bytes.
    pub incident_evidence_max_bytes: usize,
    /// Detection inputs: log files to follow, directories capture files are dropped into, or
    /// `iface:NAME` to capture live.
    pub detect_inputs: Vec<String>,
    /// Sensor name recorded in alert evidence. Empty: the host name.
    pub detect_sensor: String,
    /// Seconds between writes of new and repeated alerts to the database.
    pub detect_flush_seconds: u64,
    /// Heuristics settings (TOML). Empty: the defaults.
    pub heuristics_file: String,
    /// Flow collector: UDP addresses to receive NetFlow/IPFIX/sFlow on. Empty: no collector.
    pub flow_listen: Vec<String>,
    /// Flow collector: host groups and detection settings (TOML).
    pub flow_groups_file: String,
    /// Flow traffic history: days per-minute traffic rows are kept.
    pub flow_traffic_retention_days: u32,
    /// Flow traffic history: days the per-minute rows of groups (not hosts) are kept.
    pub flow_traffic_group_retention_days: u32,
    /// Flow traffic history: hosts recorded per group and minute (the top by bytes).
    pub flow_traffic_top_hosts: usize,
    /// Flow mitigation: the command whose stdin takes ExaBGP text API lines. Empty: none.
    pub flow_mitigation_command: String,
    /// Flow mitigation: the RTBH next hop.
    pub flow_mitigation_next_hop: String,
    /// Flow mitigation: GoBGP CLI argv template ({family}, {action}, {rule}). Empty: none.
    pub flow_mitigation_gobgp_command: String,
    /// Flow mitigation: URL that receives each announcement and withdrawal as signed JSON. Empty: none.
    pub flow_mitigation_webhook_url: String,
    /// Flow mitigation: the webhook's HMAC-SHA256 secret.
    pub flow_mitigation_webhook_secret: String,
    /// Flow mitigation: a command (sh -c) run per change with the rule as JSON on stdin. Empty: none.
    pub flow_mitigation_script: String,
    /// Flow mitigation: seconds one GoBGP run, script run or webhook POST may take.
    pub flow_mitigation_hook_timeout_seconds: u64,
    /// Flow mitigation: hours after its proposal when a rule is withdrawn at the latest.
    pub flow_mitigation_max_hours: u32,
    /// DDoS incidents by rule: an attack whose peak reaches this many packets/s opens an incident. 0: not used.
    pub ddos_incident_min_pps: u64,
    /// DDoS incidents by rule: an attack whose peak reaches this many bits/s opens an incident. 0: not used.
    pub ddos_incident_min_bps: u64,
    /// DDoS incidents by rule: attacks of these classes open an incident.
    pub ddos_incident_classes: Vec<String>,
    /// Which incident reporting clock applies: cii, central or other.
    pub operator_category: String,
    /// Minutes to report a graded incident, operators of critical information infrastructure.
    pub incident_report_minutes_cii: u32,
    /// Minutes to report a graded incident, central and state bodies.
    pub incident_report_minutes_central: u32,
    /// Minutes to report a graded incident, other operators.
    pub incident_report_minutes_other: u32,
    /// Where incident reports are submitted (HTTPS POST of signed JSON). Empty: submission off.
    pub report_submission_url: String,
    /// Ed25519 key (PKCS#8) that signs submitted reports, created on first use. Empty: DATA_DIR/report-signing.key.
    pub report_signing_key_file: String,
    /// Inbound reports: seconds the signed sending time may differ from this server's clock (replays refused).
    pub report_inbound_max_skew_seconds: u32,
    /// Inbound reports accepted per sender key and minute, shared by the nodes. 0: no limit.
    pub report_inbound_per_minute: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: "127.0.0.1:8080".into(),
            data_dir: PathBuf::from("./anbao-data"),
            database: String::new(),
            secrets_file: String::new(),
            log_level: "info".into(),
            log_format: "text".into(),
            language: "zh".into(),
            instance_name: String::new(),
            tls_cert: String::new(),
            tls_key: String::new(),
            behind_tls_proxy: false,
            session_idle_minutes: 30,
            session_max_hours: 12,
            lockout_failures: 5,
            lockout_minutes: 15,
            db_max_connections: 16,
            risk_medium_from: 8,
            risk_high_from: 27,
            risk_critical_from: 64,
            grading_rules_file: String::new(),
            extra_requirements_file: String::new(),
            pdf_renderer: String::new(),
            intel_refresh_seconds: 5,
            notify_interval_seconds: 30,
            taxii_max_content_length: 10 << 20,
            incident_evidence_max_bytes: anbao_store::INCIDENT_EVIDENCE_MAX_DEFAULT,
            detect_inputs: Vec::new(),
            detect_sensor: String::new(),
            detect_flush_seconds: 2,
            heuristics_file: String::new(),
            flow_listen: Vec::new(),
            flow_groups_file: String::new(),
            flow_traffic_retention_days: 7,
            flow_traffic_group_retention_days: 56,
            flow_traffic_top_hosts: 20,
            flow_mitigation_command: String::new(),
            flow_mitigation_next_hop: "192.0.2.1".into(),
            flow_mitigation_gobgp_command: String::new(),
            flow_mitigation_webhook_url: String::new(),
            flow_mitigation_webhook_secret: String::new(),
            flow_mitigation_script: String::new(),
            flow_mitigation_hook_timeout_seconds: 10,
            flow_mitigation_max_hours: 24,
            ddos_incident_min_pps: 0,
            ddos_incident_min_bps: 0,
            ddos_incident_classes: Vec::new(),
            operator_category: "other".into(),
            incident_report_minutes_cii: 60,
            incident_report_minutes_central: 120,
            incident_report_minutes_other: 240,
            report_submission_url: String::new(),
            report_signing_key_file: String::new(),
            report_inbound_max_skew_seconds: 300,
            report_inbound_per_minute: 30,
        }
    }
}

/// (name, comment) for each setting, in file order. The comments are the
/// reference documentation of the file.
pub const SETTINGS: &[(&str, &str)] = &[
    ("listen", "Address the web UI and API listen on."),
    ("data_dir", "Directory for the embedded database, evidence files and the secrets file."),
    (
        "database",
        "Database URL. Empty: SQLite at DATA_DIR/anbao.db.\n# For several anbao nodes sharing one database: postgres://USER@HOST/DB",
    ),
    (
        "secrets_file",
        "File with the key that seals personal data at rest (keep it out of backups of\n# the database, and copy it to every node). Empty: DATA_DIR/secrets.toml.",
    ),
    ("log_level", "Log level or tracing filter: error, warn, info, debug, trace, or e.g. \"anbao_server=debug,info\"."),
    ("log_format", "Log format: \"text\" or \"json\"."),
    ("language", "UI language for visitors who have not chosen one: \"zh\" or \"en\"."),
    ("instance_name", "Name shown in the page header beside the brand, e.g. the operator's name. Empty: none."),
    ("tls_cert", "PEM certificate chain for HTTPS. Empty: plain HTTP."),
    ("tls_key", "PEM private key for HTTPS."),
    ("behind_tls_proxy", "Set to true when a TLS-terminating proxy is in front, so cookies are marked Secure."),
    ("session_idle_minutes", "Minutes without activity before a session ends."),
    ("session_max_hours", "Hours after login when a session ends however active."),
    ("lockout_failures", "Consecutive failed logins before an account is locked."),
    ("lockout_minutes", "Minutes an account stays locked."),
    ("db_max_connections", "Database connections per process."),
    (
        "risk_medium_from",
        "Risk register: score (asset value x likelihood x severity, each 1-5) from which a risk is medium.",
    ),
    ("risk_high_from", "Risk register: score from which a risk is high."),
    ("risk_critical_from", "Risk register: score from which a risk is critical."),
    (
        "grading_rules_file",
        "Grading rules (TOML, the format of the shipped grading-rules.toml) replacing the shipped\n# ones, so an operator can adjust the grading wizard without code. Empty: shipped rules.",
    ),
    (
        "pdf_renderer",
        "Chromium used to print PDFs (filing forms), e.g. /usr/bin/chromium. Empty: the first\n# chromium found on PATH.",
    ),
    (
        "extra_requirements_file",
        "The operator's own protection requirements (TOML, the catalogue format), added to the\n# shipped catalogue for assessments. Empty: none.",
    ),
    (
        "intel_refresh_seconds",
        "Threat intelligence: seconds between checks for changed indicators or allowlists; on a\n# change the match index is rebuilt in the background and swapped in.",
    ),
    (
        "notify_interval_seconds",
        "Notifications: seconds between passes of the worker that queues reporting-deadline\n# warnings and sends due notifications (channels and rules are set on /notifications).\n# Failed deliveries are retried after 1, 5, 15 and 60 minutes, then marked failed.",
    ),
    (
        "taxii_max_content_length",
        "TAXII 2.1 server: largest envelope a client may POST, in bytes (advertised as\n# max_content_length in the API root).",
    ),
    (
        "incident_evidence_max_bytes",
        "Incidents: largest evidence file (capture, screenshot, log, sample) that may be attached,\n# in bytes; larger uploads are refused with 413. At most 268435456 (256 MiB): files are\n# kept in the database.",
    ),
    (
        "detect_inputs",
        "Detection (embedded): what `anbao serve` reads and matches against the indicators. Each\n# entry is a log file followed as it grows (Zeek, Suricata EVE, BIND, Unbound, plain;\n# recognised by content, gzip undone) or a directory that capture files (pcap, pcapng)\n# are dropped into, each read once when it has not changed for two seconds, or\n# `iface:NAME` to capture live from a network interface (builds with the live-capture\n# feature; needs CAP_NET_RAW).\n# Environment: ANBAO_DETECT_INPUTS, comma-separated. Empty: no embedded detection.",
    ),
    ("detect_sensor", "Sensor name recorded in the evidence of alerts. Empty: the host name."),
    ("detect_flush_seconds", "Seconds between writes of new and repeated alerts to the database."),
    (
        "heuristics_file",
        "Detection heuristics (DGA names, DNS tunnelling, lookalikes of your brands, fast-flux):\n# a TOML file with their thresholds and the protected brand domains, e.g.\n#   [lookalike]\n#   brands = [\"icbc.com.cn\", \"10086.cn\"]\n# (docs/heuristics.md lists every setting). Empty: the defaults, no brands.",
    ),
    (
        "flow_listen",
        "Flow monitoring (anti-DDoS): UDP addresses `anbao serve` receives NetFlow v5/v9, IPFIX and\n# sFlow v5 exports on, e.g. [\"0.0.0.0:2055\", \"0.0.0.0:4739\", \"0.0.0.0:6343\"] (every port takes\n# every format). Attacks on the protected hosts become alerts (rule and category \"ddos\").\n# Environment: ANBAO_FLOW_LISTEN, comma-separated. Empty: no flow collector.",
    ),
    (
        "flow_groups_file",
        "Flow monitoring: the protected address space as host groups with their thresholds (TOML,\n# docs/flow-collect.md), e.g.\n#   [[group]]\n#   name = \"dc1\"\n#   prefixes = [\"192.0.2.0/24\"]\n#   host = { pps = 20000 }\n# Required when flow_listen is set.",
    ),
    (
        "flow_traffic_retention_days",
        "Flow traffic history (the charts of /flows/groups/NAME and /flows/hosts/ADDR): the flow\n# collector (`anbao serve` with flow_listen, or `anbao flow worker`) writes one row per minute for\n# every host group and for its busiest hosts and the hosts under attack. Days rows are kept;\n# older ones are purged every hour.",
    ),
    (
        "flow_traffic_group_retention_days",
        "Flow traffic history: days the rows of the groups themselves are kept (hosts' rows follow\n# flow_traffic_retention_days). A group with an hour-of-week profile (profile_factor or\n# profile_deviations in the groups file) learns it from these rows when the collector starts,\n# so keep more weeks than the profile's profile_min_weeks.",
    ),
    (
        "flow_traffic_top_hosts",
        "Flow traffic history: hosts recorded per group and minute, the busiest by bytes (hosts under\n# attack are recorded besides, up to 100 per group and minute).",
    ),
    (
        "flow_mitigation_command",
        "Flow mitigation (docs/flow-mitigation.md): for the groups whose actions have rtbh and/or flowspec\n# with mode = \"automatic\" (announced at once) or \"manual\" (proposed; a responder approves on\n# /flows/mitigations), each rule is recorded in the database and carried out by every hook set\n# below: this one, the GoBGP command, the webhook and the script. A hook that fails marks the rule\n# failed with its error; it is retried after 30 s, doubling to 30 min: a withdrawal until it goes\n# through, an announcement while the attack lasts (or at once when approved again). Rules are\n# withdrawn the group's hold_secs after the attack ends, by hand, or at flow_mitigation_max_hours;\n# at start, rules still announced are announced again (BGP speakers forget on restart).\n# This hook: a command (run with sh -c) that takes ExaBGP text API lines on its stdin, one per\n# announcement or withdrawal (`announce route 192.0.2.5/32 next-hop 192.0.2.1 community\n# [65535:666]`, `announce flow route { ... }`, `withdraw ...`). With ExaBGP, a process in\n# exabgp.conf that relays these lines to its stdout. Empty: none.",
    ),
    (
        "flow_mitigation_next_hop",
        "Flow mitigation: the next hop of RTBH announcements (routers map it to a discard route).",
    ),
    (
        "flow_mitigation_gobgp_command",
        "Flow mitigation hook: GoBGP's CLI, run once per announcement or withdrawal (no shell): the\n# template is split on spaces, {family} becomes ipv4, ipv6, ipv4-flowspec or ipv6-flowspec,\n# {action} add or del, and {rule} the rule's words (`192.0.2.5/32 nexthop 192.0.2.1 community\n# 65535:666`, `match destination 192.0.2.5/32 protocol udp source-port ==123 then discard`), e.g.\n# \"gobgp -p 50051 global rib -a {family} {action} {rule}\". Empty: none.",
    ),
    (
        "flow_mitigation_webhook_url",
        "Flow mitigation hook: each announcement and withdrawal is POSTed here as JSON (the rule, its\n# attack, alert and group), signed as notification webhooks are: X-Anbao-Timestamp and\n# X-Anbao-Signature = sha256=hex(HMAC-SHA256(secret, timestamp + \".\" + body)). Any 2xx is success.\n# Empty: none.",
    ),
    ("flow_mitigation_webhook_secret", "Flow mitigation hook: the webhook's signing secret (required with the URL)."),
    (
        "flow_mitigation_script",
        "Flow mitigation hook: a command (run with sh -c) per announcement or withdrawal, given the\n# webhook's JSON on stdin and ANBAO_MITIGATION_CHANGE (announce or withdraw), _ID, _KIND, _VICTIM,\n# _GROUP and _EXABGP (the ExaBGP line); exit status 0 is success. Empty: none.",
    ),
    (
        "flow_mitigation_hook_timeout_seconds",
        "Flow mitigation: seconds a GoBGP run, a script run or a webhook POST may take before it counts\n# as failed (the command is killed).",
    ),
    (
        "flow_mitigation_max_hours",
        "Flow mitigation: hours after its proposal when a rule is withdrawn whatever its attack does\n# (reason \"expired\"; a proposal nobody approved is rejected), the safety net for an attack\n# whose end was never seen (e.g. the collector restarted during it).",
    ),
    (
        "ddos_incident_min_pps",
        "DDoS incidents by rule (the ddos_incident_* settings): a flow attack alert (`anbao serve` with\n# flow_listen, or `anbao flow worker`) opens an incident of type ddos (large-scale DDoS), linked to\n# the alert, in the root organisation unit, once per attack, when ANY of these holds: its peak\n# reaches ddos_incident_min_pps packets/s or ddos_incident_min_bps bits/s (0: not used), its class\n# is one of ddos_incident_classes, or its host group has `incident = true` in its [group.actions]\n# (groups file). Checked at the attack's start and at every update, as the peak grows.\n# Peak packets/s from which an attack opens an incident; 0: not used.",
    ),
    (
        "ddos_incident_min_bps",
        "DDoS incidents by rule: peak bits/s from which an attack opens an incident; 0: not used.",
    ),
    (
        "ddos_incident_classes",
        "DDoS incidents by rule: attack classes that open an incident, of syn_flood, udp_flood, icmp_flood,\n# amplification, carpet_bombing, other_volumetric; e.g. [\"carpet_bombing\"].",
    ),
    (
        "operator_category",
        "Incidents: which reporting clock applies to this operator (CAC 国家网络安全事件报告管理办法,\n# art. 4): \"cii\" (critical information infrastructure), \"central\" (central and state\n# bodies and their direct units) or \"other\".",
    ),
    (
        "incident_report_minutes_cii",
        "Incidents: minutes from discovery to report a graded incident, CII operators (the CAC\n# measures in force since 2025-11-01: 1 hour).",
    ),
    (
        "incident_report_minutes_central",
        "Incidents: minutes to report, central and state bodies (CAC measures: 2 hours).",
    ),
    ("incident_report_minutes_other", "Incidents: minutes to report, other operators (CAC measures: 4 hours)."),
    (
        "report_submission_url",
        "Incident reports: where \"submit\" POSTs a report as JSON signed with the key below, e.g. the\n# regulator's or the group's anbao at https://HOST/api/v1/reports/inbound (docs/incident-reports.md).\n# Empty: reports are generated and downloaded, not submitted.",
    ),
    (
        "report_signing_key_file",
        "Incident reports: the Ed25519 signing key (PKCS#8, mode 0600), generated on first use; its public\n# key is shown on incident pages and at /api/v1/reports/signing-key for the receiver to register.\n# Nodes of a cluster must share it. Empty: DATA_DIR/report-signing.key.",
    ),
    (
        "report_inbound_max_skew_seconds",
        "Receiving incident reports: how many seconds the sender's signed time (X-Anbao-Timestamp) may be\n# from this server's clock, either way; older or later requests are refused as replays (401).",
    ),
    (
        "report_inbound_per_minute",
        "Receiving incident reports: reports accepted per sender key and minute (bursts up to as many);\n# more are refused with 429 and Retry-After. Counted in the database, so all nodes share it. 0: no limit.",
    ),
];

/// The commented file `anbao init` writes, with `config`'s values.
pub fn render_commented(config: &Config) -> Result<String> {
    let table = toml::Table::try_from(config).context("serialising configuration")?;
    let mut out = String::from(
        "# anbao configuration. Every setting can also be given as an environment\n\
         # variable ANBAO_<NAME> (e.g. ANBAO_LISTEN), which wins over this file;\n\
         # command-line flags win over both.\n",
    );
    for (name, comment) in SETTINGS {
        let value = table.get(*name).with_context(|| format!("setting {name} missing from Config"))?;
        out.push_str(&format!("\n# {comment}\n{name} = {value}\n"));
    }
    Ok(out)
}

/// Reads `path` (if given and present), then applies `ANBAO_*` variables.
pub fn load(path: Option<&Path>, required: bool, env: &dyn Fn(&str) -> Option<String>) -> Result<Config> {
    let mut table = toml::Table::try_from(Config::default())?;
    if let Some(path) = path {
        match std::fs::read_to_string(path) {
            Ok(text) => {
                let file: toml::Table = text.parse().with_context(|| format!("parsing {}", path.display()))?;
                for (k, v) in file {
                    if !SETTINGS.iter().any(|(name, _)| *name == k) {
                        bail!("{}: unknown setting {k:?}", path.display());
                    }
                    table.insert(k, v);
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && !required => {}
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        }
    }
    for (name, _) in SETTINGS {
        let var = format!("ANBAO_{}", name.to_uppercase());
        let Some(raw) = env(&var) else { continue };
        let value = match table.get(*name) {
            Some(toml::Value::Boolean(_)) => toml::Value::Boolean(match raw.as_str() {
                "1" | "true" | "yes" | "on" => true,
                "0" | "false" | "no" | "off" | "" => false,
                other => bail!("{var}={other:?} is not a boolean (true/false)"),
            }),
            Some(toml::Value::Array(_)) => toml::Value::Array(
                raw.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(|s| toml::Value::String(s.to_owned()))
                    .collect(),
            ),
            Some(toml::Value::Integer(_)) => {
                toml::Value::Integer(raw.parse().with_context(|| format!("{var}={raw:?} is not a whole number"))?)
            }
            _ => toml::Value::String(raw),
        };
        table.insert((*name).to_owned(), value);
    }
    let config: Config = table.try_into().context("invalid configuration")?;
    Ok(config)
}

impl Config {
    pub fn database_url(&self) -> String {
        if self.database.is_empty() {
            anbao_store::sqlite_url(&self.data_dir.join("anbao.db"))
        } else {
            self.database.clone()
        }
    }

    pub fn report_signing_key_path(&self) -> PathBuf {
        if self.report_signing_key_file.is_empty() {
            self.data_dir.join("report-signing.key")
        } else {
            PathBuf::from(&self.report_signing_key_file)
        }
    }

    pub fn secrets_path(&self) -> PathBuf {
        if self.secrets_file.is_empty() {
            self.data_dir.join("secrets.toml")
        } else {
            PathBuf::from(&self.secrets_file)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commented_file_lists_every_setting_and_reads_back_as_the_defaults() {
        let text = render_commented(&Config::default()).expect("render");
        let fields = toml::Table::try_from(Config::default()).expect("table");
        assert_eq!(fields.len(), SETTINGS.len(), "SETTINGS and Config disagree");
        for key in fields.keys() {
            assert!(SETTINGS.iter().any(|(n, _)| n == key), "{key} has no comment in SETTINGS");
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("anbao.toml");
        std::fs::write(&path, &text).expect("write");
        assert_eq!(load(Some(&path), true, &|_| None).expect("load"), Config::default());
    }

    #[test]
    fn environment_overrides_the_file_and_bad_values_are_named() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("anbao.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:9000\"\nlockout_failures = 3\n").expect("write");
        let env = |k: &str| match k {
            "ANBAO_LISTEN" => Some("127.0.0.1:7000".to_owned()),
            "ANBAO_BEHIND_TLS_PROXY" => Some("true".to_owned()),
            _ => None,
        };
        let c = load(Some(&path), true, &env).expect("load");
        assert_eq!(c.listen, "127.0.0.1:7000");
        assert_eq!(c.lockout_failures, 3);
        assert!(c.behind_tls_proxy);
        let bad = |k: &str| (k == "ANBAO_LOCKOUT_MINUTES").then(|| "soon".to_owned());
        let err = load(Some(&path), true, &bad).expect_err("must fail");
        assert!(format!("{err:#}").contains("ANBAO_LOCKOUT_MINUTES"), "{err:#}");
        std::fs::write(&path, "colour = \"red\"\n").expect("write");
        let err = load(Some(&path), true, &|_| None).expect_err("unknown key");
        assert!(format!("{err:#}").contains("colour"), "{err:#}");
    }
}
