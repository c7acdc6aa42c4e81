//! The asset and responsibility registry: assets and their inventory,
//! bulk import, security domains and boundaries, accountability records.

use std::collections::BTreeSet;

use anbao_model::asset::{AssetDraft, AssetType, CheckedAsset, CheckedComponent, ComponentDraft, Lifecycle, ZoneKind};
use anbao_model::{OrgKind, OrgScope, OrgUnit};
use anbao_store::{
    Accountability, AssetFilter, AuditFilter, ImportAction, ImportReport, ImportRow, StaffMember, Store, StoreError,
};
use sqlx::{Connection, Row};
use time::Duration;

use crate::harness::*;

on_both_backends! {
    assets_name_their_units_by_id_or_code => assets_name_their_units_by_id_or_code_sqlite, assets_name_their_units_by_id_or_code_postgres;
    asset_changes_are_audited => asset_changes_are_audited_sqlite, asset_changes_are_audited_postgres;
    asset_search_and_filters => asset_search_and_filters_sqlite, asset_search_and_filters_postgres;
    import_dry_run_then_real_run => import_dry_run_then_real_run_sqlite, import_dry_run_then_real_run_postgres;
    import_with_any_error_writes_nothing => import_with_any_error_writes_nothing_sqlite, import_with_any_error_writes_nothing_postgres;
    import_of_two_thousand_rows => import_of_two_thousand_rows_sqlite, import_of_two_thousand_rows_postgres;
    security_domains_and_boundaries => security_domains_and_boundaries_sqlite, security_domains_and_boundaries_postgres;
    accountability_records => accountability_records_sqlite, accountability_records_postgres;
    assets_affected_by_addresses_and_names => assets_affected_by_addresses_and_names_sqlite, assets_affected_by_addresses_and_names_postgres;
}

const PHONE: &str = "13912345678";
const NGINX_CPE: &str = "cpe:2.3:a:nginx:nginx:1.24.0:*:*:*:*:*:*:*";

/// The tree: 集团公司 (HQ) ─┬─ 广东公司 (GD) ── 广东安全部 (GD-SEC)
///                          └─ 江苏公司 (JS) ── 江苏安全部 (JS-SEC)
struct Tree {
    root: OrgUnit,
    gd: OrgUnit,
    gd_sec: OrgUnit,
    js: OrgUnit,
    js_sec: OrgUnit,
}

async fn coded_unit(store: &Store, parent: Option<i64>, name: &str, kind: OrgKind, code: &str) -> OrgUnit {
    let new = anbao_store::NewOrgUnit { code: code.into(), ..new_unit(parent, name, kind) };
    store.create_org_unit(&actor("alice"), &new).await.expect("create organisation unit")
}

async fn tree(store: &Store) -> Tree {
    let root = coded_unit(store, None, "集团公司", OrgKind::Group, "HQ").await;
    let gd = coded_unit(store, Some(root.id), "广东公司", OrgKind::Province, "GD").await;
    let gd_sec = coded_unit(store, Some(gd.id), "广东安全部", OrgKind::Department, "GD-SEC").await;
    let js = coded_unit(store, Some(root.id), "江苏公司", OrgKind::Province, "JS").await;
    let js_sec = coded_unit(store, Some(js.id), "江苏安全部", OrgKind::Department, "JS-SEC").await;
    Tree { root, gd, gd_sec, js, js_sec }
}

/// Only these units (and nothing below them unless listed).
fn units(ids: &[i64]) -> OrgScope {
    OrgScope::Units(ids.iter().copied().collect())
}

/// A business system owned by `unit`, `dept` responsible; units by id or code.
fn draft(name: &str, unit: &str, dept: &str) -> AssetDraft {
    AssetDraft {
        name: name.into(),
        asset_type: "business_system".into(),
        org_unit: unit.into(),
        responsible_department: dept.into(),
        responsible_person: "张伟".into(),
        ..AssetDraft::default()
    }
}

#[track_caller]
fn checked(d: &AssetDraft) -> CheckedAsset {
    d.check().unwrap_or_else(|e| panic!("draft should be valid: {e}"))
}

fn component(product: &str, cpe: &str) -> CheckedComponent {
    ComponentDraft { vendor: product.into(), product: product.into(), cpe: cpe.into(), ..ComponentDraft::default() }
        .check()
        .expect("a valid component")
}

async fn create(store: &Store, d: &AssetDraft) -> anbao_store::Asset {
    store.create_asset(&actor("alice"), &OrgScope::All, &checked(d), &[]).await.expect("create asset")
}

async fn raw_count(db: &TestDb, sql: &str, id: i64) -> i64 {
    let mut conn = db.raw_connection().await;
    let n: i64 = sqlx::query(sql).bind(id).fetch_one(&mut conn).await.unwrap().get("n");
    conn.close().await.unwrap();
    n
}

#[track_caller]
fn assert_invalid_saying<T: std::fmt::Debug>(result: Result<T, StoreError>, field: &str, words: &str) {
    match result {
        Err(StoreError::Invalid(invalid)) => {
            assert_eq!(invalid.field, field, "wrong field named: {invalid}");
            assert!(invalid.reason.contains(words), "reason should say {words:?}: {invalid}");
        }
        other => panic!("expected Invalid({field}), got {other:?}"),
    }
}

