//! User accounts and the login policy.

use anbao_model::{OrgKind, Role};
use anbao_store::{AuditFilter, LoginOutcome, LoginPolicy, NewUser, UserFilter, UserPatch};
use sqlx::{Connection, Row};
use time::Duration;

use crate::harness::*;

on_both_backends! {
    user_accounts => user_accounts_sqlite, user_accounts_postgres;
    last_active_admin_is_kept => last_active_admin_is_kept_sqlite, last_active_admin_is_kept_postgres;
    wrong_passwords_lock_the_account => wrong_passwords_lock_the_account_sqlite, wrong_passwords_lock_the_account_postgres;
    failures_per_address_are_throttled => failures_per_address_are_throttled_sqlite, failures_per_address_are_throttled_postgres;
    second_factor => second_factor_sqlite, second_factor_postgres;
    search_and_role_changes => search_and_role_changes_sqlite, search_and_role_changes_postgres;
}

/// Search takes the user's text literally, and leaving the regulator role
/// drops the grants that only regulators may hold.
async fn search_and_role_changes(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let province = create_unit(store, Some(root.id), "广东公司", OrgKind::Province).await;
    create_user(store, "ci_bot", Role::Analyst, root.id).await;
    create_user(store, "cixbot", Role::Analyst, root.id).await;
    let search = |q: &str| UserFilter { query: Some(q.into()), ..UserFilter::default() };
    let names = |users: Vec<anbao_store::User>| users.into_iter().map(|u| u.username).collect::<Vec<_>>();
    assert_eq!(names(store.list_users(&search("ci_bot")).await.unwrap()), ["ci_bot"]);
    assert_eq!(names(store.list_users(&search("CI_")).await.unwrap()), ["ci_bot"]);
    assert!(store.list_users(&search("ci%")).await.unwrap().is_empty());
    assert!(store.list_users(&search("\\")).await.unwrap().is_empty());

    let regulator = store
        .create_user(
            &actor("admin"),
            &NewUser { grants: vec![province.id], ..new_user("chen.jie", Role::Regulator, root.id) },
        )
        .await
        .unwrap();
    assert_eq!(regulator.grants, [province.id]);
    let patch = UserPatch { role: Some(Role::Auditor), ..UserPatch::default() };
    let auditor = store.update_user(&actor("admin"), regulator.id, &patch).await.unwrap();
    assert_eq!(auditor.role, Role::Auditor);
    assert!(auditor.grants.is_empty());
}

const PHONE: &str = "13800138000";
const EMAIL: &str = "zhang.wei@example.cn";

