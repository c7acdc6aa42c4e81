//! Bulk asset import and export over HTTP: GBK spreadsheets with Chinese
//! headers, dry runs that write nothing, all-or-nothing commits with errors
//! by line and field, nmap reports, and exports that import back unchanged.

use anbao_model::{OrgKind, Role};
use axum::http::StatusCode;
use serde_json::Value;

use crate::harness::{App, Req};

const CSV: &str = "资产编号,资产名称,资产类型,地址,所属单位,责任部门,责任人,值班电话\n\
                   GD-001,门户网站,website,https://www.gd.example.cn,GD,GD-SEC,李明,020-1234\n\
                   GD-002,递归DNS,dns_service,202.96.128.86,GD,GD-SEC,王强,\n";

async fn province(app: &App) {
    let gd = app.make_unit(app.root, "广东公司", OrgKind::Province).await;
    let sec = app.make_unit(gd, "网络与信息安全部", OrgKind::Department).await;
    for (id, code) in [(gd, "GD"), (sec, "GD-SEC")] {
        let patch = anbao_store::OrgUnitPatch { code: Some(code.into()), ..Default::default() };
        app.store.update_org_unit(&anbao_store::Actor::system(), id, &patch).await.expect("code");
    }
}

async fn import(app: &App, query: &str, content_type: &str, body: Vec<u8>) -> (StatusCode, Value) {
    let r = app
        .send(
            Req::post(&format!("/api/v1/assets/import?{query}"))
                .bearer(app.token(Role::Analyst))
                .raw(content_type, body),
        )
        .await;
    (r.status, r.json())
}

