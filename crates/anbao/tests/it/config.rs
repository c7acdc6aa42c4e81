//! Configuration precedence and its errors: file < `ANBAO_*` environment <
//! flags, and every bad value is named.

use crate::harness::{anbao, data_dir, serve};

#[test]
fn anbao_listen_in_the_environment_is_used_by_serve() {
    let dir = data_dir();
    let server = anbao(["serve"]).data_dir(dir.path()).env("ANBAO_LISTEN", "127.0.0.1:0").start();
    assert!(server.url.starts_with("http://127.0.0.1:") && !server.url.ends_with(":0"), "{}", server.report());
    assert!(server.admin_password.is_some(), "first start creates the admin: {}", server.report());
    server.client().get("/healthz", crate::harness::Auth::None).expect(200);
}

#[test]
fn environment_wins_over_the_file_and_flags_win_over_the_environment() {
    let dir = data_dir();
    let config = dir.path().join("custom.toml");
    std::fs::write(&config, "listen = \"file-says:nowhere\"\n").expect("write config");

    let env_beats_file =
        anbao(["serve", "--config"]).arg(&config).data_dir(dir.path()).env("ANBAO_LISTEN", "127.0.0.1:0").start();
    drop(env_beats_file);

    serve().arg("--config").arg(&config).data_dir(dir.path()).env("ANBAO_LISTEN", "env-says:nowhere").start();

    let bad = anbao(["serve", "--config"])
        .arg(&config)
        .data_dir(dir.path())
        .env("ANBAO_LISTEN", "env-says:nowhere")
        .run()
        .expect_code(2);
    bad.expect_mentions(&["env-says:nowhere"]);
}

#[test]
fn a_malformed_number_in_the_environment_makes_serve_exit_2_naming_the_variable() {
    let dir = data_dir();
    let out = serve().data_dir(dir.path()).env("ANBAO_LOCKOUT_MINUTES", "soon").run().expect_code(2);
    out.expect_mentions(&["ANBAO_LOCKOUT_MINUTES", "soon"]);
}

#[test]
fn an_unknown_key_in_the_config_file_makes_serve_exit_2_naming_it() {
    let dir = data_dir();
    let config = dir.path().join("anbao.toml");
    std::fs::write(&config, "listen = \"127.0.0.1:0\"\ncolour = \"red\"\n").expect("write config");
    let out = serve().arg("--config").arg(&config).data_dir(dir.path()).run().expect_code(2);
    out.expect_mentions(&["colour"]);
}

#[test]
fn a_missing_explicit_config_file_is_an_error() {
    let dir = data_dir();
    let out = serve().arg("--config").arg(dir.path().join("absent.toml")).data_dir(dir.path()).run().expect_code(2);
    out.expect_mentions(&["absent.toml"]);
}
