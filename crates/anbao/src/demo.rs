//! `serve --demo`: a small, realistic demo organisation (a group company
//! with two provincial companies and their security departments, and one
//! account per role) so every page has something in it. Loaded once; the
//! accounts' generated passwords are printed when they are created.

use anbao_model::{OrgKind, Role};
use anbao_store::{Actor, NewOrgUnit, NewUser, Store};
use anyhow::{Context, Result};

pub async fn load(store: &Store) -> Result<()> {
    let units = store.list_org_units().await?;
    let root = units.iter().find(|u| u.parent_id.is_none()).context("no root unit")?.clone();
    if units.iter().any(|u| u.parent_id == Some(root.id) && u.name == "北京公司") {
        return Ok(());
    }
    let actor = Actor {
        name: "demo".into(),
        role: "system".into(),
        channel: "system",
        source_ip: String::new(),
        user_id: None,
    };
    let unit = |parent: i64, name: &str, kind: OrgKind, code: &str| NewOrgUnit {
        parent_id: Some(parent),
        name: name.into(),
        kind,
        code: code.into(),
    };
    let group_sec =
        store.create_org_unit(&actor, &unit(root.id, "集团网络与信息安全部", OrgKind::Department, "HQ-SEC")).await?;
    let bj = store.create_org_unit(&actor, &unit(root.id, "北京公司", OrgKind::Province, "BJ")).await?;
    let bj_sec = store.create_org_unit(&actor, &unit(bj.id, "网络与信息安全部", OrgKind::Department, "BJ-SEC")).await?;
    store.create_org_unit(&actor, &unit(bj.id, "网络运维中心", OrgKind::Department, "BJ-NOC")).await?;
    let gd = store.create_org_unit(&actor, &unit(root.id, "广东公司", OrgKind::Province, "GD")).await?;
    let gd_sec = store.create_org_unit(&actor, &unit(gd.id, "网络与信息安全部", OrgKind::Department, "GD-SEC")).await?;
    store.create_org_unit(&actor, &unit(gd.id, "广州分公司", OrgKind::City, "GD-GZ")).await?;

    let accounts = [
        ("zhang.wei", "张伟", Role::Analyst, group_sec.id, vec![]),
        ("li.na", "李娜", Role::Responder, bj_sec.id, vec![]),
        ("wang.fang", "王芳", Role::Auditor, root.id, vec![]),
        ("zhao.lei", "赵磊", Role::Admin, gd.id, vec![]),
        ("chen.jie", "陈杰（通信管理局）", Role::Regulator, root.id, vec![gd.id]),
    ];
    out!("demo organisation loaded; demo accounts (change these passwords):")?;
    for (username, name, role, unit_id, grants) in accounts {
        let password = anbao_store::generate_password(username);
        store
            .create_user(
                &actor,
                &NewUser {
                    username: username.into(),
                    display_name: name.into(),
                    email: format!("{username}@example.com"),
                    phone: String::new(),
                    role,
                    org_unit_id: unit_id,
                    password: password.clone(),
                    grants,
                    must_change_password: true,
                },
            )
            .await?;
        out!("  {username:<10} {:<10} {password}", role.as_str())?;
    }
    load_registry(store, &actor, root.id, bj.id, gd.id, gd_sec.id).await
}