async fn assets_name_their_units_by_id_or_code(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let t = tree(store).await;

    let d = AssetDraft {
        external_id: "GD-OA-001".into(),
        identifier: "https://oa.gd.example.cn".into(),
        operator_contact: "广东运维中心".into(),
        oncall_phone: PHONE.into(),
        lifecycle: "live".into(),
        attributes: [("url".to_owned(), "https://oa.gd.example.cn".to_owned())].into(),
        // The unit by id, the department by code.
        ..draft("办公自动化系统", &t.gd.id.to_string(), "GD-SEC")
    };
    let os = ComponentDraft {
        kind: "os".into(),
        vendor: "debian".into(),
        product: "debian_linux".into(),
        version: "12".into(),
        purl: "pkg:deb/debian/openssl@3.0.11".into(),
        end_of_support: "2028-06-30".into(),
        ..ComponentDraft::default()
    }
    .check()
    .unwrap();
    let components = [component("nginx", NGINX_CPE), os];
    let created = store.create_asset(&alice, &OrgScope::All, &checked(&d), &components).await.unwrap();
    assert_eq!((created.org_unit_id, created.responsible_department_id), (t.gd.id, t.gd_sec.id));
    assert_eq!((created.asset_type, created.lifecycle), (AssetType::BusinessSystem, Lifecycle::Live));
    assert_eq!(created.created_at, db.now());
    let read = store.get_asset(created.id).await.unwrap();
    assert_eq!(read, created);
    assert_eq!(read.oncall_phone, PHONE, "the on-call phone reads back in the clear");
    assert_eq!(read.attributes["url"], "https://oa.gd.example.cn");
    let products: Vec<&str> = read.components.iter().map(|c| c.product.as_str()).collect();
    assert_eq!(products, ["nginx", "debian_linux"]);
    assert_eq!(read.components[0].cpe, NGINX_CPE);
    assert_eq!(read.components[1].purl, "pkg:deb/debian/openssl@3.0.11");
    assert_eq!(read.components[1].end_of_support.as_deref(), Some("2028-06-30"));
    assert!(read.domain_ids.is_empty());

    // The unit by code, the department by id; and the root by its code.
    let by_code = create(store, &draft("门户网站", " GD ", &t.gd_sec.id.to_string())).await;
    assert_eq!((by_code.org_unit_id, by_code.responsible_department_id), (t.gd.id, t.gd_sec.id));
    let hq = create(store, &draft("集团门户", "HQ", "JS-SEC")).await;
    assert_eq!((hq.org_unit_id, hq.responsible_department_id), (t.root.id, t.js_sec.id));

    // The on-call phone is sealed at rest and kept out of the audit log.
    let mut conn = db.raw_connection().await;
    let row =
        sqlx::query("SELECT oncall_phone_sealed FROM assets WHERE id = $1").bind(created.id).fetch_one(&mut conn).await;
    conn.close().await.unwrap();
    let stored: String = row.unwrap().get("oncall_phone_sealed");
    assert!(!stored.is_empty() && !stored.contains(PHONE), "the phone is stored in the clear: {stored}");
    let entry = assert_audited(store, "alice", "asset.create", "asset", hq.id).await;
    assert_eq!(entry.org_unit_id, Some(t.root.id));
    let first = audit(store, AuditFilter { object_id: Some(created.id.to_string()), ..everything() }).await;
    let first = first.iter().find(|e| e.action == "asset.create").expect("asset.create of the first asset");
    assert_eq!(first.object_type, "asset");
    assert_eq!(first.org_unit_id, Some(t.gd.id));
    let after = first.after.as_ref().unwrap();
    assert_eq!(after["responsible_department_id"], t.gd_sec.id);
    assert_eq!(after["components"].as_array().map(Vec::len), Some(2));
    let log = serde_json::to_string(&audit(store, everything()).await).unwrap();
    assert!(!log.contains(PHONE), "the audit log holds the on-call phone: {log}");

    // Unresolvable, ambiguous and out-of-scope references name the field.
    coded_unit(store, Some(t.gd.id), "广东网络部", OrgKind::Department, "NET").await;
    coded_unit(store, Some(t.js.id), "江苏网络部", OrgKind::Department, "NET").await;
    let audited = store.count_audit().await.unwrap();
    let all = AssetFilter::default();
    let assets = store.count_assets(&all).await.unwrap();
    let attempt = |d: AssetDraft, scope: OrgScope| async move {
        store.create_asset(&actor("alice"), &scope, &checked(&d), &[]).await
    };
    assert_invalid(attempt(draft("x", "NOPE", "GD-SEC"), OrgScope::All).await, "org_unit");
    assert_invalid(attempt(draft("x", "999999", "GD-SEC"), OrgScope::All).await, "org_unit");
    assert_invalid(attempt(draft("x", "GD", "gd-sec"), OrgScope::All).await, "responsible_department");
    assert_invalid(attempt(draft("x", "GD", "999999"), OrgScope::All).await, "responsible_department");
    assert_invalid_saying(attempt(draft("x", "GD", "NET"), OrgScope::All).await, "responsible_department", "several");
    assert_invalid_saying(attempt(draft("x", "NET", "GD-SEC"), OrgScope::All).await, "org_unit", "several");
    let guangdong = units(&[t.gd.id, t.gd_sec.id]);
    assert_invalid(attempt(draft("x", "JS", "GD-SEC"), guangdong.clone()).await, "org_unit");
    assert_invalid(attempt(draft("x", &t.js.id.to_string(), "GD-SEC"), guangdong.clone()).await, "org_unit");
    assert_invalid(attempt(draft("x", "GD", "JS-SEC"), guangdong.clone()).await, "responsible_department");
    assert_invalid(attempt(draft("x", "HQ", "GD-SEC"), guangdong.clone()).await, "org_unit");
    let taken = AssetDraft { external_id: "GD-OA-001".into(), ..draft("重复", "JS", "JS-SEC") };
    assert_conflict(attempt(taken, OrgScope::All).await);
    assert_eq!(store.count_assets(&all).await.unwrap(), assets, "refused assets are not stored");
    assert_eq!(store.count_audit().await.unwrap(), audited, "refused assets are not audited");

    // Within the scope it works; an empty external id may repeat.
    let in_scope = attempt(draft("广东邮件系统", "GD", "GD-SEC"), guangdong).await.unwrap();
    assert_eq!(in_scope.org_unit_id, t.gd.id);
    assert_eq!((in_scope.external_id.as_str(), by_code.external_id.as_str()), ("", ""));
    assert_chain_intact(store, audited + 1).await;
}

