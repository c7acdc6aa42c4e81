//! The requirement dashboard: for every requirement id of the guidance
//! (R1.1 … S5), what anbao holds as evidence and a green / amber / red
//! status, for the annual self-inspection and the regulator.
//!
//! Extension point: facts are gathered once per request in [`Facts`], and
//! each entry of [`EVALUATORS`] turns them into findings for the ids it
//! knows about. A later feature adds its counts to `Facts` and one
//! evaluator; requirement ids nobody evaluates stay red with "no evidence".

use anbao_model::Permission;
use anbao_model::deadlines::{Obligation, Status};
use anbao_model::requirements::{Requirement, requirements};
use serde::Serialize;

use crate::AppState;
use crate::auth::Principal;
use crate::error::ApiError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Rag {
    Red,
    Amber,
    Green,
}

#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct EvidenceItem {
    /// What was counted or checked, in English.
    pub label: String,
    pub label_zh: String,
    pub value: String,
    /// Where to look, in the UI.
    pub link: Option<String>,
}

/// One evaluator's view of one requirement.
#[derive(Clone, Debug)]
pub struct Finding {
    pub id: &'static str,
    pub status: Rag,
    pub evidence: Vec<EvidenceItem>,
}

fn item(label: &str, label_zh: &str, value: impl ToString, link: Option<&str>) -> EvidenceItem {
    EvidenceItem {
        label: label.into(),
        label_zh: label_zh.into(),
        value: value.to_string(),
        link: link.map(str::to_owned),
    }
}

/// Everything the evaluators need, read once, within the caller's scope.
#[derive(Debug, Default)]
pub struct Facts {
    pub assets: i64,
    pub assets_by_type: Vec<(anbao_model::asset::AssetType, i64)>,
    pub components: i64,
    pub components_identified: i64,
    pub domains: i64,
    pub boundaries: i64,
    pub network_units: i64,
    pub graded_units: i64,
    pub filed_units: i64,
    pub overdue: Vec<Obligation>,
    pub due_soon: Vec<Obligation>,
    pub accountable_units: i64,
    pub units_needing_accountability: i64,
    pub staff: i64,
    pub certified_staff: i64,
    pub audit_entries: i64,
    pub audit_intact: Option<bool>,
    pub regulator_accounts: i64,
    pub open_tasks: i64,
    pub overdue_tasks: i64,
    /// Threat intelligence: indicators by category, samples, imports in
    /// the last 30 days, sources pulled on a schedule, TAXII collections.
    pub indicators: i64,
    pub malicious_url_indicators: i64,
    pub samples: i64,
    pub mobile_samples: i64,
    pub recent_imports: i64,
    pub scheduled_sources: i64,
    pub taxii_collections: i64,
    /// Detection in the last 30 days, per requirement's categories: alerts,
    /// alerts with a disposal action, subscribers notified.
    pub botnet_alerts: (i64, i64),
    pub mobile_alerts: (i64, i64),
    pub phishing_alerts: (i64, i64),
    pub notified: i64,
    /// Incidents whose level starts a reporting clock; of them, first
    /// reported by the deadline, reported late, and past the deadline
    /// without any report.
    pub incidents_with_clock: i64,
    pub reported_in_time: i64,
    pub reported_late: i64,
    pub unreported_overdue: i64,
}

