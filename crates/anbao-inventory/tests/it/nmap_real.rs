//! A real nmap run against listeners on 127.0.0.1. nmap must be installed
//! (CI installs it); this test fails, never skips, when it is not.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::process::Command;
use std::time::Duration;

use anbao_inventory::{AssetDefaults, parse_nmap_xml};
use anbao_model::asset::ComponentDraft;

/// Serves a minimal HTTP/1.0 response with the given `Server` header to
/// whoever sends a request, to at most 200 connections; a connection that
/// sends nothing (nmap's NULL probe) gets no banner. Returns the port.
fn http_listener(server: &'static str) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(200) {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(15)));
                let mut buf = [0u8; 4096];
                if let Ok(n) = stream.read(&mut buf)
                    && n > 0
                {
                    let body = "<html>anbao</html>\r\n";
                    let response = format!(
                        "HTTP/1.0 200 OK\r\nServer: {server}\r\nContent-Type: text/html\r\nContent-Length: {}\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = stream.write_all(response.as_bytes());
                }
            });
        }
    });
    port
}

#[test]
fn nmap_scan_of_local_listeners() {
    match Command::new("nmap").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!("`nmap --version` failed ({}); install nmap: apt-get install -y nmap", out.status),
        Err(e) => panic!(
            "nmap is not installed ({e}): install it with `apt-get install -y nmap` (CI installs it); this test does \
             not skip"
        ),
    }
    let test_port = http_listener("anbao-test/1.0");
    let nginx_port = http_listener("nginx/1.24.0 (Ubuntu)");
    let ports = format!("{test_port},{nginx_port}");
    let out = Command::new("nmap")
        .args(["-sT", "-sV", "-Pn", "-p", &ports, "--host-timeout", "60s", "-oX", "-", "127.0.0.1"])
        .output()
        .unwrap();
    assert!(out.status.success(), "nmap failed: {}", String::from_utf8_lossy(&out.stderr));

    let scan = parse_nmap_xml(&out.stdout)
        .unwrap_or_else(|e| panic!("parsing nmap's output: {e}\n{}", String::from_utf8_lossy(&out.stdout)));
    assert_eq!(scan.hosts.len(), 1, "{scan:#?}");
    let host = &scan.hosts[0];
    assert_eq!(host.status, "up");
    assert_eq!(host.first_ip(), Some("127.0.0.1"));
    let port = |p: u16| host.ports.iter().find(|x| x.port == p).unwrap_or_else(|| panic!("port {p} in {host:#?}"));
    let test = port(test_port);
    assert_eq!((test.protocol.as_str(), test.state.as_str()), ("tcp", "open"));
    let nginx = port(nginx_port);
    assert_eq!((nginx.state.as_str(), nginx.service.as_str()), ("open", "http"));
    assert_eq!((nginx.product.as_str(), nginx.version.as_str()), ("nginx", "1.24.0"));
    assert!(nginx.cpes.iter().any(|c| c == "cpe:/a:igor_sysoev:nginx:1.24.0"), "{:?}", nginx.cpes);

    let defaults = AssetDefaults {
        org_unit: "GD".into(),
        responsible_department: "GD-NOC".into(),
        responsible_person: "王芳".into(),
        ..AssetDefaults::default()
    };
    let import = scan.to_import(&defaults);
    assert_eq!(import.errors, []);
    let row = &import.rows[0];
    assert_eq!((row.draft.identifier.as_str(), row.draft.asset_type.as_str()), ("127.0.0.1", "device"));
    let nginx_line = row.components.iter().find(|c| c.product == "nginx").unwrap();
    assert_eq!(
        nginx_line,
        &ComponentDraft {
            kind: "service".into(),
            vendor: "igor_sysoev".into(),
            product: "nginx".into(),
            version: "1.24.0".into(),
            cpe: "cpe:2.3:a:igor_sysoev:nginx:1.24.0:*:*:*:*:*:*:*".into(),
            ..ComponentDraft::default()
        }
    );
}