async fn asset_changes_are_audited(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let t = tree(store).await;
    let d = AssetDraft {
        external_id: "GD-DNS-01".into(),
        asset_type: "dns_service".into(),
        identifier: "ns1.gd.example.cn".into(),
        oncall_phone: PHONE.into(),
        ..draft("权威解析", "GD", "GD-SEC")
    };
    let asset = store.create_asset(&alice, &OrgScope::All, &checked(&d), &[component("bind", "")]).await.unwrap();

    // Saving the same fields changes nothing and records nothing.
    let audited = store.count_audit().await.unwrap();
    db.clock.advance(Duration::minutes(5));
    let same = store.update_asset(&alice, &OrgScope::All, asset.id, &checked(&d)).await.unwrap();
    assert_eq!(same, asset);
    assert_eq!(store.count_audit().await.unwrap(), audited, "an update without changes is not audited");

    // Changed fields are in the entry's before and after.
    let changed = AssetDraft {
        responsible_person: "李娜".into(),
        lifecycle: "live".into(),
        criticality: "critical".into(),
        responsible_department: "JS-SEC".into(),
        attributes: [("role".to_owned(), "authoritative".to_owned())].into(),
        ..d.clone()
    };
    // The pre-launch gate (R1.7): planned → live needs a clearance.
    assert_invalid(store.update_asset(&alice, &OrgScope::All, asset.id, &checked(&changed)).await, "lifecycle");
    assert_conflict(store.clear_for_launch(&alice, asset.id, "assessment", "王总", "").await);
    assert_invalid(store.clear_for_launch(&alice, asset.id, "exception", "王总", "").await, "reason");
    store.clear_for_launch(&alice, asset.id, "exception", "王总", "国庆保障期间临时上线").await.unwrap();
    let audited = store.count_audit().await.unwrap();
    let updated = store.update_asset(&alice, &OrgScope::All, asset.id, &checked(&changed)).await.unwrap();
    assert_eq!(store.count_audit().await.unwrap(), audited + 1, "one entry for the update");
    assert_eq!((updated.responsible_person.as_str(), updated.responsible_department_id), ("李娜", t.js_sec.id));
    assert_eq!(updated.updated_at, db.now());
    assert_eq!(updated.created_at, asset.created_at);
    assert_eq!(updated.components, asset.components, "an update keeps the inventory");
    assert_eq!(store.get_asset(asset.id).await.unwrap(), updated);
    let entry = assert_audited(store, "alice", "asset.update", "asset", asset.id).await;
    let (before, after) = (entry.before.as_ref().unwrap(), entry.after.as_ref().unwrap());
    for (field, old, new) in [
        ("responsible_person", serde_json::json!("张伟"), serde_json::json!("李娜")),
        ("lifecycle", "planned".into(), "live".into()),
        ("criticality", "medium".into(), "critical".into()),
        ("responsible_department_id", t.gd_sec.id.into(), t.js_sec.id.into()),
        ("attributes", serde_json::json!({}), serde_json::json!({"role": "authoritative"})),
    ] {
        assert_eq!((&before[field], &after[field]), (&old, &new), "{field} in {entry:?}");
    }
    assert_eq!(before["name"], after["name"]);

    // A new phone is noted, not recorded.
    let new_phone = AssetDraft { oncall_phone: "13700001111".into(), ..changed.clone() };
    let updated = store.update_asset(&alice, &OrgScope::All, asset.id, &checked(&new_phone)).await.unwrap();
    assert_eq!(updated.oncall_phone, "13700001111");
    let entry = assert_audited(store, "alice", "asset.update", "asset", asset.id).await;
    assert_eq!(entry.after.as_ref().unwrap()["oncall_phone_changed"], true);
    let text = serde_json::to_string(&entry).unwrap();
    assert!(!text.contains("13700001111") && !text.contains(PHONE), "the audit entry holds a phone: {text}");

    // Refused updates.
    let other =
        create(store, &AssetDraft { external_id: "JS-DNS-01".into(), ..draft("江苏解析", "JS", "JS-SEC") }).await;
    let steal = AssetDraft { external_id: "JS-DNS-01".into(), ..changed.clone() };
    assert_conflict(store.update_asset(&alice, &OrgScope::All, asset.id, &checked(&steal)).await);
    let move_out = AssetDraft { org_unit: "JS".into(), ..changed.clone() };
    let guangdong = units(&[t.gd.id, t.gd_sec.id, t.js_sec.id]);
    assert_invalid(store.update_asset(&alice, &guangdong, asset.id, &checked(&move_out)).await, "org_unit");
    assert_not_found(store.update_asset(&alice, &OrgScope::All, 999_999, &checked(&changed)).await);

    // The inventory changes one line at a time.
    let added = store.add_component(&alice, asset.id, &component("unbound", "")).await.unwrap();
    let entry = assert_audited(store, "alice", "asset.component_add", "asset", asset.id).await;
    assert_eq!(entry.after.as_ref().unwrap()["id"], added.id);
    assert_eq!(entry.after.as_ref().unwrap()["product"], "unbound");
    let products: Vec<String> =
        store.get_asset(asset.id).await.unwrap().components.into_iter().map(|c| c.product).collect();
    assert_eq!(products, ["bind", "unbound"]);
    let bind = asset.components[0].id;
    store.delete_component(&alice, asset.id, bind).await.unwrap();
    let entry = assert_audited(store, "alice", "asset.component_remove", "asset", asset.id).await;
    assert_eq!(entry.before.as_ref().unwrap()["product"], "bind");
    assert_not_found(store.delete_component(&alice, asset.id, bind).await);
    assert_not_found(store.delete_component(&alice, other.id, added.id).await);
    assert_not_found(store.add_component(&alice, 999_999, &component("x", "")).await);

    // Deleting removes the inventory and the domain membership with it.
    let domain = store.create_domain(&alice, t.gd.id, "核心区", ZoneKind::Core, "").await.unwrap();
    store.set_asset_domains(&alice, asset.id, &[domain.id]).await.unwrap();
    let entry = assert_audited(store, "alice", "asset.domains", "asset", asset.id).await;
    assert_eq!(entry.after.as_ref().unwrap()["domain_ids"], serde_json::json!([domain.id]));
    store.delete_asset(&alice, asset.id).await.unwrap();
    let entry = assert_audited(store, "alice", "asset.delete", "asset", asset.id).await;
    assert_eq!(entry.org_unit_id, Some(t.gd.id));
    assert_eq!(entry.before.as_ref().unwrap()["name"], "权威解析");
    assert!(entry.after.is_none());
    assert_not_found(store.get_asset(asset.id).await);
    assert_not_found(store.delete_asset(&alice, asset.id).await);
    let components = "SELECT COUNT(*) AS n FROM asset_components WHERE asset_id = $1";
    assert_eq!(raw_count(&db, components, asset.id).await, 0, "components are deleted with the asset");
    let memberships = "SELECT COUNT(*) AS n FROM asset_domains WHERE asset_id = $1";
    assert_eq!(raw_count(&db, memberships, asset.id).await, 0, "domain membership is deleted with the asset");
    assert_eq!(store.list_domains(None).await.unwrap()[0].asset_count, 0);

    // Every change is in the log under the asset's id.
    let history = audit(store, AuditFilter { object_type: Some("asset".into()), ..everything() }).await;
    let of_asset: Vec<&str> =
        history.iter().rev().filter(|e| e.object_id == asset.id.to_string()).map(|e| e.action.as_str()).collect();
    assert_eq!(
        of_asset,
        [
            "asset.create",
            "asset.prelaunch_exception",
            "asset.update",
            "asset.update",
            "asset.component_add",
            "asset.component_remove",
            "asset.domains",
            "asset.delete"
        ]
    );
    let entries = store.count_audit().await.unwrap();
    assert_chain_intact(store, entries).await;
}