impl Facts {
    pub async fn gather(state: &AppState, p: &Principal) -> Result<Facts, ApiError> {
        let store = &state.store;
        let scope = p.scope_filter();
        let today = store.clock().now().date();
        let mut f = Facts::default();
        let asset_filter = anbao_store::AssetFilter { org_units: scope.clone(), ..Default::default() };
        f.assets = store.count_assets(&asset_filter).await?;
        f.assets_by_type = store.asset_counts_by_type(scope.as_deref()).await?;
        let (components, identified) = store.component_counts(scope.as_deref()).await?;
        f.components = components;
        f.components_identified = identified;
        let domains = store.list_domains(scope.as_deref()).await?;
        f.domains = domains.len() as i64;
        f.boundaries = crate::api::domains::visible_boundaries(state, p).await?.len() as i64;
        for u in store.list_network_units(scope.as_deref()).await? {
            f.network_units += 1;
            f.graded_units += i64::from(u.level.is_some());
            f.filed_units += i64::from(u.filed.is_some());
            for d in u.dates().map(|d| anbao_model::deadlines::obligations(&d, today)).unwrap_or_default() {
                match d.status {
                    Status::Overdue { .. } => f.overdue.push(d.obligation),
                    Status::DueSoon { .. } => f.due_soon.push(d.obligation),
                    Status::Upcoming => {}
                }
            }
        }
        let units = store.list_org_units().await?;
        let records = store.list_accountability().await?;
        for u in units.iter().filter(|u| p.scope.contains(u.id) && u.kind != anbao_model::OrgKind::Department) {
            f.units_needing_accountability += 1;
            if let Some(r) = records.iter().find(|r| r.org_unit_id == u.id) {
                f.accountable_units += 1;
                f.staff += r.staff.len() as i64;
                f.certified_staff += r.staff.iter().filter(|s| !s.certificate.is_empty()).count() as i64;
            }
        }
        if p.role.allows(Permission::ReadAudit) {
            f.audit_entries = store.count_audit().await?;
            f.audit_intact = Some(store.verify_audit().await?.intact());
        }
        let today_text = anbao_store::date_text(today);
        for t in store.list_tasks(scope.as_deref()).await? {
            if t.status == "open" {
                f.open_tasks += 1;
                f.overdue_tasks += i64::from(t.due_on < today_text);
            }
        }
        let regulators =
            anbao_store::UserFilter { role: Some(anbao_model::Role::Regulator), limit: 10_000, ..Default::default() };
        f.regulator_accounts = store.list_users(&regulators).await?.len() as i64;
        if p.role.allows(Permission::ReadIntel) {
            let (by_category, _) = store.intel_counts().await?;
            f.indicators = by_category.iter().map(|(_, n)| n).sum();
            f.malicious_url_indicators = by_category
                .iter()
                .filter(|(c, _)| matches!(c.as_str(), "malicious_url" | "phishing" | "malicious_download"))
                .map(|(_, n)| n)
                .sum();
            (f.samples, f.mobile_samples) = store.sample_counts().await?;
            let month_ago = store.clock().now() - time::Duration::days(30);
            f.recent_imports = store.intel_imports_done_since(month_ago).await?;
            f.scheduled_sources =
                store.intel_sources().await?.iter().filter(|s| s.enabled && s.interval_minutes > 0).count() as i64;
            f.taxii_collections = store.taxii_collections().await?.len() as i64;
        }
        if p.role.allows(Permission::ReadAlerts) {
            let month_ago = store.clock().now() - time::Duration::days(30);
            for (category, alerts, disposed, notified) in store.alert_disposal_summary(month_ago).await? {
                let slot = match category.as_str() {
                    "botnet_cc" | "trojan" | "dns_tunnel" => &mut f.botnet_alerts,
                    "mobile_malware" => &mut f.mobile_alerts,
                    "phishing" | "malicious_url" | "malicious_download" => &mut f.phishing_alerts,
                    _ => {
                        f.notified += notified;
                        continue;
                    }
                };
                slot.0 += alerts;
                slot.1 += disposed;
                f.notified += notified;
            }
        }
        if p.role.allows(Permission::ReadIncidents) {
            let firsts = store.first_report_times().await?;
            let now = store.clock().now();
            let incidents = store.list_incidents(scope.as_deref(), &anbao_store::IncidentFilter::default()).await?;
            for i in incidents {
                let Some(by) = i.report_by.as_deref().and_then(|t| anbao_model::clock::parse_ts(t).ok()) else {
                    continue;
                };
                f.incidents_with_clock += 1;
                let first =
                    firsts.iter().find(|(id, _)| *id == i.id).and_then(|(_, t)| anbao_model::clock::parse_ts(t).ok());
                match first {
                    Some(t) if t <= by => f.reported_in_time += 1,
                    Some(_) => f.reported_late += 1,
                    None if now > by => f.unreported_overdue += 1,
                    None => {}
                }
            }
        }
        Ok(f)
    }

    fn count_type(&self, t: anbao_model::asset::AssetType) -> i64 {
        self.assets_by_type.iter().find(|(x, _)| *x == t).map_or(0, |(_, n)| *n)
    }
}

type Evaluator = fn(&Facts) -> Vec<Finding>;

/// Every evaluator; add one per feature that produces evidence.
pub const EVALUATORS: &[Evaluator] = &[grading, assets, accountability, audit, intel, detection, reporting];

fn rag_by_count(n: i64) -> Rag {
    if n > 0 { Rag::Green } else { Rag::Red }
}