/// Assets, security domains and accountability records for the demo units.
async fn load_registry(store: &Store, actor: &Actor, root: i64, bj: i64, gd: i64, gd_sec: i64) -> Result<()> {
    let scope = anbao_model::OrgScope::All;
    // (external id, name, type, identifier, unit, responsible person, attributes, components)
    type DemoAsset<'a> = (&'a str, &'a str, &'a str, &'a str, i64, &'a str, Attributes<'a>, Components<'a>);
    type Attributes<'a> = &'a [(&'a str, &'a str)];
    type Components<'a> = &'a [(&'a str, &'a str, &'a str, &'a str)];
    let assets: &[DemoAsset<'_>] = &[
        (
            "GD-WEB-01",
            "广东公司门户网站",
            "website",
            "https://www.gd.example.cn",
            gd,
            "李明",
            &[("icp_filing", "粤ICP备00000001号"), ("hosting", "广州IDC")],
            &[("nginx", "nginx", "1.24.0", "cpe:2.3:a:nginx:nginx:1.24.0:*:*:*:*:*:*:*")],
        ),
        (
            "GD-DNS-01",
            "广东省递归DNS集群",
            "dns_service",
            "202.96.128.86",
            gd,
            "王强",
            &[("role", "recursive"), ("addresses", "202.96.128.86, 202.96.134.133")],
            &[("isc", "bind", "9.18.24", "cpe:2.3:a:isc:bind:9.18.24:*:*:*:*:*:*:*")],
        ),
        (
            "GD-FW-01",
            "互联网出口防火墙",
            "device",
            "10.20.0.1",
            gd,
            "王强",
            &[("vendor", "华为"), ("model", "USG6000E"), ("location", "广州机房A区")],
            &[],
        ),
        (
            "GD-CRM",
            "客户关系管理系统",
            "business_system",
            "crm.gd.example.cn",
            gd,
            "李明",
            &[("users", "5000"), ("mlps_level", "3")],
            &[("oracle", "database", "19c", "")],
        ),
        (
            "BJ-DOMAIN",
            "bj.example.cn",
            "domain_name",
            "bj.example.cn",
            bj,
            "赵敏",
            &[("registrar", "中国互联网络信息中心"), ("expires", "2027-06-30")],
            &[],
        ),
        (
            "BJ-CLOUD",
            "政企云租户",
            "cloud_tenant",
            "tenant-8842",
            bj,
            "赵敏",
            &[("provider", "天翼云"), ("region", "华北2")],
            &[],
        ),
        (
            "HQ-OPS-T",
            "集团运维终端",
            "terminal",
            "10.0.9.21",
            root,
            "孙伟",
            &[("purpose", "maintenance"), ("holder", "孙伟")],
            &[],
        ),
    ];
    let mut ids = Vec::new();
    for (ext, name, ty, ident, unit, person, attrs, comps) in assets {
        let draft = anbao_model::asset::AssetDraft {
            external_id: (*ext).into(),
            name: (*name).into(),
            asset_type: (*ty).into(),
            identifier: (*ident).into(),
            org_unit: unit.to_string(),
            responsible_department: if *unit == gd { gd_sec.to_string() } else { unit.to_string() },
            responsible_person: (*person).into(),
            operator_contact: "网络运维中心 7x24".into(),
            oncall_phone: "010-5555 0100".into(),
            lifecycle: "live".into(),
            criticality: if *ty == "dns_service" { "critical".into() } else { "high".into() },
            attributes: attrs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect(),
        };
        let components: Vec<_> = comps
            .iter()
            .map(|(vendor, product, version, cpe)| anbao_model::asset::ComponentDraft {
                vendor: (*vendor).into(),
                product: (*product).into(),
                version: (*version).into(),
                cpe: (*cpe).into(),
                ..Default::default()
            })
            .map(|c| c.check())
            .collect::<Result<_, _>>()?;
        let created = store.create_asset(actor, &scope, &draft.check()?, &components).await?;
        ids.push(created.id);
    }
    use anbao_model::asset::ZoneKind;
    let core = store.create_domain(actor, gd, "核心生产区", ZoneKind::Core, "计费、CRM 等核心系统").await?;
    let dmz = store.create_domain(actor, gd, "互联网DMZ区", ZoneKind::Dmz, "对外服务").await?;
    let mgmt = store.create_domain(actor, gd, "运维管理区", ZoneKind::Management, "堡垒机与网管").await?;
    let office = store.create_domain(actor, gd, "办公区", ZoneKind::Office, "").await?;
    store.set_asset_domains(actor, ids[0], &[dmz.id]).await?;
    store.set_asset_domains(actor, ids[1], &[dmz.id]).await?;
    store.set_asset_domains(actor, ids[2], &[dmz.id, core.id]).await?;
    store.set_asset_domains(actor, ids[3], &[core.id]).await?;
    store.create_boundary(actor, dmz.id, core.id, Some(ids[2]), "状态防火墙, IPS").await?;
    store.create_boundary(actor, mgmt.id, core.id, None, "堡垒机, 双因素认证").await?;
    store.create_boundary(actor, office.id, dmz.id, None, "访问控制列表").await?;
    for (unit, leader, title, dept) in
        [(root, "周国华", "集团副总经理", None), (gd, "陈立", "省公司副总经理", Some(gd_sec))]
    {
        let record = anbao_store::Accountability {
            org_unit_id: unit,
            leader_name: leader.into(),
            leader_title: title.into(),
            security_department_id: dept,
            staff: vec![anbao_store::StaffMember {
                name: "李明".into(),
                post: "安全工程师".into(),
                certificate: "CISP".into(),
            }],
        };
        store.set_accountability(actor, &record).await?;
    }
    load_network_units(store, actor, gd, &ids).await
}

