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
    store.create_org_unit(&actor, &unit(gd.id, "网络与信息安全部", OrgKind::Department, "GD-SEC")).await?;
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
    Ok(())
}