fn grading(f: &Facts) -> Vec<Finding> {
    let filing_overdue = f.overdue.iter().any(|o| matches!(o, Obligation::Filing | Obligation::Refiling));
    let assessment_overdue =
        f.overdue.iter().filter(|o| matches!(o, Obligation::ComplianceAssessment | Obligation::RiskAssessment)).count();
    let assessment_soon = f
        .due_soon
        .iter()
        .filter(|o| matches!(o, Obligation::ComplianceAssessment | Obligation::RiskAssessment))
        .count();
    let r11 = if f.network_units == 0 || filing_overdue {
        Rag::Red
    } else if f.filed_units < f.network_units {
        Rag::Amber
    } else {
        Rag::Green
    };
    let r12 = if f.filed_units == 0 || assessment_overdue > 0 || f.overdue_tasks > 0 {
        Rag::Red
    } else if assessment_soon > 0 || f.open_tasks > 0 {
        Rag::Amber
    } else {
        Rag::Green
    };
    vec![
        Finding {
            id: "R1.1",
            status: r11,
            evidence: vec![
                item("network units", "网络单元", f.network_units, Some("/govern/units")),
                item("graded", "已定级", f.graded_units, Some("/govern/units")),
                item("filed", "已备案", f.filed_units, Some("/govern/units")),
                item("filings overdue", "逾期备案", i64::from(filing_overdue), Some("/govern/deadlines")),
            ],
        },
        Finding {
            id: "R1.2",
            status: r12,
            evidence: vec![
                item("assessments overdue", "逾期评测/评估", assessment_overdue, Some("/govern/deadlines")),
                item(
                    "assessments due within 30 days",
                    "30天内到期评测/评估",
                    assessment_soon,
                    Some("/govern/deadlines"),
                ),
                item("open remediation tasks", "未完成整改任务", f.open_tasks, Some("/govern/tasks")),
                item("overdue remediation tasks", "逾期整改任务", f.overdue_tasks, Some("/govern/tasks")),
            ],
        },
    ]
}

fn assets(f: &Facts) -> Vec<Finding> {
    use anbao_model::asset::AssetType::*;
    let websites = f.count_type(Website);
    let terminals = f.count_type(Terminal);
    let new_tech = f.count_type(CloudTenant) + f.count_type(IotPlatform);
    let identified_share = if f.components == 0 { 0 } else { f.components_identified * 100 / f.components };
    vec![
        Finding {
            id: "R1.3",
            status: rag_by_count(f.assets),
            evidence: vec![item(
                "assets with responsible department and person",
                "明确责任部门和责任人的资产",
                f.assets,
                Some("/govern/assets"),
            )],
        },
        Finding {
            id: "R1.4",
            status: match (f.domains, f.boundaries) {
                (0, _) => Rag::Red,
                (_, 0) => Rag::Amber,
                _ => Rag::Green,
            },
            evidence: vec![
                item("security domains", "安全域", f.domains, Some("/govern/domains")),
                item("boundaries with their controls", "网络边界及防护措施", f.boundaries, Some("/govern/domains")),
            ],
        },
        Finding {
            // Registered, not yet shown protected (web anti-tamper comes later).
            id: "R1.5",
            status: if websites + terminals > 0 { Rag::Amber } else { Rag::Red },
            evidence: vec![
                item("websites registered", "登记的网站", websites, Some("/govern/assets?asset_type=website")),
                item(
                    "office/maintenance terminals registered",
                    "登记的办公/运维终端",
                    terminals,
                    Some("/govern/assets?asset_type=terminal"),
                ),
            ],
        },
        Finding {
            id: "R1.8",
            status: if f.components == 0 {
                Rag::Red
            } else if identified_share < 50 {
                Rag::Amber
            } else {
                Rag::Green
            },
            evidence: vec![
                item("inventory lines", "软硬件清单条目", f.components, Some("/govern/assets")),
                item("with CPE or purl (%)", "有 CPE 或 purl 的比例（%）", identified_share, None),
            ],
        },
        Finding {
            id: "R7.1",
            status: if new_tech > 0 { Rag::Amber } else { Rag::Red },
            evidence: vec![item(
                "cloud tenants and IoT platforms registered",
                "登记的云租户和物联网平台",
                new_tech,
                Some("/govern/assets"),
            )],
        },
    ]
}

