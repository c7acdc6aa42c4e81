//! HTTPS from a certificate and key in the configuration (rustls): the
//! platform answers over TLS, marks its cookies Secure and sends HSTS.

use std::process::Command;

use crate::harness::{data_dir, serve};

#[test]
fn serve_speaks_tls_with_secure_cookies_and_hsts() {
    let dir = data_dir();
    let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    let made = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost", "-keyout"])
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("openssl must be installed (it is part of the base system)");
    assert!(made.status.success(), "openssl: {}", String::from_utf8_lossy(&made.stderr));
    let server = serve().data_dir(dir.path()).env("ANBAO_TLS_CERT", &cert).env("ANBAO_TLS_KEY", &key).start();
    assert!(server.url.starts_with("https://127.0.0.1:"), "{}", server.report());
    let out = Command::new("curl")
        .args(["--silent", "--show-error", "--include", "--cacert"])
        .arg(&cert)
        .arg("--resolve")
        .arg(format!("localhost:{}:127.0.0.1", server.url.rsplit(':').next().unwrap_or_default()))
        .arg(server.url.replace("127.0.0.1", "localhost") + "/login")
        .output()
        .expect("curl must be installed");
    let text = String::from_utf8_lossy(&out.stdout).to_lowercase();
    assert!(out.status.success(), "curl: {}", String::from_utf8_lossy(&out.stderr));
    assert!(text.starts_with("http/2 200") || text.starts_with("http/1.1 200"), "{text}");
    assert!(text.contains("strict-transport-security: max-age="), "HSTS: {text}");
    let cookie = text.lines().find(|l| l.starts_with("set-cookie: anbao_login=")).unwrap_or_default();
    assert!(cookie.contains("secure") && cookie.contains("httponly") && cookie.contains("samesite=strict"), "{cookie}");
}

#[test]
fn a_certificate_without_its_key_is_refused() {
    let dir = data_dir();
    let out = serve().data_dir(dir.path()).env("ANBAO_TLS_CERT", dir.path().join("cert.pem")).run().expect_code(2);
    out.expect_mentions(&["tls_cert", "tls_key"]);
}
