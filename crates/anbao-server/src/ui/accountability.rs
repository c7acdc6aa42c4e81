//! Accountability (S3): per organisation unit, the leader in charge of
//! security, the security department and its staff with their certificates.

use anbao_model::Permission;
use anbao_model::org::OrgTree;
use anbao_store::{Accountability, StaffMember};
use axum::extract::State;
use axum::response::Response;
use maud::html;

use super::{Ctx, Flash, after_change, flash, redirect_with, unit_options};
use crate::AppState;
use crate::auth::{ClientAddr, Principal};
use crate::error::ApiError;
use crate::extract::{FormBody, Query};

const BACK: &str = "/govern/accountability";

pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    Query(f): Query<Flash>,
) -> Result<Response, ApiError> {
    let units = state.store.list_org_units().await?;
    let tree = OrgTree::new(&units);
    let records = state.store.list_accountability().await?;
    let manage = ctx.can(Permission::ManageGovern);
    let body = html! {
        (flash(&f))
        table class="data" id="accountability" {
            thead { tr { th { (ctx.t("field.org_unit")) } th { (ctx.t("field.leader")) } th { (ctx.t("field.security_department")) } th { (ctx.t("field.staff")) } } }
            tbody {
                @for u in units.iter().filter(|u| p.scope.contains(u.id) && u.kind != anbao_model::OrgKind::Department) {
                    @let rec = records.iter().find(|r| r.org_unit_id == u.id);
                    tr data-unit=(u.id) {
                        td { (tree.path(u.id)) }
                        @match rec {
                            Some(r) => {
                                td { (r.leader_name) @if !r.leader_title.is_empty() { " (" (r.leader_title) ")" } }
                                td { (r.security_department_id.map(|d| tree.path(d)).unwrap_or_default()) }
                                td { @for s in &r.staff { div { (s.name) " · " (s.post) @if !s.certificate.is_empty() { " · " (s.certificate) } } } }
                            }
                            None => { td colspan="3" { span class="badge red" { (ctx.t("accountability.missing")) } } }
                        }
                    }
                }
            }
        }
        @if manage {
            section class="card" {
                h2 { (ctx.t("accountability.set")) }
                form method="post" action="/govern/accountability" id="set-accountability" class="grid" {
                    (ctx.csrf_field())
                    label { (ctx.t("field.org_unit")) select name="org_unit_id" { (unit_options(&units, &p.scope, Some(p.home_unit))) } }
                    label { (ctx.t("field.leader")) input name="leader_name" required; }
                    label { (ctx.t("field.leader_title")) input name="leader_title"; }
                    label { (ctx.t("field.security_department")) select name="security_department_id" { option value="" { "—" } (unit_options(&units, &p.scope, None)) } }
                    label class="wide" { (ctx.t("field.staff_lines")) textarea name="staff" rows="4" placeholder="张伟, 安全工程师, CISP" {} }
                    button type="submit" { (ctx.t("action.save")) }
                }
            }
        }
    };
    Ok(super::page(&ctx, ctx.t("nav.accountability"), body))
}

/// Staff as typed in the form: one person a line, `name, post, certificate`.
fn parse_staff(text: &str) -> Vec<StaffMember> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(|l| {
            let mut parts = l.split([',', '，']).map(str::trim);
            StaffMember {
                name: parts.next().unwrap_or_default().to_owned(),
                post: parts.next().unwrap_or_default().to_owned(),
                certificate: parts.collect::<Vec<_>>().join(", "),
            }
        })
        .collect()
}

#[derive(Debug, serde::Deserialize)]
pub struct AccountabilityForm {
    org_unit_id: i64,
    leader_name: String,
    #[serde(default)]
    leader_title: String,
    #[serde(default)]
    security_department_id: String,
    #[serde(default)]
    staff: String,
}

pub async fn set(
    State(state): State<AppState>,
    ctx: Ctx,
    p: Principal,
    client: ClientAddr,
    FormBody(f): FormBody<AccountabilityForm>,
) -> Result<Response, ApiError> {
    let department = match f.security_department_id.trim() {
        "" => None,
        s => match s.parse::<i64>() {
            Ok(d) if p.scope.contains(d) => Some(d),
            _ => return Ok(redirect_with(BACK, "error", "security_department_id: choose a unit within your scope")),
        },
    };
    if !p.scope.contains(f.org_unit_id) {
        return Ok(redirect_with(BACK, "error", "org_unit_id: choose a unit within your scope"));
    }
    let record = Accountability {
        org_unit_id: f.org_unit_id,
        leader_name: f.leader_name,
        leader_title: f.leader_title,
        security_department_id: department,
        staff: parse_staff(&f.staff),
    };
    after_change(state.store.set_accountability(&p.actor(&client), &record).await, BACK, ctx.t("saved"))
}

#[cfg(test)]
mod tests {
    use super::parse_staff;

    #[test]
    fn staff_lines_split_on_ascii_and_chinese_commas() {
        let s = parse_staff("张伟, 安全工程师, CISP\n\n李娜，运维");
        assert_eq!(s.len(), 2);
        assert_eq!((s[0].name.as_str(), s[0].post.as_str(), s[0].certificate.as_str()), ("张伟", "安全工程师", "CISP"));
        assert_eq!((s[1].name.as_str(), s[1].post.as_str()), ("李娜", "运维"));
    }
}