fn accountability(f: &Facts) -> Vec<Finding> {
    let s3 = if f.accountable_units == 0 {
        Rag::Red
    } else if f.accountable_units < f.units_needing_accountability {
        Rag::Amber
    } else {
        Rag::Green
    };
    let s5 = if f.certified_staff == 0 {
        Rag::Red
    } else if f.certified_staff < f.staff {
        Rag::Amber
    } else {
        Rag::Green
    };
    vec![
        Finding {
            id: "S3",
            status: s3,
            evidence: vec![item(
                "units with a named leader and security department",
                "明确分管领导和安全部门的单位",
                format!("{} / {}", f.accountable_units, f.units_needing_accountability),
                Some("/govern/accountability"),
            )],
        },
        Finding {
            id: "S5",
            status: s5,
            evidence: vec![item(
                "security staff holding a certificate",
                "持证上岗的安全人员",
                format!("{} / {}", f.certified_staff, f.staff),
                Some("/govern/accountability"),
            )],
        },
    ]
}

fn audit(f: &Facts) -> Vec<Finding> {
    let Some(intact) = f.audit_intact else { return Vec::new() };
    let log = if intact { Rag::Green } else { Rag::Red };
    vec![
        Finding {
            id: "R5.3",
            status: log,
            evidence: vec![
                item("audit entries", "审计记录", f.audit_entries, Some("/audit")),
                item("hash chain intact", "哈希链完整", intact, Some("/audit?verify=1")),
            ],
        },
        Finding {
            id: "S1",
            status: if !intact {
                Rag::Red
            } else if f.regulator_accounts == 0 {
                Rag::Amber
            } else {
                Rag::Green
            },
            evidence: vec![
                item(
                    "regulator accounts (read-only supervision)",
                    "监管方只读账号",
                    f.regulator_accounts,
                    Some("/admin/users?role=regulator"),
                ),
                item("hash chain intact", "哈希链完整", intact, Some("/audit?verify=1")),
            ],
        },
    ]
}

/// One requirement with its status and evidence.
#[derive(Clone, Debug, Serialize, utoipa::ToSchema)]
pub struct RequirementStatus {
    pub id: String,
    pub section: String,
    pub title: String,
    pub title_zh: String,
    /// green, amber or red.
    #[schema(value_type = String)]
    pub status: Rag,
    pub evidence: Vec<EvidenceItem>,
}

/// Every requirement id, in order, with the worst status any evaluator gave.
pub fn evaluate(reqs: &[Requirement], facts: &Facts) -> Vec<RequirementStatus> {
    let findings: Vec<Finding> = EVALUATORS.iter().flat_map(|e| e(facts)).collect();
    reqs.iter()
        .map(|r| {
            let mine: Vec<&Finding> = findings.iter().filter(|f| f.id == r.id).collect();
            let status = mine.iter().map(|f| f.status).min().unwrap_or(Rag::Red);
            let mut evidence: Vec<EvidenceItem> = mine.iter().flat_map(|f| f.evidence.clone()).collect();
            if mine.is_empty() {
                evidence.push(item("no evidence recorded in anbao yet", "anbao 中尚无相关记录", "—", None));
            }
            RequirementStatus {
                id: r.id.clone(),
                section: r.section.clone(),
                title: r.title_en.clone(),
                title_zh: r.title_zh.clone(),
                status,
                evidence,
            }
        })
        .collect()
}

pub async fn statuses(state: &AppState, p: &Principal) -> Result<Vec<RequirementStatus>, ApiError> {
    let reqs = requirements().map_err(|e| {
        tracing::error!(error = %e, "built-in requirement list");
        ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, "the requirement list does not load")
    })?;
    Ok(evaluate(reqs, &Facts::gather(state, p).await?))
}

