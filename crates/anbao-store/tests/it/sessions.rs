//! Browser sessions: lookup, timeouts and the ways a session ends.

use anbao_model::Role;
use anbao_store::{SessionPolicy, UserPatch};
use time::Duration;

use crate::harness::*;

on_both_backends! {
    sessions_are_found_and_deleted => sessions_are_found_and_deleted_sqlite, sessions_are_found_and_deleted_postgres;
    sessions_time_out => sessions_time_out_sqlite, sessions_time_out_postgres;
    sessions_end_with_the_account => sessions_end_with_the_account_sqlite, sessions_end_with_the_account_postgres;
}

const POLICY: SessionPolicy = SessionPolicy { idle: Duration::minutes(30), absolute: Duration::hours(12) };

/// A store with one user; returns the user's id.
async fn with_user(db: &TestDb, username: &str) -> i64 {
    let root = match db.store.root_org_unit().await.unwrap() {
        Some(root) => root,
        None => create_root(&db.store).await,
    };
    create_user(&db.store, username, Role::Analyst, root.id).await.id
}

async fn sessions_are_found_and_deleted(db: TestDb) {
    let store = &db.store;
    let user = with_user(&db, "zhang.wei").await;
    let (cookie, session) = store.create_session(user, true, "192.0.2.10", "Mozilla/5.0", &POLICY).await.unwrap();
    assert_eq!(cookie.len(), 64);
    assert!(cookie.bytes().all(|b| b.is_ascii_hexdigit()));
    assert_eq!((session.user_id, session.mfa_pending, session.created_at), (user, true, db.now()));
    assert_eq!(store.find_session(&cookie, &POLICY).await.unwrap(), Some(session.clone()));

    store.complete_mfa(&cookie).await.unwrap();
    let found = store.find_session(&cookie, &POLICY).await.unwrap().expect("session is live");
    assert!(!found.mfa_pending);
    assert_eq!(found.csrf_token, session.csrf_token);

    let (other, _) = store.create_session(user, false, "192.0.2.10", "curl", &POLICY).await.unwrap();
    assert_ne!(other, cookie);

    let unknown = "0".repeat(64);
    let not_hex = "z".repeat(64);
    let upper = cookie.to_uppercase();
    let too_long = format!("{cookie}00");
    for garbage in [
        "",
        "nonsense",
        "' OR 1=1 --",
        unknown.as_str(),
        not_hex.as_str(),
        upper.as_str(),
        too_long.as_str(),
        &cookie[..63],
    ] {
        assert_eq!(store.find_session(garbage, &POLICY).await.unwrap(), None, "cookie {garbage:?}");
    }

    store.delete_session(&cookie).await.unwrap();
    assert_eq!(store.find_session(&cookie, &POLICY).await.unwrap(), None);
    assert!(store.find_session(&other, &POLICY).await.unwrap().is_some(), "logging out ends only that session");
    store.delete_session(&cookie).await.expect("deleting twice is harmless");
}

async fn sessions_time_out(db: TestDb) {
    let store = &db.store;
    let user = with_user(&db, "zhang.wei").await;

    // Idle: each use pushes the idle deadline back.
    let (cookie, _) = store.create_session(user, false, "", "", &POLICY).await.unwrap();
    db.clock.advance(Duration::minutes(29));
    let touched = store.find_session(&cookie, &POLICY).await.unwrap().expect("used within the idle timeout");
    assert_eq!(touched.user_id, user);
    db.clock.advance(Duration::minutes(29));
    assert!(store.find_session(&cookie, &POLICY).await.unwrap().is_some(), "the last use restarted the idle timeout");
    db.clock.advance(Duration::minutes(31));
    assert_eq!(store.find_session(&cookie, &POLICY).await.unwrap(), None);
    db.clock.advance(-Duration::minutes(31));
    assert_eq!(store.find_session(&cookie, &POLICY).await.unwrap(), None, "an expired session is gone for good");

    // Absolute: ends 12 hours after login however busy it is.
    let (cookie, session) = store.create_session(user, false, "", "", &POLICY).await.unwrap();
    while db.now() + Duration::minutes(20) < session.created_at + POLICY.absolute {
        db.clock.advance(Duration::minutes(20));
        assert!(
            store.find_session(&cookie, &POLICY).await.unwrap().is_some(),
            "busy session ended early at {}",
            db.now()
        );
    }
    db.clock.advance(Duration::minutes(20));
    assert_eq!(db.now() - session.created_at, POLICY.absolute);
    assert_eq!(store.find_session(&cookie, &POLICY).await.unwrap(), None);

    // The server's purge removes what has expired and keeps the rest.
    let (fresh, _) = store.create_session(user, false, "", "", &POLICY).await.unwrap();
    let (stale, _) = store
        .create_session(user, false, "", "", &SessionPolicy { absolute: Duration::minutes(5), ..POLICY })
        .await
        .unwrap();
    db.clock.advance(Duration::minutes(6));
    assert_eq!(store.purge_sessions().await.unwrap(), 1);
    assert!(store.find_session(&fresh, &POLICY).await.unwrap().is_some());
    assert_eq!(store.find_session(&stale, &POLICY).await.unwrap(), None);
}

async fn sessions_end_with_the_account(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let zhang = with_user(&db, "zhang.wei").await;
    let li = with_user(&db, "li.na").await;
    let wang = with_user(&db, "wang.fang").await;
    let new_session = |user: i64| async move { store.create_session(user, false, "", "", &POLICY).await.unwrap().0 };
    let live = |cookie: String| async move { store.find_session(&cookie, &POLICY).await.unwrap().is_some() };

    let zhang_cookie = new_session(zhang).await;
    store.update_user(&alice, zhang, &UserPatch { disabled: Some(true), ..UserPatch::default() }).await.unwrap();
    assert!(!live(zhang_cookie).await, "disabling an account ends its sessions");

    // Even if the account is disabled behind the store's back.
    let li_cookie = new_session(li).await;
    store.execute_raw(&format!("UPDATE users SET disabled = 1 WHERE id = {li}")).await.unwrap();
    assert!(!live(li_cookie.clone()).await);
    store.execute_raw(&format!("UPDATE users SET disabled = 0 WHERE id = {li}")).await.unwrap();
    assert!(!live(li_cookie).await, "the session was removed, not just hidden");

    let wang_cookie = new_session(wang).await;
    store.update_user(&alice, wang, &UserPatch { role: Some(Role::Responder), ..UserPatch::default() }).await.unwrap();
    assert!(!live(wang_cookie).await, "a role change ends the sessions");
    let wang_cookie = new_session(wang).await;
    store.set_password(&alice, wang, "a new correct horse battery", false).await.unwrap();
    assert!(!live(wang_cookie).await, "a new password ends the sessions");
    assert_audited(store, "alice", "user.password_set", "user", wang).await;
}