async fn asset_search_and_filters(db: TestDb) {
    let store = &db.store;
    let t = tree(store).await;
    let specs: [(&str, &str, &str, &str, &str, &str, &str); 6] = [
        // name, type, identifier, external id, person, unit, lifecycle
        ("crm_core", "business_system", "crm.gd.example.cn", "GD-CRM", "Zhang Wei", "GD", "live"),
        ("crmXcore", "business_system", "10.1.1.1", "GD-CRMX", "李娜", "GD", "planned"),
        ("edge firewall", "device", "10.0.0.1", "GD-FW-100%", "王芳", "GD", "live"),
        ("js portal", "website", "https://www.js.example.cn", "JS-WEB", "ZHANG San", "JS", "live"),
        ("js mail", "business_system", "mail.js.example.cn", "", "赵强", "JS", "retired"),
        ("hq dns", "dns_service", "ns.example.cn", "HQ-DNS", "孙丽", "HQ", "live"),
    ];
    let mut ids = std::collections::BTreeMap::new();
    for (name, ty, identifier, ext, person, unit, lifecycle) in specs {
        let dept = if unit == "HQ" { "GD-SEC".to_owned() } else { format!("{unit}-SEC") };
        let d = AssetDraft {
            asset_type: ty.into(),
            identifier: identifier.into(),
            external_id: ext.into(),
            responsible_person: person.into(),
            lifecycle: lifecycle.into(),
            ..draft(name, unit, &dept)
        };
        ids.insert(name, create(store, &d).await.id);
    }
    let find = |filter: AssetFilter| async move {
        let found = store.list_assets(&filter).await.unwrap();
        let total = store.count_assets(&filter).await.unwrap();
        let names: BTreeSet<String> = found.into_iter().map(|a| a.name).collect();
        if filter.limit == 0 && filter.offset == 0 {
            assert_eq!(total, names.len() as i64, "count_assets agrees with list_assets for {filter:?}");
        }
        names
    };
    let set = |names: &[&str]| names.iter().map(|n| (*n).to_owned()).collect::<BTreeSet<String>>();
    let q = |text: &str| AssetFilter { query: Some(text.into()), ..AssetFilter::default() };

    assert_eq!(find(AssetFilter::default()).await.len(), 6);
    // Text: name, identifier, external id, responsible person; any case;
    // `_` and `%` are literal.
    assert_eq!(find(q("crm_")).await, set(&["crm_core"]), "'_' is not a wildcard");
    assert_eq!(find(q("CRM")).await, set(&["crm_core", "crmXcore"]));
    assert_eq!(find(q("100%")).await, set(&["edge firewall"]), "'%' is literal");
    assert_eq!(find(q("%")).await, set(&["edge firewall"]));
    assert_eq!(find(q("\\")).await, set(&[]));
    assert_eq!(find(q("10.0.0")).await, set(&["edge firewall"]), "by identifier");
    assert_eq!(find(q("js-web")).await, set(&["js portal"]), "by external id");
    assert_eq!(find(q("zhang")).await, set(&["crm_core", "js portal"]), "by responsible person");
    assert_eq!(find(q("李娜")).await, set(&["crmXcore"]));
    assert_eq!(find(q("  ")).await.len(), 6, "a blank query matches everything");
    // Type, lifecycle, units, together.
    let of_type = |t| AssetFilter { asset_type: Some(t), ..AssetFilter::default() };
    assert_eq!(find(of_type(AssetType::BusinessSystem)).await, set(&["crm_core", "crmXcore", "js mail"]));
    assert_eq!(find(of_type(AssetType::Terminal)).await, set(&[]));
    let live = AssetFilter { lifecycle: Some(Lifecycle::Live), ..AssetFilter::default() };
    assert_eq!(find(live.clone()).await, set(&["crm_core", "edge firewall", "js portal", "hq dns"]));
    let in_units = |ids: &[i64]| AssetFilter { org_units: Some(ids.to_vec()), ..AssetFilter::default() };
    assert_eq!(find(in_units(&[t.js.id])).await, set(&["js portal", "js mail"]));
    assert_eq!(find(in_units(&[])).await, set(&[]), "an empty scope sees nothing");
    let live_in_js = AssetFilter { org_units: Some(vec![t.js.id]), ..live.clone() };
    assert_eq!(find(live_in_js).await, set(&["js portal"]));
    let zhang_in_gd = AssetFilter { org_units: Some(vec![t.gd.id]), ..q("zhang") };
    assert_eq!(find(zhang_in_gd).await, set(&["crm_core"]));
    // Domain membership.
    let alice = actor("alice");
    let dmz = store.create_domain(&alice, t.gd.id, "DMZ", ZoneKind::Dmz, "").await.unwrap();
    store.set_asset_domains(&alice, ids["edge firewall"], &[dmz.id]).await.unwrap();
    store.set_asset_domains(&alice, ids["crm_core"], &[dmz.id]).await.unwrap();
    let in_dmz = AssetFilter { domain_id: Some(dmz.id), ..AssetFilter::default() };
    assert_eq!(find(in_dmz.clone()).await, set(&["crm_core", "edge firewall"]));
    assert_eq!(find(AssetFilter { asset_type: Some(AssetType::Device), ..in_dmz }).await, set(&["edge firewall"]));

    // Pages: ordered by name, limit and offset, total over all pages.
    let page = |limit, offset| async move {
        let filter = AssetFilter { limit, offset, ..AssetFilter::default() };
        let names: Vec<String> = store.list_assets(&filter).await.unwrap().into_iter().map(|a| a.name).collect();
        (names, store.count_assets(&filter).await.unwrap())
    };
    let (all, total) = page(0, 0).await;
    assert_eq!(total, 6);
    assert_eq!(all.iter().cloned().collect::<BTreeSet<_>>(), find(AssetFilter::default()).await);
    assert_eq!(page(2, 0).await, (all[0..2].to_vec(), 6));
    assert_eq!(page(2, 2).await, (all[2..4].to_vec(), 6));
    assert_eq!(page(4, 4).await, (all[4..6].to_vec(), 6));
    assert_eq!(page(2, 6).await, (Vec::new(), 6));
    assert_eq!(page(2, -5).await, (all[0..2].to_vec(), 6), "a negative offset starts at the top");

    // Per type, within units.
    let mut by_type = store.asset_counts_by_type(None).await.unwrap();
    by_type.sort();
    let mut want = vec![
        (AssetType::BusinessSystem, 3),
        (AssetType::Device, 1),
        (AssetType::Website, 1),
        (AssetType::DnsService, 1),
    ];
    want.sort();
    assert_eq!(by_type, want);
    let mut js_types = store.asset_counts_by_type(Some(&[t.js.id])).await.unwrap();
    js_types.sort();
    assert_eq!(js_types, [(AssetType::BusinessSystem, 1), (AssetType::Website, 1)]);
    assert!(store.asset_counts_by_type(Some(&[])).await.unwrap().is_empty());
}