async fn user_accounts(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let root = create_root(store).await;
    let guangdong = create_unit(store, Some(root.id), "广东公司", OrgKind::Province).await;
    let jiangsu = create_unit(store, Some(root.id), "江苏公司", OrgKind::Province).await;

    let zhang = store
        .create_user(
            &alice,
            &NewUser {
                display_name: "张伟".into(),
                email: EMAIL.into(),
                phone: PHONE.into(),
                ..new_user("zhang.wei", Role::Analyst, guangdong.id)
            },
        )
        .await
        .unwrap();
    let entry = assert_audited(store, "alice", "user.create", "user", zhang.id).await;
    assert_eq!(entry.org_unit_id, Some(guangdong.id));

    // Contact data reads back in the clear, is sealed in the table and
    // never reaches the (unerasable) audit log.
    let read = store.get_user(zhang.id).await.unwrap();
    assert_eq!(read, zhang);
    assert_eq!((read.email.as_str(), read.phone.as_str(), read.display_name.as_str()), (EMAIL, PHONE, "张伟"));
    let mut conn = db.raw_connection().await;
    let row = sqlx::query("SELECT email_sealed, phone_sealed, password_hash FROM users WHERE id = $1")
        .bind(zhang.id)
        .fetch_one(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    for column in ["email_sealed", "phone_sealed", "password_hash"] {
        let stored: String = row.get(column);
        assert!(!stored.is_empty(), "{column} is empty");
        for secret in [PHONE, EMAIL, PASSWORD] {
            assert!(!stored.contains(secret), "{column} holds {secret:?} in the clear: {stored}");
        }
    }
    let entry_text = serde_json::to_string(&entry).unwrap();
    assert!(!entry_text.contains(PHONE) && !entry_text.contains(EMAIL), "audit entry holds contact data: {entry_text}");

    // Rejected accounts.
    assert_conflict(store.create_user(&alice, &new_user("zhang.wei", Role::Responder, jiangsu.id)).await);
    for weak in ["short", "li.na-is-my-password", "Administrator"] {
        let user = NewUser { password: weak.into(), ..new_user("li.na", Role::Analyst, guangdong.id) };
        assert_invalid(store.create_user(&alice, &user).await, "password");
    }
    assert_invalid(store.create_user(&alice, &new_user("Li Na", Role::Analyst, guangdong.id)).await, "username");
    let granted = |role| NewUser { grants: vec![jiangsu.id, guangdong.id], ..new_user("miit", role, root.id) };
    assert_invalid(store.create_user(&alice, &granted(Role::Auditor)).await, "grants");
    assert_eq!(store.get_user_by_username("li.na").await.unwrap(), None);

    let regulator = store.create_user(&alice, &granted(Role::Regulator)).await.unwrap();
    let mut sorted = vec![guangdong.id, jiangsu.id];
    sorted.sort_unstable();
    assert_eq!(regulator.grants, sorted);
    assert_eq!(store.get_user(regulator.id).await.unwrap().grants, sorted);

    let li = store
        .create_user(
            &alice,
            &NewUser { display_name: "李娜".into(), ..new_user("li.na", Role::Responder, guangdong.id) },
        )
        .await
        .unwrap();
    let wang = create_user(store, "wang.fang", Role::Analyst, jiangsu.id).await;

    // Listing by scope, text, role and page.
    let list = |filter: UserFilter| async move {
        let users = store.list_users(&UserFilter { limit: 100, ..filter }).await.unwrap();
        users.into_iter().map(|u| u.username).collect::<Vec<_>>()
    };
    let in_units = |ids: &[i64]| Some(ids.to_vec());
    assert_eq!(
        list(UserFilter { org_units: in_units(&[guangdong.id]), ..UserFilter::default() }).await,
        ["li.na", "zhang.wei"]
    );
    assert_eq!(list(UserFilter { org_units: in_units(&[]), ..UserFilter::default() }).await, Vec::<String>::new());
    assert_eq!(list(UserFilter { query: Some("ZHANG".into()), ..UserFilter::default() }).await, ["zhang.wei"]);
    assert_eq!(list(UserFilter { query: Some("李".into()), ..UserFilter::default() }).await, ["li.na"]);
    let zhang_in_jiangsu =
        UserFilter { org_units: in_units(&[jiangsu.id]), query: Some("zhang".into()), ..UserFilter::default() };
    assert_eq!(list(zhang_in_jiangsu.clone()).await, Vec::<String>::new());
    assert_eq!(
        list(UserFilter { role: Some(Role::Analyst), ..UserFilter::default() }).await,
        ["wang.fang", "zhang.wei"]
    );
    let page = store.list_users(&UserFilter { limit: 2, offset: 1, ..UserFilter::default() }).await.unwrap();
    assert_eq!(page.iter().map(|u| u.username.as_str()).collect::<Vec<_>>(), ["miit", "wang.fang"]);
    let listed = list(UserFilter::default()).await;
    assert_eq!(listed, ["li.na", "miit", "wang.fang", "zhang.wei"]);
    let listed_zhang = store
        .list_users(&UserFilter { query: Some("zhang".into()), limit: 10, ..UserFilter::default() })
        .await
        .unwrap();
    assert_eq!(listed_zhang, vec![zhang.clone()], "list_users returns the decrypted user");

    // Changes.
    let patch = UserPatch {
        role: Some(Role::Responder),
        org_unit_id: Some(jiangsu.id),
        disabled: Some(true),
        ..UserPatch::default()
    };
    let changed = store.update_user(&alice, zhang.id, &patch).await.unwrap();
    assert_eq!((changed.role, changed.org_unit_id, changed.disabled), (Role::Responder, jiangsu.id, true));
    assert_eq!(store.get_user(zhang.id).await.unwrap(), changed);
    assert_eq!(list(zhang_in_jiangsu).await, ["zhang.wei"]);
    let entry = assert_audited(store, "alice", "user.update", "user", zhang.id).await;
    assert_eq!(entry.before.as_ref().unwrap()["role"], "analyst");
    assert_eq!(entry.after.as_ref().unwrap()["role"], "responder");
    assert_eq!(entry.after.as_ref().unwrap()["disabled"], true);

    let new_phone = UserPatch { phone: Some("13900139000".into()), ..UserPatch::default() };
    assert_eq!(store.update_user(&alice, li.id, &new_phone).await.unwrap().phone, "13900139000");
    let entry = assert_audited(store, "alice", "user.update", "user", li.id).await;
    assert!(!serde_json::to_string(&entry).unwrap().contains("13900139000"));
    assert_eq!(entry.after.as_ref().unwrap()["contact_changed"], true);

    let grants_for_analyst = UserPatch { grants: Some(vec![root.id]), ..UserPatch::default() };
    assert_invalid(store.update_user(&alice, wang.id, &grants_for_analyst).await, "grants");
    let to_nowhere = UserPatch { org_unit_id: Some(9999), ..UserPatch::default() };
    assert_invalid(store.update_user(&alice, wang.id, &to_nowhere).await, "org_unit_id");
    assert_not_found(store.update_user(&alice, 9999, &UserPatch::default()).await);
    let narrower = UserPatch { grants: Some(vec![jiangsu.id]), ..UserPatch::default() };
    assert_eq!(store.update_user(&alice, regulator.id, &narrower).await.unwrap().grants, [jiangsu.id]);
    assert_eq!(store.get_user(regulator.id).await.unwrap().grants, [jiangsu.id]);

    // A user cannot demote or disable themselves.
    let wang_himself = anbao_store::Actor { user_id: Some(wang.id), ..actor("wang.fang") };
    let disable = UserPatch { disabled: Some(true), ..UserPatch::default() };
    assert_invalid(store.update_user(&wang_himself, wang.id, &disable).await, "role");

    let user_changes = audit(store, AuditFilter { action: Some("user.".into()), ..everything() }).await;
    assert_eq!(user_changes.len(), 7, "4 creations and 3 updates: {user_changes:#?}");
}

async fn last_active_admin_is_kept(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let root = create_root(store).await;
    let first = create_user(store, "ops.admin", Role::Admin, root.id).await;
    let demote = UserPatch { role: Some(Role::Analyst), ..UserPatch::default() };
    let disable = UserPatch { disabled: Some(true), ..UserPatch::default() };
    let audited = store.count_audit().await.unwrap();
    assert_conflict(store.update_user(&alice, first.id, &demote).await);
    assert_conflict(store.update_user(&alice, first.id, &disable).await);
    assert_eq!(store.get_user(first.id).await.unwrap(), first, "a refused change changes nothing");
    assert_eq!(store.count_audit().await.unwrap(), audited, "a refused change is not audited as made");

    // A disabled second administrator does not count.
    let second = create_user(store, "backup.admin", Role::Admin, root.id).await;
    store.update_user(&alice, second.id, &disable).await.expect("another active admin remains");
    assert_conflict(store.update_user(&alice, first.id, &demote).await);

    let enable = UserPatch { disabled: Some(false), ..UserPatch::default() };
    store.update_user(&alice, second.id, &enable).await.unwrap();
    let demoted = store.update_user(&alice, first.id, &demote).await.expect("no longer the last admin");
    assert_eq!(demoted.role, Role::Analyst);
    assert_conflict(store.update_user(&alice, second.id, &demote).await);
}

async fn wrong_passwords_lock_the_account(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    let zhang = create_user(store, "zhang.wei", Role::Analyst, root.id).await;
    let policy = LoginPolicy::default();
    let login = |password: &'static str| async move {
        store.check_login("198.51.100.7", "zhang.wei", password, &policy).await.unwrap()
    };

    for _ in 1..policy.max_failures {
        assert_eq!(login("wrong horse battery staple").await, LoginOutcome::Failed);
        assert_audited(store, "zhang.wei", "session.login_failed", "user", zhang.id).await;
    }
    let until = db.now() + Duration::minutes(15);
    assert_eq!(login("wrong horse battery staple").await, LoginOutcome::Locked { until });
    let locked = audit(store, AuditFilter { action: Some("user.locked".into()), ..everything() }).await;
    assert_eq!(locked.len(), 1);
    assert_eq!(
        (locked[0].object_id.as_str(), locked[0].source_ip.as_str()),
        (zhang.id.to_string().as_str(), "198.51.100.7")
    );
    assert_eq!(store.get_user(zhang.id).await.unwrap().locked_until, Some(until));

    assert_eq!(login(PASSWORD).await, LoginOutcome::Locked { until }, "the right password does not lift a lockout");
    db.clock.advance(Duration::minutes(14));
    assert_eq!(login(PASSWORD).await, LoginOutcome::Locked { until });
    db.clock.advance(Duration::minutes(2));
    match login(PASSWORD).await {
        LoginOutcome::Success(user) => {
            assert_eq!(user.id, zhang.id);
            assert_eq!(user.locked_until, None);
            assert_eq!(user.last_login_at, Some(db.now()));
        }
        other => panic!("the lockout is over, got {other:?}"),
    }
    assert_eq!(login("wrong horse battery staple").await, LoginOutcome::Failed, "success resets the failure count");

    assert_eq!(store.check_login("198.51.100.7", "nobody", PASSWORD, &policy).await.unwrap(), LoginOutcome::Failed);
    let entry = assert_audited(store, "nobody", "session.login_failed", "user", "").await;
    assert_eq!(entry.org_unit_id, None);

    // A disabled account does not log in, even with its password.
    store
        .update_user(&actor("alice"), zhang.id, &UserPatch { disabled: Some(true), ..UserPatch::default() })
        .await
        .unwrap();
    assert_eq!(login(PASSWORD).await, LoginOutcome::Failed);

    // An administrator's unlock clears a lockout early.
    let li = create_user(store, "li.na", Role::Analyst, root.id).await;
    for _ in 0..policy.max_failures {
        store.check_login("198.51.100.8", "li.na", "wrong horse battery staple", &policy).await.unwrap();
    }
    assert!(matches!(
        store.check_login("198.51.100.8", "li.na", PASSWORD, &policy).await.unwrap(),
        LoginOutcome::Locked { .. }
    ));
    store.update_user(&actor("alice"), li.id, &UserPatch { unlock: true, ..UserPatch::default() }).await.unwrap();
    assert!(matches!(
        store.check_login("198.51.100.8", "li.na", PASSWORD, &policy).await.unwrap(),
        LoginOutcome::Success(_)
    ));
}