fn intel(f: &Facts) -> Vec<Finding> {
    // R3.5: the shared libraries hold something and are kept current.
    let r35 = if f.indicators == 0 && f.samples == 0 {
        Rag::Red
    } else if f.recent_imports == 0 || f.malicious_url_indicators == 0 || f.mobile_samples == 0 {
        Rag::Amber
    } else {
        Rag::Green
    };
    // R3.6 / R8.5: intelligence flows in from partners and out to them.
    let sharing = if f.scheduled_sources == 0 && f.taxii_collections == 0 {
        Rag::Red
    } else if f.scheduled_sources == 0 || f.taxii_collections == 0 {
        Rag::Amber
    } else {
        Rag::Green
    };
    let library = vec![
        item("indicators in the library", "威胁情报库中的指标", f.indicators, Some("/intel")),
        item(
            "malicious URL, phishing and download indicators",
            "恶意网址、钓鱼和恶意下载指标",
            f.malicious_url_indicators,
            Some("/intel?category=malicious_url"),
        ),
        item("malware samples", "恶意样本", f.samples, Some("/intel/samples")),
        item(
            "mobile malware samples (APK/DEX)",
            "移动恶意程序样本 (APK/DEX)",
            f.mobile_samples,
            Some("/intel/samples"),
        ),
        item("imports in the last 30 days", "近 30 天导入次数", f.recent_imports, Some("/intel/import")),
    ];
    let flows = vec![
        item(
            "sources pulled on a schedule (TAXII, MISP)",
            "定期拉取的情报源 (TAXII、MISP)",
            f.scheduled_sources,
            Some("/intel/sources"),
        ),
        item("TAXII collections shared", "共享的 TAXII 集合", f.taxii_collections, Some("/intel/taxii")),
    ];
    vec![
        Finding { id: "R3.5", status: r35, evidence: library.clone() },
        Finding { id: "R3.6", status: sharing, evidence: flows.clone() },
        Finding {
            id: "R6.5",
            status: if f.indicators == 0 {
                Rag::Red
            } else if f.taxii_collections == 0 {
                Rag::Amber
            } else {
                Rag::Green
            },
            evidence: vec![library[0].clone(), flows[1].clone()],
        },
        Finding { id: "R8.5", status: sharing, evidence: flows },
    ]
}

/// R3.1–R3.3 ask for monitoring and disposal: alerts of the kind show the
/// monitoring runs (amber), disposal actions recorded on them complete it
/// (green). R3.8: notifying subscribers is a start of the services it asks.
fn detection(f: &Facts) -> Vec<Finding> {
    let rag = |(alerts, disposed): (i64, i64)| match (alerts, disposed) {
        (0, _) => Rag::Red,
        (_, 0) => Rag::Amber,
        _ => Rag::Green,
    };
    let pair = |en: &'static str, zh: &'static str, (alerts, disposed): (i64, i64), category: &'static str| {
        vec![
            item(en, zh, alerts, Some(category)),
            item("of them with a disposal action", "其中已有处置记录", disposed, Some(category)),
        ]
    };
    vec![
        Finding {
            id: "R3.1",
            status: rag(f.botnet_alerts),
            evidence: pair(
                "botnet, trojan and tunnelling alerts (30 days)",
                "僵尸网络、木马和隧道告警 (30 天)",
                f.botnet_alerts,
                "/alerts?category=botnet_cc",
            ),
        },
        Finding {
            id: "R3.2",
            status: rag(f.mobile_alerts),
            evidence: pair(
                "mobile malware alerts (30 days)",
                "移动恶意程序告警 (30 天)",
                f.mobile_alerts,
                "/alerts?category=mobile_malware",
            ),
        },
        Finding {
            id: "R3.3",
            status: rag(f.phishing_alerts),
            evidence: pair(
                "phishing and malicious URL alerts (30 days)",
                "钓鱼和恶意网址告警 (30 天)",
                f.phishing_alerts,
                "/alerts?category=phishing",
            ),
        },
        Finding {
            id: "R3.8",
            status: if f.notified > 0 { Rag::Amber } else { Rag::Red },
            evidence: vec![item(
                "infected subscribers notified (30 days)",
                "已通知的受感染用户 (30 天)",
                f.notified,
                Some("/alerts/victims"),
            )],
        },
    ]
}