fn row(line: usize, d: &AssetDraft, components: Vec<CheckedComponent>) -> ImportRow {
    ImportRow { line, asset: checked(d), components }
}

/// What a report says per row, by line.
fn actions(report: &ImportReport) -> Vec<(usize, ImportAction)> {
    report.rows.iter().map(|r| (r.line, r.action.clone())).collect()
}

fn errors(report: &ImportReport) -> Vec<(usize, &str)> {
    report.errors.iter().map(|e| (e.line, e.field.as_str())).collect()
}

async fn import_dry_run_then_real_run(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let t = tree(store).await;
    let existing_a = AssetDraft { external_id: "GD-A".into(), ..draft("系统甲", "GD", "GD-SEC") };
    let existing_b = AssetDraft { external_id: "GD-B".into(), ..draft("系统乙", "GD", "GD-SEC") };
    let a = create(store, &existing_a).await;
    let b = create(store, &existing_b).await;

    let new_c = AssetDraft { external_id: "GD-C".into(), ..draft("系统丙", &t.gd.id.to_string(), "GD-SEC") };
    let changed_a = AssetDraft { responsible_person: "李娜".into(), lifecycle: "live".into(), ..existing_a.clone() };
    // Going live through an import passes the same pre-launch gate.
    let gated = store.import_assets(&alice, &OrgScope::All, &[row(3, &changed_a, Vec::new())], true).await.unwrap();
    assert_eq!(gated.errors.iter().map(|e| (e.line, e.field.as_str())).collect::<Vec<_>>(), [(3, "lifecycle")]);
    let a_id = store
        .list_assets(&AssetFilter { query: Some(existing_a.external_id.clone()), ..AssetFilter::default() })
        .await
        .unwrap()[0]
        .id;
    store.clear_for_launch(&alice, a_id, "exception", "王总", "已完成等保测评").await.unwrap();
    let new_unnamed = draft("无编号系统", "JS", "JS-SEC");
    let batch = vec![
        row(2, &new_c, vec![component("nginx", NGINX_CPE)]),
        row(3, &changed_a, Vec::new()),
        row(4, &existing_b, Vec::new()),
        row(5, &new_unnamed, Vec::new()),
    ];
    let expected = vec![
        (2, ImportAction::Create),
        (3, ImportAction::Update { changed: vec!["responsible_person".into(), "lifecycle".into()] }),
        (4, ImportAction::Unchanged),
        (5, ImportAction::Create),
    ];

    // The dry run says what would happen and writes nothing.
    let all = AssetFilter::default();
    let (assets, audited) = (store.count_assets(&all).await.unwrap(), store.count_audit().await.unwrap());
    let dry = store.import_assets(&alice, &OrgScope::All, &batch, true).await.unwrap();
    assert!(dry.dry_run && dry.errors.is_empty(), "{dry:?}");
    assert_eq!((dry.created, dry.updated, dry.unchanged), (2, 1, 1));
    assert_eq!(actions(&dry), expected);
    assert_eq!(
        dry.rows.iter().map(|r| r.name.as_str()).collect::<Vec<_>>(),
        ["系统丙", "系统甲", "系统乙", "无编号系统"]
    );
    assert_eq!(store.count_assets(&all).await.unwrap(), assets, "a dry run creates nothing");
    assert_eq!(store.count_audit().await.unwrap(), audited, "a dry run audits nothing");
    assert_eq!(store.get_asset(a.id).await.unwrap(), a, "a dry run changes nothing");

    // The real run does it, one audit entry per created or updated asset.
    db.clock.advance(Duration::minutes(1));
    let real = store.import_assets(&alice, &OrgScope::All, &batch, false).await.unwrap();
    assert!(!real.dry_run && real.errors.is_empty(), "{real:?}");
    assert_eq!((real.created, real.updated, real.unchanged), (2, 1, 1));
    assert_eq!(actions(&real), expected);
    assert_eq!(store.count_assets(&all).await.unwrap(), assets + 2);
    assert_chain_intact(store, audited + 3).await;
    let a_now = store.get_asset(a.id).await.unwrap();
    assert_eq!((a_now.responsible_person.as_str(), a_now.lifecycle), ("李娜", Lifecycle::Live));
    assert_eq!(a_now.updated_at, db.now());
    assert_eq!(store.get_asset(b.id).await.unwrap(), b, "an unchanged row is not rewritten");
    let c = store.list_assets(&AssetFilter { query: Some("GD-C".into()), ..all.clone() }).await.unwrap();
    assert_eq!(c.len(), 1);
    let c = store.get_asset(c[0].id).await.unwrap();
    assert_eq!((c.org_unit_id, c.responsible_department_id), (t.gd.id, t.gd_sec.id));
    assert_eq!(c.components.iter().map(|x| x.cpe.as_str()).collect::<Vec<_>>(), [NGINX_CPE]);

    let entries = audit(store, AuditFilter { action: Some("asset.".into()), ..everything() }).await;
    let imported: Vec<(&str, &str)> = entries
        .iter()
        .filter(|e| e.action.starts_with("asset.import_"))
        .map(|e| (e.action.as_str(), e.object_id.as_str()))
        .collect();
    let (a_id, c_id) = (a.id.to_string(), c.id.to_string());
    assert_eq!(imported.len(), 3, "{imported:?}");
    assert!(imported.contains(&("asset.import_update", a_id.as_str())), "{imported:?}");
    assert!(imported.contains(&("asset.import_create", c_id.as_str())), "{imported:?}");
    let update = entries.iter().find(|e| e.action == "asset.import_update").unwrap();
    assert_eq!(update.before.as_ref().unwrap()["responsible_person"], "张伟");
    assert_eq!(update.after.as_ref().unwrap()["responsible_person"], "李娜");
    assert_eq!(update.org_unit_id, Some(t.gd.id));

    // Importing the same rows again (without inventories) changes nothing.
    let again: Vec<ImportRow> = batch[1..3].to_vec();
    let report = store.import_assets(&alice, &OrgScope::All, &again, false).await.unwrap();
    assert_eq!((report.created, report.updated, report.unchanged), (0, 0, 2));
    assert_chain_intact(store, audited + 3).await;

    // An inventory in an update row replaces the asset's inventory.
    let with_inventory = vec![row(7, &changed_a, vec![component("tomcat", ""), component("openjdk", "")])];
    let report = store.import_assets(&alice, &OrgScope::All, &with_inventory, false).await.unwrap();
    assert_eq!(actions(&report), [(7, ImportAction::Update { changed: vec!["components".into()] })]);
    let products: Vec<String> =
        store.get_asset(a.id).await.unwrap().components.into_iter().map(|c| c.product).collect();
    assert_eq!(products, ["tomcat", "openjdk"]);
    assert_chain_intact(store, audited + 4).await;
}

