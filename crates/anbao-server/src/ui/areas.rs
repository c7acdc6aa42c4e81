//! Landing pages of the four areas. Each lists what the area covers, the
//! requirement ids it answers, and whether that part is in this build or
//! still planned, so nobody mistakes a heading for a feature.

use axum::response::Response;
use maud::html;

use super::Ctx;
use crate::error::ApiError;
use crate::extract::Path;

struct Module {
    key: &'static str,
    requirements: &'static str,
    /// Where it lives, if this build has it.
    href: Option<&'static str>,
}

fn modules(area: &str) -> Option<(&'static str, &'static [Module])> {
    const GOVERN: &[Module] = &[
        Module { key: "mod.requirements", requirements: "R1.1–S5", href: Some("/govern/requirements") },
        Module { key: "mod.org_units", requirements: "S3", href: Some("/admin/org-units") },
        Module { key: "mod.users", requirements: "R5.3, S3", href: Some("/admin/users") },
        Module { key: "mod.audit", requirements: "R5.3, S1", href: Some("/audit") },
        Module { key: "mod.assets", requirements: "R1.3, R1.5, R1.8, R7.1", href: Some("/govern/assets") },
        Module { key: "mod.domains", requirements: "R1.4", href: Some("/govern/domains") },
        Module { key: "mod.accountability", requirements: "S3, S5", href: Some("/govern/accountability") },
        Module { key: "mod.grading", requirements: "R1.1", href: Some("/govern/units") },
        Module { key: "mod.deadlines", requirements: "R1.1, R1.2", href: Some("/govern/deadlines") },
        Module { key: "mod.assessments", requirements: "R1.2", href: Some("/govern/units") },
        Module { key: "mod.tasks", requirements: "R1.2", href: Some("/govern/tasks") },
        Module { key: "mod.risk", requirements: "R1.2, R1.7", href: Some("/govern/risks") },
    ];
    const DETECT: &[Module] = &[
        Module { key: "mod.intel", requirements: "R3.5, R3.6, R6.5, R8.5", href: Some("/intel") },
        Module { key: "mod.alerts", requirements: "R3.1–R3.3, R3.8", href: Some("/alerts") },
        Module { key: "mod.network", requirements: "R3.1–R3.3, R8.1–R8.4", href: Some("/detection") },
        Module { key: "mod.flow", requirements: "R2.2, R8.2", href: Some("/flows") },
    ];
    const RESPOND: &[Module] = &[
        Module { key: "mod.victims", requirements: "R3.1, R3.8", href: Some("/alerts/victims") },
        Module { key: "mod.incidents", requirements: "R2.4, R2.5, R5.4", href: Some("/incidents") },
        Module { key: "mod.plans", requirements: "R2.1, R2.3", href: Some("/plans") },
        Module { key: "mod.warnings", requirements: "R2.4", href: Some("/warnings") },
        // One board per incident, opened from the incident's page.
        Module { key: "mod.dispatch", requirements: "R2.6", href: Some("/incidents#board") },
    ];
    const PROTECT: &[Module] = &[
        Module { key: "mod.vuln", requirements: "R1.8, R1.9", href: None },
        Module { key: "mod.apps", requirements: "R6.1–R6.5", href: None },
        Module { key: "mod.pii", requirements: "R5.1, R5.2", href: None },
    ];
    match area {
        "govern" => Some(("area.govern", GOVERN)),
        "detect" => Some(("area.detect", DETECT)),
        "respond" => Some(("area.respond", RESPOND)),
        "protect" => Some(("area.protect", PROTECT)),
        _ => None,
    }
}

pub async fn page(ctx: Ctx, Path(area): Path<String>) -> Result<Response, ApiError> {
    let (title, list) = modules(&area).ok_or_else(|| ApiError::not_found("area"))?;
    let body = html! {
        ul class="modules" {
            @for m in list {
                li class="card" {
                    @match m.href {
                        Some(href) => a href=(href) { strong { (ctx.t(m.key)) } },
                        None => strong { (ctx.t(m.key)) },
                    }
                    " " span class="req" { (m.requirements) } " "
                    @if m.href.is_some() { span class="badge green" { (ctx.t("status.available")) } }
                    @else { span class="badge" { (ctx.t("status.planned")) } }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t(title), body))
}