/// Two graded units whose deadlines show on the dashboard: one filed over a
/// year ago and now due for its yearly assessments, one reviewed but not
/// yet filed.
async fn load_network_units(store: &Store, actor: &Actor, gd: i64, assets: &[i64]) -> Result<()> {
    use anbao_model::grading::{GradingAnswers, GradingRules, MlpsLevel};
    let rules = GradingRules::builtin()?;
    let today = store.clock().now().date();
    let days = |n: i64| today - time::Duration::days(n);
    let answers = |scope: &str, social: &str| -> Result<GradingAnswers> {
        let mut a = GradingAnswers::new();
        for f in rules.factors() {
            let option = match f.id.as_str() {
                "service_scope" => scope.to_owned(),
                "social_order" | "public_interest" | "economic_operation" => social.to_owned(),
                _ => f.options.first().map(|o| o.id.clone()).unwrap_or_default(),
            };
            a.set(f.id.clone(), option);
        }
        Ok(a)
    };
    let units = [
        ("广东省IP城域网", "省内宽带接入与汇聚", "province", "serious", (400, 395), &assets[2..3]),
        ("广东公司门户网站系统", "对外信息发布与网上营业厅", "province", "minor", (45, 0), &assets[0..1]),
    ];
    for (name, function, scope, harm, (reviewed_days_ago, filed_days_ago), linked) in units {
        let draft = anbao_store::NetworkUnitDraft {
            org_unit_id: gd,
            name: name.into(),
            main_function: function.into(),
            responsible_person: "陈立".into(),
            topology: "核心层—汇聚层—接入层，双归属上联骨干网".into(),
            boundary: "与骨干网、IDC、互联网出口之间以防火墙隔离".into(),
            key_facilities: "广州机房A区、深圳机房B区".into(),
            mlps_level: Some(MlpsLevel::Three),
        };
        let unit = store.create_network_unit(actor, &draft).await?;
        store.set_network_unit_assets(actor, unit.id, linked).await?;
        // The demo's answers may not all be valid for an operator's own
        // rules file; then the unit simply stays ungraded.
        let Ok(proposal) = rules.propose(&answers(scope, harm)?) else { continue };
        store.record_grading(actor, unit.id, &proposal, proposal.level, "").await?;
        store.record_review(actor, unit.id, days(reviewed_days_ago), "张教授、李研究员、王高工", "同意定级").await?;
        if filed_days_ago > 0 {
            store.record_filing(actor, unit.id, days(filed_days_ago), "粤通信安备-2025-0017").await?;
        }
    }
    Ok(())
}
