//! `anbao init`: the commented configuration file, the database and the
//! first administrator.

use crate::harness::{Auth, anbao, data_dir, serve};

/// The settings an operator cannot run without; the file must carry them.
const CORE_SETTINGS: &[&str] = &["listen", "data_dir", "database", "secrets_file", "log_level", "lockout_minutes"];

#[test]
fn init_writes_a_commented_config_and_the_database_and_prints_the_admin_password() {
    let dir = data_dir();
    let out = anbao(["init"]).data_dir(dir.path()).run().ok();
    let password = out.admin_password().unwrap_or_else(|| panic!("no admin password printed: {out}"));
    assert!(password.len() >= 12, "admin password {password:?} is too short");
    assert!(dir.path().join("anbao.db").is_file(), "no anbao.db: {out}");

    let config = std::fs::read_to_string(dir.path().join("anbao.toml")).expect("init should write DIR/anbao.toml");
    let lines: Vec<&str> = config.lines().collect();
    let mut keys = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let (key, _) =
            line.split_once('=').unwrap_or_else(|| panic!("line {} is neither comment nor setting: {line:?}", i + 1));
        let key = key.trim();
        let comment_above =
            i > 0 && lines[i - 1].starts_with('#') && lines[i - 1].trim_start_matches('#').trim().len() > 3;
        assert!(comment_above, "setting {key} has no comment above it:\n{config}");
        keys.push(key);
    }
    for core in CORE_SETTINGS {
        assert!(keys.contains(core), "anbao.toml lacks {core}:\n{config}");
    }

    // A second init must not overwrite the file, and says why.
    let again = anbao(["init"]).data_dir(dir.path()).run().expect_code(2);
    again.expect_mentions(&["anbao.toml", "--force"]);
    assert_eq!(std::fs::read_to_string(dir.path().join("anbao.toml")).expect("read"), config, "the file changed");

    // --force rewrites it but keeps the existing administrator.
    let forced = anbao(["init", "--force"]).data_dir(dir.path()).run().ok();
    assert_eq!(forced.admin_password(), None, "a second administrator was created: {forced}");

    // The written file loads: serve takes everything (data dir included) from it,
    // and the printed password logs in.
    let server = serve().arg("--config").arg(dir.path().join("anbao.toml")).start();
    assert_eq!(server.admin_password, None, "serve created another administrator: {}", server.report());
    let client = server.client();
    let session = client.login("admin", &password);
    let me = client.get("/api/v1/me", Auth::Session { cookie: &session, csrf: None }).expect(200).json();
    assert_eq!(me["name"], "admin");
    assert_eq!(me["role"], "admin");
    assert_eq!(server.stop(), Some(0), "serve should exit 0 on SIGTERM");
}