/// Runs a batch as a dry run and for real: both refuse it with the same
/// errors, and report no changes.
async fn refused(store: &Store, scope: &OrgScope, rows: &[ImportRow]) -> ImportReport {
    let dry = store.import_assets(&actor("alice"), scope, rows, true).await.unwrap();
    let real = store.import_assets(&actor("alice"), scope, rows, false).await.unwrap();
    assert!(!real.errors.is_empty(), "expected errors: {real:?}");
    assert_eq!(dry.errors, real.errors);
    assert_eq!((real.created, real.updated), (0, 0), "a refused batch reports no changes: {real:?}");
    real
}

async fn import_with_any_error_writes_nothing(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let t = tree(store).await;
    let js_asset = create(store, &AssetDraft { external_id: "JS-1".into(), ..draft("江苏系统", "JS", "JS-SEC") }).await;
    let gd_asset = create(store, &AssetDraft { external_id: "GD-1".into(), ..draft("广东系统", "GD", "GD-SEC") }).await;
    let good = |line: usize, ext: &str| {
        row(line, &AssetDraft { external_id: ext.into(), ..draft("新系统", "GD", "GD-SEC") }, Vec::new())
    };
    let all = AssetFilter::default();
    let snapshot = || async {
        (
            store.count_assets(&all).await.unwrap(),
            store.count_audit().await.unwrap(),
            store.get_asset(gd_asset.id).await.unwrap(),
        )
    };
    let before = snapshot().await;

    // One bad row (an unknown unit) among good ones.
    let renamed_gd = AssetDraft { external_id: "GD-1".into(), ..draft("广东系统（新名）", "GD", "GD-SEC") };
    let batch = vec![
        good(2, "N-1"),
        row(3, &renamed_gd, Vec::new()),
        row(4, &draft("坏行", "GD", "NO-SUCH-DEPT"), Vec::new()),
        good(5, "N-2"),
        row(6, &draft("另一坏行", "NOWHERE", "GD-SEC"), Vec::new()),
    ];
    let report = refused(store, &OrgScope::All, &batch).await;
    assert_eq!(errors(&report), [(4, "responsible_department"), (6, "org_unit")]);
    assert!(report.errors[0].message.contains("NO-SUCH-DEPT"), "{:?}", report.errors[0]);
    assert_eq!(snapshot().await, before, "nothing of a refused batch is written");

    // The same external id twice in one batch.
    let batch = vec![good(2, "DUP"), good(3, "OK"), good(4, "DUP")];
    let report = refused(store, &OrgScope::All, &batch).await;
    assert_eq!(errors(&report), [(4, "external_id")]);
    assert!(report.errors[0].message.contains("line 2"), "{:?}", report.errors[0]);
    assert_eq!(snapshot().await, before);

    // An external id that belongs to an asset outside the caller's scope.
    let guangdong = units(&[t.gd.id, t.gd_sec.id]);
    let takeover = AssetDraft { external_id: "JS-1".into(), ..draft("夺取", "GD", "GD-SEC") };
    let batch = vec![good(2, "N-1"), row(3, &takeover, Vec::new())];
    let report = refused(store, &guangdong, &batch).await;
    assert_eq!(errors(&report), [(3, "external_id")]);
    assert!(report.errors[0].message.contains("scope"), "{:?}", report.errors[0]);
    assert_eq!(store.get_asset(js_asset.id).await.unwrap(), js_asset, "the outside asset is untouched");
    // And a unit outside the scope.
    let report = refused(store, &guangdong, &[row(9, &draft("江苏新系统", "JS", "JS-SEC"), Vec::new())]).await;
    assert_eq!(errors(&report), [(9, "org_unit")]);
    assert_eq!(snapshot().await, before);

    // The same rows, corrected, go in.
    let report = store.import_assets(&alice, &guangdong, &[good(2, "N-1"), good(3, "N-2")], false).await.unwrap();
    assert_eq!((report.created, report.errors.len()), (2, 0));
    assert_chain_intact(store, before.1 + 2).await;
}

async fn import_of_two_thousand_rows(db: TestDb) {
    const ROWS: usize = 2_000;
    let store = &db.store;
    let alice = actor("alice");
    tree(store).await;
    let audited = store.count_audit().await.unwrap();
    let rows: Vec<ImportRow> = (0..ROWS)
        .map(|i| {
            let d = AssetDraft {
                external_id: format!("T-{i:05}"),
                asset_type: "terminal".into(),
                identifier: format!("10.8.{}.{}", i / 250, i % 250),
                oncall_phone: if i % 2 == 0 { PHONE.into() } else { String::new() },
                ..draft(&format!("终端 {i:05}"), if i % 2 == 0 { "GD" } else { "JS" }, "GD-SEC")
            };
            let components = if i % 10 == 0 { vec![component("windows", "")] } else { Vec::new() };
            row(i + 2, &d, components)
        })
        .collect();
    let dry = store.import_assets(&alice, &OrgScope::All, &rows, true).await.unwrap();
    assert_eq!((dry.created, dry.errors.len()), (ROWS, 0));
    assert_eq!(store.count_audit().await.unwrap(), audited);
    let report = store.import_assets(&alice, &OrgScope::All, &rows, false).await.unwrap();
    assert_eq!((report.created, report.updated, report.unchanged), (ROWS, 0, 0));
    assert_eq!(store.count_assets(&AssetFilter::default()).await.unwrap(), ROWS as i64);
    assert_chain_intact(store, audited + ROWS as i64).await;

    // Again: every row is matched (across lookup chunks) and, inventory
    // included, found unchanged.
    let again = store.import_assets(&alice, &OrgScope::All, &rows, true).await.unwrap();
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, ROWS));
    let terminals = AssetFilter { asset_type: Some(AssetType::Terminal), ..AssetFilter::default() };
    assert_eq!(store.count_assets(&terminals).await.unwrap(), ROWS as i64);
    let last =
        store.list_assets(&AssetFilter { query: Some("T-01999".into()), ..AssetFilter::default() }).await.unwrap();
    assert_eq!(last.len(), 1);
    assert_eq!(last[0].identifier, "10.8.7.249");
}