/// R2.5: graded incidents reported to the regulator by their deadline.
fn reporting(f: &Facts) -> Vec<Finding> {
    let status = if f.unreported_overdue > 0 || f.reported_in_time + f.reported_late == 0 {
        Rag::Red
    } else if f.reported_late > 0 {
        Rag::Amber
    } else {
        Rag::Green
    };
    vec![Finding {
        id: "R2.5",
        status,
        evidence: vec![
            item("incidents with a reporting deadline", "有报告时限的事件", f.incidents_with_clock, Some("/incidents")),
            item("first reported in time", "按时首报", f.reported_in_time, Some("/incidents")),
            item("first reported late", "逾期首报", f.reported_late, Some("/incidents")),
            item("past the deadline without a report", "逾期未报", f.unreported_overdue, Some("/incidents")),
        ],
    }]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_reporting_moves_r2_5() {
        let r25 = |f: Facts| status_of(&evaluate(reqs(), &f), "R2.5");
        assert_eq!(r25(Facts { incidents_with_clock: 2, ..Facts::default() }), Rag::Red, "nothing reported yet");
        let in_time = Facts { incidents_with_clock: 2, reported_in_time: 2, ..Facts::default() };
        assert_eq!(r25(in_time), Rag::Green);
        let late = Facts { incidents_with_clock: 2, reported_in_time: 1, reported_late: 1, ..Facts::default() };
        assert_eq!(r25(late), Rag::Amber);
        let missing = Facts { incidents_with_clock: 2, reported_in_time: 1, unreported_overdue: 1, ..Facts::default() };
        assert_eq!(r25(missing), Rag::Red);
    }

    #[test]
    fn detection_moves_monitoring_and_disposal_requirements() {
        let list = evaluate(
            reqs(),
            &Facts { botnet_alerts: (5, 0), phishing_alerts: (2, 1), notified: 1, ..Facts::default() },
        );
        assert_eq!(status_of(&list, "R3.1"), Rag::Amber, "monitoring without disposal");
        assert_eq!(status_of(&list, "R3.2"), Rag::Red, "no mobile malware alerts");
        assert_eq!(status_of(&list, "R3.3"), Rag::Green);
        assert_eq!(status_of(&list, "R3.8"), Rag::Amber);
    }

    fn reqs() -> &'static [Requirement] {
        requirements().expect("builtin requirements")
    }

    fn status_of(list: &[RequirementStatus], id: &str) -> Rag {
        list.iter().find(|r| r.id == id).map(|r| r.status).expect("listed")
    }

    #[test]
    fn every_requirement_is_listed_and_empty_facts_are_red() {
        let list = evaluate(reqs(), &Facts::default());
        assert_eq!(list.len(), reqs().len());
        assert!(list.iter().all(|r| r.status == Rag::Red), "nothing recorded means no evidence");
        assert!(list.iter().all(|r| !r.evidence.is_empty()));
    }

    #[test]
    fn intel_libraries_and_sharing_move_their_requirements() {
        let mut f = Facts { indicators: 10, ..Facts::default() };
        let list = evaluate(reqs(), &f);
        assert_eq!(status_of(&list, "R3.5"), Rag::Amber, "a library nobody keeps current");
        assert_eq!(status_of(&list, "R3.6"), Rag::Red, "nothing flows in or out");
        assert_eq!(status_of(&list, "R6.5"), Rag::Amber);
        f.recent_imports = 1;
        f.malicious_url_indicators = 3;
        f.samples = 2;
        f.mobile_samples = 1;
        f.taxii_collections = 1;
        let list = evaluate(reqs(), &f);
        assert_eq!(status_of(&list, "R3.5"), Rag::Green);
        assert_eq!(status_of(&list, "R3.6"), Rag::Amber, "shared out, nothing pulled in");
        assert_eq!(status_of(&list, "R6.5"), Rag::Green);
        f.scheduled_sources = 1;
        assert_eq!(status_of(&evaluate(reqs(), &f), "R8.5"), Rag::Green);
    }

    #[test]
    fn facts_move_statuses() {
        let mut f =
            Facts { network_units: 2, graded_units: 2, filed_units: 1, domains: 3, assets: 10, ..Facts::default() };
        let list = evaluate(reqs(), &f);
        assert_eq!(status_of(&list, "R1.1"), Rag::Amber);
        assert_eq!(status_of(&list, "R1.3"), Rag::Green);
        assert_eq!(status_of(&list, "R1.4"), Rag::Amber, "domains without boundaries");
        f.filed_units = 2;
        f.boundaries = 1;
        let list = evaluate(reqs(), &f);
        assert_eq!(status_of(&list, "R1.1"), Rag::Green);
        assert_eq!(status_of(&list, "R1.4"), Rag::Green);
        f.overdue.push(Obligation::Refiling);
        assert_eq!(status_of(&evaluate(reqs(), &f), "R1.1"), Rag::Red);
        f.audit_intact = Some(false);
        f.audit_entries = 5;
        assert_eq!(status_of(&evaluate(reqs(), &f), "R5.3"), Rag::Red);
        f.audit_intact = Some(true);
        assert_eq!(status_of(&evaluate(reqs(), &f), "R5.3"), Rag::Green);
    }
}