#[tokio::test]
async fn a_gbk_spreadsheet_previews_then_imports_all_rows() {
    let app = App::new().await;
    province(&app).await;
    let (gbk, _, _) = encoding_rs::GBK.encode(CSV);
    let before = app.counts().await;

    let (status, dry) = import(&app, "dry_run=true", "text/csv", gbk.to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{dry}");
    assert_eq!(dry["encoding"], "GB18030", "{dry}");
    assert_eq!((dry["created"].as_u64(), dry["committed"].as_bool()), (Some(2), Some(false)));
    assert_eq!(app.counts().await, before, "a dry run writes nothing");

    let (status, done) = import(&app, "", "text/csv", gbk.to_vec()).await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!((done["created"].as_u64(), done["committed"].as_bool()), (Some(2), Some(true)));
    let list = app.send(Req::get("/api/v1/assets?q=GD-00").bearer(app.token(Role::Auditor))).await.json();
    assert_eq!(list["total"], 2);
    let names: Vec<&str> = list["items"].as_array().expect("items").iter().filter_map(|a| a["name"].as_str()).collect();
    assert!(names.contains(&"门户网站") && names.contains(&"递归DNS"), "{names:?}");

    // The same file again changes nothing.
    let (_, again) = import(&app, "", "text/csv", gbk.to_vec()).await;
    assert_eq!((again["created"].as_u64(), again["unchanged"].as_u64()), (Some(0), Some(2)), "{again}");
}

#[tokio::test]
async fn one_bad_row_rejects_the_whole_file_naming_line_and_field() {
    let app = App::new().await;
    province(&app).await;
    let csv = format!(
        "{CSV}GD-003,无人负责,website,x,GD,GD-SEC,,\nGD-001,重复编号,website,y,GD,GD-SEC,张三,\nGD-004,外省,website,z,JS,GD-SEC,张三,\n"
    );
    let before = app.counts().await;
    let (status, r) = import(&app, "", "text/csv", csv.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert_eq!(r["committed"], false);
    let errors: Vec<(u64, String)> = r["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| (e["line"].as_u64().unwrap_or(0), e["field"].as_str().unwrap_or_default().to_owned()))
        .collect();
    assert!(errors.contains(&(4, "responsible_person".into())), "{errors:?}");
    assert!(errors.contains(&(5, "external_id".into())), "{errors:?}");
    assert!(errors.contains(&(6, "org_unit".into())), "{errors:?}");
    assert_eq!(app.counts().await, before, "nothing half-imported");
    assert_eq!(app.store.count_assets(&Default::default()).await.expect("count"), 0);
}

#[tokio::test]
async fn broken_quoting_and_bad_bytes_are_reported_not_imported() {
    let app = App::new().await;
    province(&app).await;
    let broken = format!("{CSV}GD-009,\"unclosed,website,x,GD,GD-SEC,李明,\n");
    let (status, r) = import(&app, "format=csv", "text/csv", broken.into_bytes()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
    assert!(r["errors"].as_array().is_some_and(|e| e.iter().any(|e| e["line"].as_u64() == Some(4))), "{r}");
    let mut bytes = CSV.as_bytes().to_vec();
    bytes.extend_from_slice(&[0xff, 0xfe, 0xfd, b'\n']);
    let (status, r) = import(&app, "format=csv", "text/csv", bytes).await;
    assert!(status.is_client_error(), "{r}");
    assert_eq!(app.store.count_assets(&Default::default()).await.expect("count"), 0);
    let (status, r) = import(&app, "format=json", "application/json", b"{\"not\": \"an array\"}".to_vec()).await;
    assert!(status.is_client_error(), "{r}");
}

#[tokio::test]
async fn nmap_reports_become_devices_with_their_services() {
    let app = App::new().await;
    province(&app).await;
    let xml = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<nmaprun scanner="nmap" args="nmap -sV -oX - 10.20.0.1" version="7.93">
<host><status state="up" reason="syn-ack"/>
<address addr="10.20.0.1" addrtype="ipv4"/>
<hostnames><hostname name="fw1.gd.example.cn" type="PTR"/></hostnames>
<ports><port protocol="tcp" portid="22"><state state="open" reason="syn-ack"/>
<service name="ssh" product="OpenSSH" version="9.2p1" method="probed" conf="10"><cpe>cpe:/a:openbsd:openssh:9.2p1</cpe></service></port></ports>
</host></nmaprun>"#;
    let (status, r) = import(
        &app,
        "format=nmap&org_unit=GD&responsible_department=GD-SEC&responsible_person=王强",
        "application/xml",
        xml.into(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(r["created"], 1);
    let list = app.send(Req::get("/api/v1/assets?q=10.20.0.1").bearer(app.token(Role::Analyst))).await.json();
    let id = list["items"][0]["id"].as_i64().expect("imported host");
    let asset = app.send(Req::get(&format!("/api/v1/assets/{id}")).bearer(app.token(Role::Analyst))).await.json();
    assert_eq!(asset["asset_type"], "device");
    assert_eq!(asset["name"], "fw1.gd.example.cn");
    let cpes: Vec<&str> =
        asset["components"].as_array().expect("components").iter().filter_map(|c| c["cpe"].as_str()).collect();
    assert!(cpes.iter().any(|c| c.starts_with("cpe:2.3:a:openbsd:openssh:9.2p1")), "{cpes:?}");
    // Without the responsibility nmap cannot know, nothing is imported.
    let (status, r) = import(&app, "format=nmap", "application/xml", xml.into()).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{r}");
}

#[tokio::test]
async fn an_export_imports_back_unchanged_and_is_audited() {
    let app = App::new().await;
    province(&app).await;
    import(&app, "", "text/csv", CSV.as_bytes().to_vec()).await;
    for format in ["csv", "json"] {
        let r = app
            .send(Req::get(&format!("/api/v1/assets/export?format={format}")).bearer(app.token(Role::Auditor)))
            .await;
        assert_eq!(r.status, StatusCode::OK);
        let body = r.body.to_vec();
        let (status, back) =
            import(&app, &format!("format={format}&dry_run=true"), "application/octet-stream", body).await;
        assert_eq!(status, StatusCode::OK, "{back}");
        assert_eq!(
            (back["created"].as_u64(), back["updated"].as_u64(), back["unchanged"].as_u64()),
            (Some(0), Some(0), Some(2)),
            "{format}: {back}"
        );
    }
    assert_eq!(app.audit_with_action("asset.export").await.len(), 2);
    let r = app.send(Req::get("/api/v1/assets/export?format=xlsx").bearer(app.token(Role::Auditor))).await;
    assert_eq!(r.error_field().as_deref(), Some("format"));
}