async fn security_domains_and_boundaries(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let t = tree(store).await;
    let core = store.create_domain(&alice, t.gd.id, "核心生产区", ZoneKind::Core, "核心网元").await.unwrap();
    let entry = assert_audited(store, "alice", "domain.create", "security_domain", core.id).await;
    assert_eq!(entry.org_unit_id, Some(t.gd.id));
    assert_eq!(entry.after.as_ref().unwrap()["name"], "核心生产区");
    let dmz = store.create_domain(&alice, t.gd.id, " DMZ ", ZoneKind::Dmz, "").await.unwrap();
    assert_eq!(dmz.name, "DMZ");
    let js_office = store.create_domain(&alice, t.js.id, "DMZ", ZoneKind::Office, "").await.unwrap();
    assert_conflict(store.create_domain(&alice, t.gd.id, "DMZ", ZoneKind::Other, "").await);
    assert_invalid(store.create_domain(&alice, t.gd.id, "  ", ZoneKind::Other, "").await, "name");

    // Membership.
    let firewall =
        create(store, &AssetDraft { asset_type: "device".into(), ..draft("边界防火墙", "GD", "GD-SEC") }).await;
    let web = create(store, &draft("门户网站", "GD", "GD-SEC")).await;
    let audited = store.count_audit().await.unwrap();
    let set = store.set_asset_domains(&alice, firewall.id, &[dmz.id, core.id, dmz.id]).await.unwrap();
    let mut both = vec![core.id, dmz.id];
    both.sort_unstable();
    assert_eq!(set, both, "sorted, without repeats");
    assert_eq!(store.get_asset(firewall.id).await.unwrap().domain_ids, both);
    let entry = assert_audited(store, "alice", "asset.domains", "asset", firewall.id).await;
    assert_eq!(entry.before.as_ref().unwrap()["domain_ids"], serde_json::json!([]));
    assert_eq!(entry.after.as_ref().unwrap()["domain_ids"], serde_json::json!(both));
    store.set_asset_domains(&alice, firewall.id, &[core.id, dmz.id]).await.unwrap();
    assert_eq!(store.count_audit().await.unwrap(), audited + 1, "the same domains again record nothing");
    store.set_asset_domains(&alice, web.id, &[dmz.id]).await.unwrap();
    assert_invalid(store.set_asset_domains(&alice, web.id, &[dmz.id, 999_999]).await, "domain_ids");
    assert_not_found(store.set_asset_domains(&alice, 999_999, &[dmz.id]).await);
    let counts = |domains: Vec<anbao_store::SecurityDomain>| {
        domains.into_iter().map(|d| (d.name, d.asset_count)).collect::<std::collections::BTreeMap<_, _>>()
    };
    let gd_domains = counts(store.list_domains(Some(&[t.gd.id])).await.unwrap());
    assert_eq!(gd_domains, [("DMZ".to_owned(), 2), ("核心生产区".to_owned(), 1)].into());
    assert_eq!(store.list_domains(None).await.unwrap().len(), 3);
    assert!(store.list_domains(Some(&[])).await.unwrap().is_empty());

    // Boundaries.
    assert_invalid(store.create_boundary(&alice, core.id, core.id, None, "").await, "domain_b");
    assert_invalid(store.create_boundary(&alice, 999_999, core.id, None, "").await, "domain_a");
    assert_invalid(store.create_boundary(&alice, core.id, 999_999, None, "").await, "domain_b");
    assert_invalid(store.create_boundary(&alice, core.id, dmz.id, Some(999_999), "").await, "device_asset_id");
    let guarded = store.create_boundary(&alice, core.id, dmz.id, Some(firewall.id), "状态防火墙, IPS").await.unwrap();
    assert_eq!((guarded.domain_a, guarded.domain_b, guarded.device_asset_id), (core.id, dmz.id, Some(firewall.id)));
    let entry = assert_audited(store, "alice", "boundary.create", "boundary", guarded.id).await;
    assert_eq!(entry.org_unit_id, Some(t.gd.id));
    assert_eq!(entry.after.as_ref().unwrap()["device_asset_id"], firewall.id);
    let cross = store.create_boundary(&alice, dmz.id, js_office.id, None, "专线").await.unwrap();
    let open = store.create_boundary(&alice, core.id, js_office.id, None, "").await.unwrap();
    assert_eq!(store.list_boundaries().await.unwrap(), [guarded.clone(), cross.clone(), open.clone()]);
    store.delete_boundary(&alice, open.id).await.unwrap();
    assert_audited(store, "alice", "boundary.delete", "boundary", open.id).await;
    assert_not_found(store.delete_boundary(&alice, open.id).await);

    // A unit with assets or domains cannot be deleted.
    let branch = coded_unit(store, Some(t.gd.id), "佛山分公司", OrgKind::City, "FS").await;
    store.create_domain(&alice, branch.id, "办公区", ZoneKind::Office, "").await.unwrap();
    assert_conflict(store.delete_org_unit(&alice, branch.id).await);
    assert_conflict(store.delete_org_unit(&alice, t.gd_sec.id).await);
    let dept_only = coded_unit(store, Some(t.gd.id), "运维部", OrgKind::Department, "OPS").await;
    let owned = create(store, &draft("运维堡垒机", "OPS", "GD-SEC")).await;
    assert_conflict(store.delete_org_unit(&alice, dept_only.id).await);
    store.delete_asset(&alice, owned.id).await.unwrap();
    store.delete_org_unit(&alice, dept_only.id).await.unwrap();

    // Deleting the guarding device keeps the boundary, without a device.
    store.delete_asset(&alice, firewall.id).await.unwrap();
    let kept = store.list_boundaries().await.unwrap();
    assert_eq!(kept[0], anbao_store::Boundary { device_asset_id: None, ..guarded.clone() });

    // Deleting a domain removes its boundaries and memberships.
    store.delete_domain(&alice, dmz.id).await.unwrap();
    let entry = assert_audited(store, "alice", "domain.delete", "security_domain", dmz.id).await;
    assert_eq!(entry.before.as_ref().unwrap()["name"], "DMZ");
    assert_eq!(entry.org_unit_id, Some(t.gd.id));
    assert!(store.list_boundaries().await.unwrap().is_empty(), "both boundaries touched the DMZ");
    assert!(store.get_asset(web.id).await.unwrap().domain_ids.is_empty());
    let memberships = "SELECT COUNT(*) AS n FROM asset_domains WHERE domain_id = $1";
    assert_eq!(raw_count(&db, memberships, dmz.id).await, 0);
    assert_not_found(store.delete_domain(&alice, dmz.id).await);
    let entries = store.count_audit().await.unwrap();
    assert_chain_intact(store, entries).await;
}

