//! `anbao audit` on SQLite: an intact chain verifies, and tampering with
//! the database file behind the application's back is named.

use std::path::PathBuf;

use crate::harness::{TempDir, anbao, audit_verify, create_token, init_sqlite, json, sqlite};

/// A SQLite data directory whose audit log holds several entries: the
/// bootstrap (root unit, admin), a token and a password reset.
struct Audited {
    dir: TempDir,
}

impl Audited {
    fn new() -> Audited {
        let (dir, _password) = init_sqlite();
        create_token(dir.path(), None, "analyst", "ci-bot");
        let reset = anbao(["user", "reset-password", "admin"]).data_dir(dir.path()).run().ok();
        assert_eq!(reset.stdout.lines().count(), 1, "reset-password prints the new password alone: {reset}");
        Audited { dir }
    }

    fn db(&self) -> PathBuf {
        self.dir.path().join("anbao.db")
    }

    /// `audit verify --json [EXTRA]`, with the expected exit code; the JSON.
    fn verify_json(&self, extra: &[&str], code: i32) -> serde_json::Value {
        let mut cli = audit_verify(self.dir.path(), None).arg("--json");
        for e in extra {
            cli = cli.arg(e);
        }
        let out = cli.run().expect_code(code);
        let v = out.json();
        assert_eq!(v["intact"], code == 0, "{out}");
        v
    }
}

#[test]
fn verify_reports_an_intact_chain_as_text_and_json_and_export_lists_it() {
    let a = Audited::new();
    let text = audit_verify(a.dir.path(), None).run().ok();
    text.expect_mentions(&["intact"]);
    let v = a.verify_json(&[], 0);
    let head = v["head_seq"].as_i64().expect("head_seq");
    assert!(head >= 4, "bootstrap, token and reset should give at least 4 entries: {v}");
    assert_eq!(v["checked"].as_i64(), Some(head), "{v}");
    assert!(v["head_hash"].as_str().is_some_and(|h| h.len() == 64), "{v}");

    let export = anbao(["audit", "export"]).data_dir(a.dir.path()).run().ok();
    let seqs: Vec<i64> = export
        .stdout
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap_or_else(|e| panic!("{e}: {l}"))["seq"]
                .as_i64()
                .expect("seq")
        })
        .collect();
    assert_eq!(seqs, (1..=head).rev().collect::<Vec<_>>(), "export is every entry, newest first: {export}");
    let actions = export.stdout;
    for action in ["user.create", "token.create"] {
        assert!(actions.contains(action), "export lacks {action}: {actions}");
    }
}

#[test]
fn verify_names_an_entry_altered_in_the_database_file() {
    let a = Audited::new();
    a.verify_json(&[], 0);
    sqlite(&a.db(), "DROP TRIGGER audit_log_no_update; UPDATE audit_log SET actor='mallory' WHERE seq=2;");

    let out = audit_verify(a.dir.path(), None).run().expect_code(1);
    out.expect_mentions(&["entry 2", "altered"]);
    let v = a.verify_json(&[], 1);
    assert_eq!(v["first_break"], json!({"kind": "altered", "seq": 2}), "{v}");
    assert_eq!(v["checked"], 1, "{v}");
}

#[test]
fn verify_names_entries_deleted_from_the_middle() {
    let a = Audited::new();
    sqlite(&a.db(), "DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq=3;");

    let out = audit_verify(a.dir.path(), None).run().expect_code(1);
    out.expect_mentions(&["entry 3 was deleted"]);
    let v = a.verify_json(&[], 1);
    assert_eq!(v["first_break"], json!({"kind": "deleted", "prev": 2, "found": 4}), "{v}");
}

#[test]
fn an_anchor_from_an_earlier_verify_catches_a_truncated_tail() {
    let a = Audited::new();
    let before = a.verify_json(&[], 0);
    let head = before["head_seq"].as_i64().expect("head_seq");
    let anchor = format!("{head}:{}", before["head_hash"].as_str().expect("head_hash"));
    a.verify_json(&["--anchor", &anchor], 0);
    let bad = audit_verify(a.dir.path(), None).arg("--anchor").arg("yesterday").run().expect_code(2);
    bad.expect_mentions(&["--anchor"]);

    sqlite(&a.db(), &format!("DROP TRIGGER audit_log_no_delete; DELETE FROM audit_log WHERE seq={head};"));

    // Without the anchor a shorter chain looks whole: that is what anchors are for.
    let unanchored = a.verify_json(&[], 0);
    assert_eq!(unanchored["head_seq"].as_i64(), Some(head - 1), "{unanchored}");
    let out = audit_verify(a.dir.path(), None).arg("--anchor").arg(&anchor).run().expect_code(1);
    out.expect_mentions(&["anchor", &head.to_string()]);
    a.verify_json(&["--anchor", &anchor], 1);
}