async fn failures_per_address_are_throttled(db: TestDb) {
    let store = &db.store;
    let root = create_root(store).await;
    create_user(store, "zhang.wei", Role::Analyst, root.id).await;
    let policy = LoginPolicy {
        max_failures: 100,
        max_failures_per_ip: 3,
        window: Duration::minutes(10),
        ..LoginPolicy::default()
    };
    let login = |ip: &'static str, user: &'static str, password: &'static str| async move {
        store.check_login(ip, user, password, &policy).await.unwrap()
    };
    const ATTACKER: &str = "203.0.113.66";

    assert_eq!(login(ATTACKER, "zhang.wei", "wrong horse battery staple").await, LoginOutcome::Failed);
    assert_eq!(login(ATTACKER, "ghost", PASSWORD).await, LoginOutcome::Failed);
    assert_eq!(login(ATTACKER, "li.na", PASSWORD).await, LoginOutcome::Failed);
    let audited = store.count_audit().await.unwrap();
    assert_eq!(login(ATTACKER, "zhang.wei", PASSWORD).await, LoginOutcome::TooManyAttempts, "even the right password");
    assert_eq!(login(ATTACKER, "ghost", PASSWORD).await, LoginOutcome::TooManyAttempts);
    assert_eq!(store.count_audit().await.unwrap(), audited, "refused attempts do not grow the log");

    assert!(
        matches!(login("203.0.113.1", "zhang.wei", PASSWORD).await, LoginOutcome::Success(_)),
        "other addresses are not affected"
    );
    db.clock.advance(Duration::minutes(11));
    assert!(matches!(login(ATTACKER, "zhang.wei", PASSWORD).await, LoginOutcome::Success(_)), "the window has passed");
}