async fn accountability_records(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let t = tree(store).await;
    assert_eq!(store.get_accountability(t.gd.id).await.unwrap(), None);
    let record = Accountability {
        org_unit_id: t.gd.id,
        leader_name: "陈总".into(),
        leader_title: "副总经理".into(),
        security_department_id: Some(t.gd_sec.id),
        staff: vec![
            StaffMember { name: "张伟".into(), post: "安全工程师".into(), certificate: "CISP".into() },
            StaffMember { name: "李娜".into(), post: "运维".into(), certificate: String::new() },
        ],
    };
    assert_eq!(store.set_accountability(&alice, &record).await.unwrap(), record);
    assert_eq!(store.get_accountability(t.gd.id).await.unwrap().as_ref(), Some(&record), "staff round-trips");
    let entry = assert_audited(store, "alice", "accountability.set", "org_unit", t.gd.id).await;
    assert_eq!(entry.org_unit_id, Some(t.gd.id));
    assert!(entry.before.is_none());
    assert_eq!(entry.after.as_ref().unwrap()["leader_name"], "陈总");
    assert_eq!(entry.after.as_ref().unwrap()["staff"][0]["certificate"], "CISP");

    // Replacing keeps one record per unit, the old one in the entry.
    let replaced = Accountability {
        leader_name: "周总".into(),
        security_department_id: None,
        staff: vec![StaffMember { name: "王芳".into(), post: "安全主管".into(), certificate: "CISSP".into() }],
        ..record.clone()
    };
    store.set_accountability(&alice, &replaced).await.unwrap();
    assert_eq!(store.get_accountability(t.gd.id).await.unwrap(), Some(replaced.clone()));
    let entry = assert_audited(store, "alice", "accountability.set", "org_unit", t.gd.id).await;
    assert_eq!(entry.before.as_ref().unwrap()["leader_name"], "陈总");
    assert_eq!(entry.before.as_ref().unwrap()["security_department_id"], t.gd_sec.id);
    assert_eq!(entry.after.as_ref().unwrap()["leader_name"], "周总");
    assert_eq!(entry.after.as_ref().unwrap()["security_department_id"], serde_json::Value::Null);
    let js = Accountability { org_unit_id: t.js.id, staff: Vec::new(), ..record.clone() };
    store.set_accountability(&alice, &js).await.unwrap();
    assert_eq!(store.list_accountability().await.unwrap(), [replaced.clone(), js.clone()]);

    // Refused records.
    let audited = store.count_audit().await.unwrap();
    let blank = Accountability { leader_name: " ".into(), ..record.clone() };
    assert_invalid(store.set_accountability(&alice, &blank).await, "leader_name");
    let nameless = Accountability {
        staff: vec![StaffMember { name: String::new(), post: "x".into(), certificate: String::new() }],
        ..record.clone()
    };
    assert_invalid(store.set_accountability(&alice, &nameless).await, "staff");
    let nowhere = Accountability { security_department_id: Some(999_999), ..record.clone() };
    assert_invalid(store.set_accountability(&alice, &nowhere).await, "security_department_id");
    assert_not_found(
        store.set_accountability(&alice, &Accountability { org_unit_id: 999_999, ..record.clone() }).await,
    );
    assert_eq!(store.count_audit().await.unwrap(), audited);
    assert_eq!(store.get_accountability(t.gd.id).await.unwrap(), Some(replaced));
    // A unit named by an accountability record cannot be deleted.
    assert_conflict(store.delete_org_unit(&alice, t.gd_sec.id).await);
    assert_chain_intact(store, audited).await;
}

async fn assets_affected_by_addresses_and_names(db: TestDb) {
    let store = &db.store;
    let t = tree(store).await;
    let gd = t.gd.id.to_string();
    let js = t.js.id.to_string();
    let network = create(
        store,
        &AssetDraft {
            asset_type: "network".into(),
            attributes: [("prefixes".to_owned(), "10.1.0.0/16, 2001:db8:100::/48".to_owned())].into(),
            ..draft("广东城域网", &gd, "GD-SEC")
        },
    )
    .await;
    let portal = create(
        store,
        &AssetDraft {
            identifier: "https://portal.example.cn/login".into(),
            criticality: "high".into(),
            ..draft("网上营业厅", &gd, "GD-SEC")
        },
    )
    .await;
    let dns = create(
        store,
        &AssetDraft {
            asset_type: "dns_service".into(),
            identifier: "ns1.example.cn".into(),
            attributes: [("addresses".to_owned(), "192.0.2.53 198.51.100.53".to_owned())].into(),
            ..draft("江苏递归DNS", &js, "JS-SEC")
        },
    )
    .await;

    let ids = |v: &[anbao_store::AffectedAsset]| v.iter().map(|a| a.id).collect::<Vec<_>>();
    let all = store.assets_affected_by(None, &["10.1.77.9"]).await.unwrap();
    assert_eq!(ids(&all), [network.id]);
    assert_eq!(all[0].matched, "10.1.77.9");
    assert_eq!(all[0].name, "广东城域网");
    assert_eq!(all[0].responsible_person, "张伟");
    // A service address, a subdomain of a URL's host, a group's prefixes.
    assert_eq!(ids(&store.assets_affected_by(None, &["198.51.100.53"]).await.unwrap()), [dns.id]);
    let shop = store.assets_affected_by(None, &["www.portal.example.cn"]).await.unwrap();
    assert_eq!(ids(&shop), [portal.id]);
    assert_eq!(shop[0].criticality.as_str(), "high");
    let group = store.assets_affected_by(None, &["10.0.0.0/8,192.0.2.0/24"]).await.unwrap();
    assert_eq!(ids(&group), [network.id, dns.id]);
    // Nothing of ours, unreadable targets, and other units' assets.
    assert!(store.assets_affected_by(None, &["203.0.113.1", "evil.example.net"]).await.unwrap().is_empty());
    assert!(store.assets_affected_by(None, &["", "not an address?"]).await.unwrap().is_empty());
    let gd_only = [t.gd.id];
    assert!(store.assets_affected_by(Some(&gd_only), &["192.0.2.53"]).await.unwrap().is_empty());
    assert_eq!(
        ids(&store.assets_affected_by(Some(&gd_only), &["10.1.0.1", "192.0.2.53"]).await.unwrap()),
        [network.id]
    );
    assert!(store.assets_affected_by(Some(&[]), &["10.1.0.1"]).await.unwrap().is_empty());
}
