//! First start (bootstrap) and the organisation-unit tree.

use anbao_model::{OrgKind, Role};
use anbao_store::{LoginOutcome, LoginPolicy, NewOrgUnit, OrgUnitPatch};

use crate::harness::*;

on_both_backends! {
    bootstrap_creates_root_and_admin => bootstrap_creates_root_and_admin_sqlite, bootstrap_creates_root_and_admin_postgres;
    org_unit_tree_rules => org_unit_tree_rules_sqlite, org_unit_tree_rules_postgres;
}

async fn bootstrap_creates_root_and_admin(db: TestDb) {
    let store = &db.store;
    let password = store.bootstrap("集团公司").await.unwrap().expect("an empty database is bootstrapped");

    let root = store.root_org_unit().await.unwrap().expect("bootstrap creates the root unit");
    assert_eq!((root.name.as_str(), root.kind, root.parent_id), ("集团公司", OrgKind::Group, None));
    let admin = store.get_user_by_username("admin").await.unwrap().expect("bootstrap creates admin");
    assert_eq!((admin.role, admin.org_unit_id), (Role::Admin, root.id));
    assert!(admin.must_change_password, "the generated password must be changed");
    assert!(!admin.disabled);

    let policy = LoginPolicy::default();
    match store.check_login("127.0.0.1", "admin", &password, &policy).await.unwrap() {
        LoginOutcome::Success(user) => {
            assert_eq!(user.id, admin.id);
            assert_eq!(user.last_login_at, Some(db.now()));
        }
        other => panic!("the generated password must log in, got {other:?}"),
    }
    assert_eq!(
        store.check_login("127.0.0.1", "admin", "not the generated one", &policy).await.unwrap(),
        LoginOutcome::Failed
    );

    let log = audit(store, everything()).await;
    let recorded: Vec<_> =
        log.iter().rev().map(|e| (e.actor.as_str(), e.action.as_str(), e.object_id.clone())).collect();
    assert_eq!(
        recorded[..2],
        [("system", "org_unit.create", root.id.to_string()), ("system", "user.create", admin.id.to_string())]
    );

    assert_eq!(store.bootstrap("集团公司").await.unwrap(), None, "a second bootstrap does nothing");
    assert_eq!(store.count_users().await.unwrap(), 1);
    assert_eq!(store.list_org_units().await.unwrap().len(), 1);
}

async fn org_unit_tree_rules(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let root = create_root(store).await;
    assert_audited(store, "alice", "org_unit.create", "org_unit", root.id).await;
    assert_invalid(store.create_org_unit(&alice, &new_unit(None, "第二集团", OrgKind::Group)).await, "parent_id");

    let guangdong = store
        .create_org_unit(
            &alice,
            &NewOrgUnit { code: " GD ".into(), ..new_unit(Some(root.id), "广东公司", OrgKind::Province) },
        )
        .await
        .unwrap();
    assert_eq!((guangdong.parent_id, guangdong.code.as_str()), (Some(root.id), "GD"));
    let security = create_unit(store, Some(guangdong.id), "网络安全部", OrgKind::Department).await;
    let jiangsu = create_unit(store, Some(root.id), "江苏公司", OrgKind::Province).await;
    assert_eq!(store.get_org_unit(security.id).await.unwrap(), security);
    assert_eq!(
        store.list_org_units().await.unwrap(),
        vec![root.clone(), guangdong.clone(), security.clone(), jiangsu.clone()]
    );

    // Names are unique among siblings only.
    assert_conflict(
        store.create_org_unit(&alice, &new_unit(Some(guangdong.id), "网络安全部", OrgKind::Department)).await,
    );
    let js_security = create_unit(store, Some(jiangsu.id), "网络安全部", OrgKind::Department).await;
    assert_invalid(
        store.create_org_unit(&alice, &new_unit(Some(9999), "无主部门", OrgKind::Department)).await,
        "parent_id",
    );
    assert_invalid(store.create_org_unit(&alice, &new_unit(Some(root.id), "  ", OrgKind::Department)).await, "name");

    // Moves: never under itself or its own subtree, never the root, never onto a sibling's name.
    let move_to = |p: i64| OrgUnitPatch { parent_id: Some(p), ..OrgUnitPatch::default() };
    assert_invalid(store.update_org_unit(&alice, guangdong.id, &move_to(security.id)).await, "parent_id");
    assert_invalid(store.update_org_unit(&alice, guangdong.id, &move_to(guangdong.id)).await, "parent_id");
    assert_invalid(store.update_org_unit(&alice, root.id, &move_to(jiangsu.id)).await, "parent_id");
    assert_invalid(store.update_org_unit(&alice, security.id, &move_to(9999)).await, "parent_id");
    assert_conflict(store.update_org_unit(&alice, security.id, &move_to(jiangsu.id)).await);
    let renamed =
        OrgUnitPatch { name: Some("信息安全部".into()), parent_id: Some(jiangsu.id), ..OrgUnitPatch::default() };
    let moved = store.update_org_unit(&alice, security.id, &renamed).await.unwrap();
    assert_eq!((moved.parent_id, moved.name.as_str()), (Some(jiangsu.id), "信息安全部"));
    assert_eq!(store.get_org_unit(security.id).await.unwrap(), moved);
    let entry = assert_audited(store, "alice", "org_unit.update", "org_unit", security.id).await;
    assert_eq!(entry.before.as_ref().unwrap()["name"], "网络安全部");
    assert_eq!(entry.after.as_ref().unwrap()["parent_id"], jiangsu.id);

    // Deletion only of empty units.
    assert_conflict(store.delete_org_unit(&alice, jiangsu.id).await);
    create_user(store, "zhang.wei", Role::Analyst, js_security.id).await;
    assert_conflict(store.delete_org_unit(&alice, js_security.id).await);
    assert_not_found(store.delete_org_unit(&alice, 9999).await);
    store.delete_org_unit(&alice, guangdong.id).await.expect("an empty unit can be deleted");
    assert_not_found(store.get_org_unit(guangdong.id).await);
    assert!(!store.list_org_units().await.unwrap().iter().any(|u| u.id == guangdong.id));
    let entry = assert_audited(store, "alice", "org_unit.delete", "org_unit", guangdong.id).await;
    assert_eq!(entry.before.as_ref().unwrap()["name"], "广东公司");
    assert_eq!(entry.after, None);
}
