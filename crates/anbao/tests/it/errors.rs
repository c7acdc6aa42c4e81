//! Exit status 2 with a message for errors: bad URLs, unreachable
//! databases, unknown names.

use std::time::Duration;

use crate::harness::{anbao, audit_verify, data_dir};

#[test]
fn an_unsupported_database_url_exits_2_with_a_message() {
    let dir = data_dir();
    let out = audit_verify(dir.path(), Some("mysql://x")).run().expect_code(2);
    out.expect_mentions(&["mysql://x", "postgres://"]);
}

#[test]
fn an_unreachable_postgres_exits_2_in_reasonable_time() {
    let dir = data_dir();
    let url = "postgres://postgres@127.0.0.1:1/x";
    let out = audit_verify(dir.path(), Some(url)).run().expect_code(2);
    out.expect_mentions(&["127.0.0.1:1"]);
    assert!(out.elapsed < Duration::from_secs(45), "took {:?}: {out}", out.elapsed);
    assert!(out.stdout.is_empty(), "{out}");
}

#[test]
fn resetting_the_password_of_an_unknown_user_exits_2_naming_it() {
    let dir = data_dir();
    let out = anbao(["user", "reset-password", "nobody"]).data_dir(dir.path()).run().expect_code(2);
    out.expect_mentions(&["nobody"]);
    assert!(out.stdout.is_empty(), "{out}");
}
