use anbao_inventory::{AssetDefaults, parse_nmap_xml};

use crate::test_data;

/// `test_data/nmap_localhost.xml` is real `nmap -sT -sV -Pn -oX -` output
/// for two local listeners: one answering `Server: anbao-test/1.0` (which
/// nmap cannot name), one `Server: nginx/1.24.0 (Ubuntu)`.
#[test]
fn captured_nmap_report() {
    let scan = parse_nmap_xml(&test_data("nmap_localhost.xml")).unwrap();
    assert_eq!(scan.version, "7.93");
    assert!(scan.args.contains("--host-timeout 60s"), "{}", scan.args);
    assert_eq!(scan.hosts.len(), 1);
    let host = &scan.hosts[0];
    assert_eq!(host.status, "up");
    assert_eq!(host.first_ip(), Some("127.0.0.1"));
    assert_eq!(host.hostnames[0].name, "localhost");
    let ports: Vec<(u16, &str, &str, &str, &str)> = host
        .ports
        .iter()
        .map(|p| (p.port, p.state.as_str(), p.service.as_str(), p.product.as_str(), p.version.as_str()))
        .collect();
    assert_eq!(ports, [(43251, "open", "http", "nginx", "1.24.0"), (54981, "open", "unknown", "", "")]);
    assert_eq!(host.ports[0].extrainfo, "Ubuntu");
    assert_eq!(host.ports[0].cpes, ["cpe:/a:igor_sysoev:nginx:1.24.0", "cpe:/o:linux:linux_kernel"]);

    let defaults = AssetDefaults {
        org_unit: "GD".into(),
        responsible_department: "GD-NOC".into(),
        responsible_person: "王芳".into(),
        ..AssetDefaults::default()
    };
    let (draft, components) = host.to_asset(&defaults);
    assert_eq!(
        (draft.name.as_str(), draft.identifier.as_str(), draft.asset_type.as_str()),
        ("localhost", "127.0.0.1", "device")
    );
    assert_eq!(components.len(), 1);
    assert_eq!(components[0].cpe, "cpe:2.3:a:igor_sysoev:nginx:1.24.0:*:*:*:*:*:*:*");
    assert_eq!(components[0].vendor, "igor_sysoev");
    let import = scan.to_import(&defaults);
    assert_eq!(import.errors, []);
    assert_eq!(import.rows.len(), 1);
}
