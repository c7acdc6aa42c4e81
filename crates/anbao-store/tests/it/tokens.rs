//! API tokens for scripts.

use anbao_model::Role;
use anbao_store::NewToken;
use time::Duration;

use crate::harness::*;

on_both_backends! {
    api_tokens => api_tokens_sqlite, api_tokens_postgres;
}

async fn api_tokens(db: TestDb) {
    let store = &db.store;
    let alice = actor("alice");
    let root = create_root(store).await;
    let new_token =
        |name: &str| NewToken { name: name.into(), role: Role::Analyst, org_unit_id: root.id, expires_at: None };

    let (secret, token) = store.create_token(&alice, &new_token("ci-pipeline")).await.unwrap();
    assert!(secret.starts_with("anbao_"), "{secret}");
    assert!(
        secret.starts_with(&token.prefix) && token.prefix.len() > "anbao_".len(),
        "prefix {} of {secret}",
        token.prefix
    );
    assert_eq!((token.name.as_str(), token.role, token.created_by.as_str()), ("ci-pipeline", Role::Analyst, "alice"));
    assert_eq!((token.last_used_at, token.revoked_at, token.expires_at), (None, None, None));
    let entry = assert_audited(store, "alice", "token.create", "api_token", token.id).await;
    assert!(!serde_json::to_string(&entry).unwrap().contains(&secret), "the secret is not audited");

    let found = store.find_token(&secret).await.unwrap().expect("the token is live");
    assert_eq!(found.id, token.id);
    let listed = store.list_tokens().await.unwrap();
    assert_eq!(listed[0].last_used_at, Some(db.now()), "use is recorded");

    let forged = format!("anbao_{}", "0".repeat(64));
    let oversized = format!("{secret}{}", "0".repeat(200));
    for wrong in
        ["", "anbao_", &secret[..secret.len() - 1], &secret["anbao_".len()..], forged.as_str(), oversized.as_str()]
    {
        assert_eq!(store.find_token(wrong).await.unwrap(), None, "{wrong:?}");
    }

    let (expiring_secret, expiring) = store
        .create_token(&alice, &NewToken { expires_at: Some(db.now() + Duration::hours(1)), ..new_token("nightly") })
        .await
        .unwrap();
    db.clock.advance(Duration::minutes(59));
    assert!(store.find_token(&expiring_secret).await.unwrap().is_some(), "not expired yet");
    db.clock.advance(Duration::minutes(1));
    assert_eq!(store.find_token(&expiring_secret).await.unwrap(), None, "expired");

    let revoked = store.revoke_token(&actor("bob"), token.id).await.unwrap();
    assert_eq!(revoked.revoked_at, Some(db.now()));
    assert_audited(store, "bob", "token.revoke", "api_token", token.id).await;
    assert_eq!(store.find_token(&secret).await.unwrap(), None, "revoked");
    db.clock.advance(Duration::minutes(1));
    let again = store.revoke_token(&alice, token.id).await.unwrap();
    assert_eq!(again.revoked_at, revoked.revoked_at, "revoking twice keeps the first time");
    assert_not_found(store.revoke_token(&alice, 9999).await);
    assert_invalid(
        store.create_token(&alice, &NewToken { org_unit_id: 9999, ..new_token("orphan") }).await,
        "org_unit_id",
    );
    assert_invalid(store.create_token(&alice, &new_token(" ")).await, "name");

    // Listings and their JSON never carry a secret.
    let listed = store.list_tokens().await.unwrap();
    assert_eq!(listed.iter().map(|t| t.id).collect::<Vec<_>>(), [token.id, expiring.id]);
    let json = serde_json::to_string(&listed).unwrap();
    for s in [&secret, &expiring_secret] {
        assert!(!json.contains(&s["anbao_".len() + 6..]), "a token secret leaks into the listing: {json}");
    }
    assert!(json.contains(&token.prefix), "the prefix is there to tell tokens apart");
}