async fn second_factor(db: TestDb) {
    const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
    let store = &db.store;
    let root = create_root(store).await;
    let zhang = create_user(store, "zhang.wei", Role::Analyst, root.id).await;
    assert!(!zhang.totp_enabled);
    assert_eq!(store.totp_secret(zhang.id).await.unwrap(), None);

    store.set_totp(&actor("zhang.wei"), zhang.id, Some(SECRET)).await.unwrap();
    let entry = assert_audited(store, "zhang.wei", "user.totp_enabled", "user", zhang.id).await;
    assert!(!serde_json::to_string(&entry).unwrap().contains(SECRET), "the secret is not audited");
    assert!(store.get_user(zhang.id).await.unwrap().totp_enabled);
    assert_eq!(store.totp_secret(zhang.id).await.unwrap(), Some((SECRET.to_owned(), 0)));
    let mut conn = db.raw_connection().await;
    let sealed: String = sqlx::query("SELECT totp_sealed FROM users WHERE id = $1")
        .bind(zhang.id)
        .fetch_one(&mut conn)
        .await
        .unwrap()
        .get(0);
    conn.close().await.unwrap();
    assert!(!sealed.is_empty() && !sealed.contains(SECRET), "TOTP secret stored in the clear: {sealed}");

    // A code's time step is accepted once, and never an older one.
    assert!(store.consume_totp_step(zhang.id, 1000).await.unwrap());
    assert!(!store.consume_totp_step(zhang.id, 1000).await.unwrap(), "replayed");
    assert!(!store.consume_totp_step(zhang.id, 999).await.unwrap(), "older");
    assert!(store.consume_totp_step(zhang.id, 1001).await.unwrap());
    assert_eq!(store.totp_secret(zhang.id).await.unwrap(), Some((SECRET.to_owned(), 1001)));

    store.set_totp(&actor("alice"), zhang.id, None).await.unwrap();
    assert_audited(store, "alice", "user.totp_disabled", "user", zhang.id).await;
    assert!(!store.get_user(zhang.id).await.unwrap().totp_enabled);
    assert_eq!(store.totp_secret(zhang.id).await.unwrap(), None);
    assert_not_found(store.totp_secret(9999).await);
}
