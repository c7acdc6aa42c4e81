//! The export writers. The RPZ zone is loaded by BIND's `named-checkzone` /
//! `named-compilezone` (Debian package `bind9-utils`) and the Unbound file
//! by `unbound-checkconf` (package `unbound`); both are required, a missing
//! tool fails the test naming the package. One test starts `unbound` on a
//! loopback port with the local zones and the RPZ zone and asks it over
//! UDP.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, Ipv6Addr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anbao_intel::export::{
    CSV_COLUMNS, CsvOptions, ExportError, ExportSummary, ListHeader, ListOptions, RpzAction, RpzOptions, Sinkhole,
    UnboundAction, UnboundOptions, csv_unguard, write_csv, write_list, write_rpz, write_unbound,
};
use anbao_intel::{Category, Indicator, IndicatorKind as K, Tlp};
use time::macros::datetime;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, Time};

// ------------------------------------------------------------ helpers ----

fn ind(kind: K, value: &str) -> Indicator {
    Indicator::new(kind, value)
}

/// A private directory under the system temp dir, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Self {
        let nanos = SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
        let dir = std::env::temp_dir().join(format!("anbao-export-{name}-{}-{nanos}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn file(&self, name: &str, content: &[u8]) -> PathBuf {
        let p = self.0.join(name);
        std::fs::write(&p, content).unwrap();
        p
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The path of a required tool, or a failure naming the Debian package.
fn tool(name: &str, package: &str) -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let dirs = std::env::split_paths(&path).chain(["/usr/sbin", "/usr/bin", "/sbin", "/bin"].map(PathBuf::from));
    for dir in dirs {
        let p = dir.join(name);
        if p.is_file() {
            return p;
        }
    }
    panic!("`{name}` not found: install the Debian package `{package}` (apt-get install {package})");
}

fn run(cmd: &mut Command) -> (bool, String) {
    let out = cmd.output().unwrap_or_else(|e| panic!("running {cmd:?}: {e}"));
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

/// Loads the zone with `named-checkzone -k fail` (check-names as `named`
/// applies it to primary zones) and requires a clean load: no warnings.
fn named_checkzone(zone: &str, file: &Path) {
    let bin = tool("named-checkzone", "bind9-utils");
    let (ok, text) = run(Command::new(bin).args(["-k", "fail", zone]).arg(file));
    let zone_bare = zone.trim_end_matches('.');
    let clean = text.lines().all(|l| l == "OK" || l.starts_with(&format!("zone {zone_bare}/IN: loaded serial ")));
    assert!(ok && clean, "named-checkzone refused {}:\n{text}", file.display());
}

/// The zone as BIND reads it: (owner, type, rdata) per record, names
/// absolute without the trailing dot.
fn named_records(zone: &str, file: &Path, dir: &Scratch) -> BTreeSet<(String, String, String)> {
    let bin = tool("named-compilezone", "bind9-utils");
    let out = dir.0.join("compiled.zone");
    let (ok, text) = run(Command::new(bin).args(["-k", "fail", "-o"]).arg(&out).arg(zone).arg(file));
    assert!(ok, "named-compilezone refused {}:\n{text}", file.display());
    std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            assert_eq!(f[2], "IN", "{l}");
            let owner = f[0].trim_end_matches('.').to_owned();
            (owner, f[3].to_owned(), f[4..].join(" "))
        })
        .collect()
}

fn unbound_server_settings(dir: &Scratch, port: u16, verbosity: u8) -> String {
    let d = dir.0.display();
    format!(
        "server:\n\
         \x20   chroot: \"\"\n\
         \x20   username: \"\"\n\
         \x20   directory: \"{d}\"\n\
         \x20   pidfile: \"{d}/unbound.pid\"\n\
         \x20   use-syslog: no\n\
         \x20   logfile: \"\"\n\
         \x20   verbosity: {verbosity}\n\
         \x20   interface: 127.0.0.1\n\
         \x20   port: {port}\n\
         \x20   do-ip6: no\n\
         \x20   do-tcp: no\n\
         \x20   num-threads: 1\n\
         \x20   do-not-query-localhost: no\n"
    )
}

/// `unbound-checkconf` on a configuration including `file` in the server
/// clause.
fn unbound_checkconf(dir: &Scratch, file: &Path) {
    let conf = format!("{}    include: \"{}\"\n", unbound_server_settings(dir, 5353, 1), file.display());
    let conf = dir.file("unbound.conf", conf.as_bytes());
    let bin = tool("unbound-checkconf", "unbound");
    let (ok, text) = run(Command::new(bin).arg(&conf));
    assert!(ok && text.contains("no errors"), "unbound-checkconf refused {}:\n{text}", file.display());
}

fn rpz_options(action: RpzAction, include_subdomains: bool) -> RpzOptions {
    RpzOptions {
        zone_name: "rpz.anbao.".to_owned(),
        soa_mname: "localhost.".to_owned(),
        soa_rname: "hostmaster.example.com".to_owned(),
        serial: 2024050101,
        ttl: 300,
        action,
        include_subdomains,
    }
}

fn rpz_text(inds: &[Indicator], options: &RpzOptions) -> (String, ExportSummary) {
    let mut out = Vec::new();
    let summary = write_rpz(&mut out, inds, options).unwrap();
    (String::from_utf8(out).unwrap(), summary)
}

fn unbound_text(inds: &[Indicator], options: &UnboundOptions) -> (String, ExportSummary) {
    let mut out = Vec::new();
    let summary = write_unbound(&mut out, inds, options).unwrap();
    (String::from_utf8(out).unwrap(), summary)
}

/// `a`×63 . `b`×63 . `c`×63 . `d`×n . com: 196 + n characters.
fn long_domain(total: usize) -> String {
    let n = total - 196;
    format!("{}.{}.{}.{}.com", "a".repeat(63), "b".repeat(63), "c".repeat(63), "d".repeat(n))
}

/// Values a hostile feed could carry, after normalisation (and a few a
/// hand-built Indicator could carry).
fn hostile() -> Vec<Indicator> {
    vec![
        ind(K::Domain, "evil.com"),
        ind(K::Domain, "evil.com"), // duplicate
        ind(K::Domain, "xn--fsqu00a.xn--0zwm56d"),
        ind(K::Domain, "例子.测试"), // hand-built, not normalised: normalised again → duplicate
        ind(K::Domain, "_dmarc.example.org"),
        ind(K::Domain, "_sip._tcp.example.org"),
        ind(K::Domain, "a_b.example.org"),
        ind(K::Domain, "1.2.3.4.example.org"),
        ind(K::Domain, "xn--bcher-kva.de"),
        ind(K::Domain, "localhost"),
        ind(K::Domain, "rpz.anbao"), // the zone's own name as a value
        ind(K::Domain, "zz.example"),
        ind(K::Domain, &long_domain(241)),
        ind(K::Domain, "32.4.3.2.1.rpz-ip"),          // skipped: rpz- TLD
        ind(K::Domain, "evil.org\n@ IN NS x."),       // skipped: not a domain
        ind(K::Domain, "evil.net. 300 IN A 1.2.3.4"), // skipped
        ind(K::Ipv4, "1.2.3.4"),
        ind(K::Cidr, "1.2.3.4/32"),     // same trigger
        ind(K::Ipv6, "::ffff:1.2.3.4"), // same trigger
        ind(K::Ipv6, "2001:db8::1"),
        ind(K::Ipv6, "2001:db8:0:0:1:0:0:1"),
        ind(K::Ipv6, "::1"),
        ind(K::Cidr, "10.0.0.0/8"),
        ind(K::Cidr, "192.0.2.128/25"),
        ind(K::Cidr, "2001:db8::/32"),
        ind(K::Cidr, "fe80::/10"),
        ind(K::Cidr, "2001:db8:1:2::/64"),
        ind(K::Cidr, "2001:db8:0:1::/64"),
        ind(K::Cidr, "::/1"),
        ind(K::Cidr, "0.0.0.0/0"),  // skipped: prefix 0
        ind(K::Cidr, "::/0"),       // skipped: prefix 0
        ind(K::Cidr, "10.1.2.3/8"), // skipped: host bits
        ind(K::Url, "http://evil.com/x"),
        ind(K::Sha256, &"ab".repeat(32)),
        ind(K::Md5, &"cd".repeat(16)),
        ind(K::Email, "=cmd@evil.com"),
    ]
}

// ---------------------------------------------------------------- RPZ ----

#[test]
fn rpz_hostile_values_load_in_bind_as_intended() {
    let mut inds = hostile();
    inds.push(ind(K::Domain, &long_domain(242))); // wildcard would be 256 octets
    let (text, summary) = rpz_text(&inds, &rpz_options(RpzAction::Nxdomain, true));
    let dir = Scratch::new("rpz-hostile");
    let file = dir.file("rpz.zone", text.as_bytes());
    named_checkzone("rpz.anbao.", &file);

    let skipped: BTreeMap<K, usize> = [(K::Url, 1), (K::Sha256, 1), (K::Md5, 1), (K::Email, 1)].into();
    assert_eq!(summary.skipped_kinds, skipped);
    let reasons: Vec<(K, &str, &str)> =
        summary.skipped_values.iter().map(|s| (s.kind, s.value.as_str(), s.reason.as_str())).collect();
    assert_eq!(reasons.len(), 7, "{reasons:#?}");
    assert!(reasons[0].1 == "32.4.3.2.1.rpz-ip" && reasons[0].2.contains("rpz-"), "{reasons:?}");
    assert_eq!(reasons[1].1, "evil.org\n@ IN NS x.");
    assert_eq!(reasons[2].1, "evil.net. 300 IN A 1.2.3.4");
    assert!(reasons[3].1 == "0.0.0.0/0" && reasons[3].2.contains("prefix length 0"), "{reasons:?}");
    assert_eq!(reasons[4].1, "::/0");
    assert!(reasons[5].1 == "10.1.2.3/8" && reasons[5].2.contains("host bits"), "{reasons:?}");
    assert!(reasons[6].1 == long_domain(242) && reasons[6].2.contains("256 octets"), "{reasons:?}");
    assert_eq!(summary.duplicates, 4);
    assert_eq!(summary.written, 11 + 11);
    assert_eq!(summary.written + summary.duplicates + summary.skipped(), inds.len());

    // What BIND sees: exactly the triggers we meant.
    let records = named_records("rpz.anbao.", &file, &dir);
    let owners: BTreeSet<String> = records.iter().filter(|(_, t, _)| t == "CNAME").map(|(o, _, _)| o.clone()).collect();
    let mut expected: BTreeSet<String> = BTreeSet::new();
    for d in [
        "evil.com",
        "xn--fsqu00a.xn--0zwm56d",
        "_dmarc.example.org",
        "_sip._tcp.example.org",
        "a_b.example.org",
        "1.2.3.4.example.org",
        "xn--bcher-kva.de",
        "localhost",
        "rpz.anbao",
        "zz.example",
        &long_domain(241),
    ] {
        expected.insert(format!("{d}.rpz.anbao"));
        expected.insert(format!("*.{d}.rpz.anbao"));
    }
    for ip in [
        "32.4.3.2.1",
        "128.1.zz.db8.2001",
        "128.1.0.0.1.zz.db8.2001",
        "128.1.zz",
        "8.0.0.0.10",
        "25.128.2.0.192",
        "32.zz.db8.2001",
        "10.zz.fe80",
        "64.zz.2.1.db8.2001",
        "64.zz.1.0.db8.2001",
        "1.zz",
    ] {
        expected.insert(format!("{ip}.rpz-ip.rpz.anbao"));
    }
    assert_eq!(owners, expected);
    assert!(records.iter().all(|(_, t, r)| t != "CNAME" || r == "."));
    // The longest name is 255 octets on the wire.
    let longest = owners.iter().map(|o| o.len() + 2).max().unwrap();
    assert_eq!(longest, 255);
    // The apex.
    assert!(records.contains(&(
        "rpz.anbao".to_owned(),
        "SOA".to_owned(),
        "localhost. hostmaster.example.com. 2024050101 3600 600 604800 300".to_owned()
    )));
    assert!(records.contains(&("rpz.anbao".to_owned(), "NS".to_owned(), "localhost.".to_owned())));
}

#[test]
fn rpz_every_action_loads_in_bind() {
    let sinkholes = [
        Sinkhole { ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)), ipv6: Some("fd00::1".parse().unwrap()), cname: None },
        Sinkhole { ipv4: Some(Ipv4Addr::new(0, 0, 0, 0)), ipv6: None, cname: None },
        Sinkhole { ipv4: None, ipv6: Some(Ipv6Addr::UNSPECIFIED), cname: None },
        Sinkhole { ipv4: None, ipv6: None, cname: Some("Sinkhole.Example.NET.".to_owned()) },
        Sinkhole { ipv4: None, ipv6: None, cname: Some("黑洞.测试".to_owned()) },
    ];
    let actions =
        [RpzAction::Nxdomain, RpzAction::Nodata].into_iter().chain(sinkholes.into_iter().map(RpzAction::Sinkhole));
    let inds = hostile();
    let dir = Scratch::new("rpz-actions");
    for action in actions {
        for include_subdomains in [false, true] {
            // A mailbox with '_' in its local part passes check-names.
            let options = RpzOptions {
                soa_rname: "anbao_admin.example.com".to_owned(),
                ..rpz_options(action.clone(), include_subdomains)
            };
            let (text, summary) = rpz_text(&inds, &options);
            let file = dir.file("rpz.zone", text.as_bytes());
            named_checkzone("rpz.anbao.", &file);
            let records = named_records("rpz.anbao.", &file, &dir);
            let wildcards = records.iter().filter(|(o, _, _)| o.starts_with("*.")).count();
            assert_eq!(wildcards > 0, include_subdomains, "{action:?}");
            let expect_rdata: Vec<(&str, String)> = match &action {
                RpzAction::Nxdomain => vec![("CNAME", ".".to_owned())],
                RpzAction::Nodata => vec![("CNAME", "*.".to_owned())],
                RpzAction::Sinkhole(s) => {
                    let mut v = Vec::new();
                    if let Some(a) = s.ipv4 {
                        v.push(("A", a.to_string()));
                    }
                    if let Some(a) = s.ipv6 {
                        v.push(("AAAA", a.to_string()));
                    }
                    if let Some(c) = &s.cname {
                        let c = anbao_intel::normalize(K::Domain, c).unwrap();
                        v.push(("CNAME", format!("{c}.")));
                    }
                    v
                }
            };
            let evil = "evil.com.rpz.anbao".to_owned();
            for (t, r) in &expect_rdata {
                assert!(records.contains(&(evil.clone(), (*t).to_owned(), r.clone())), "{action:?}: {t} {r}");
            }
            let addresses = expect_rdata.iter().any(|(t, _)| *t != "CNAME");
            // With address records, names with '_' are skipped (check-names).
            let underscore = summary.skipped_values.iter().filter(|s| s.reason.contains("check-names")).count();
            assert_eq!(underscore, if addresses { 3 } else { 0 }, "{action:?}");
        }
    }
}

#[test]
fn rpz_ten_thousand_entries() {
    let mut inds = Vec::new();
    for i in 0..10_000u32 {
        let (a, b) = (i / 256, i % 256);
        let v = match i % 5 {
            0 => ind(K::Domain, &format!("host-{i}.bad{}.example", i % 97)),
            1 => ind(K::Ipv4, &format!("10.{}.{a}.{b}", i % 7)),
            2 => ind(K::Ipv6, &format!("2001:db8:{i:x}::{b:x}")),
            3 => ind(K::Cidr, &format!("2001:db8:{i:x}::/48")),
            _ => ind(K::Domain, &format!("_srv{i}.xn--fsqu00a.xn--0zwm56d")),
        };
        inds.push(v);
    }
    inds.extend(inds.clone().into_iter().take(100)); // duplicates
    let (text, summary) = rpz_text(&inds, &rpz_options(RpzAction::Nxdomain, true));
    assert_eq!(summary.written, 10_000);
    assert_eq!(summary.duplicates, 100);
    assert_eq!(summary.skipped(), 0);
    let dir = Scratch::new("rpz-10k");
    let file = dir.file("rpz.zone", text.as_bytes());
    named_checkzone("rpz.anbao.", &file);
    let records = named_records("rpz.anbao.", &file, &dir);
    // Apex SOA and NS, one record per IP trigger, two per domain.
    assert_eq!(records.len(), 2 + 6_000 + 2 * 4_000);
}

#[test]
fn rpz_bad_options_write_nothing() {
    let inds = hostile();
    let cases: Vec<(RpzOptions, &str)> = vec![
        (RpzOptions { zone_name: "bad zone".to_owned(), ..rpz_options(RpzAction::Nxdomain, true) }, "zone_name"),
        (RpzOptions { zone_name: ".".to_owned(), ..rpz_options(RpzAction::Nxdomain, true) }, "zone_name"),
        (RpzOptions { soa_mname: "ns.rpz.anbao".to_owned(), ..rpz_options(RpzAction::Nxdomain, true) }, "soa_mname"),
        (RpzOptions { soa_mname: "ns_1.example".to_owned(), ..rpz_options(RpzAction::Nxdomain, true) }, "soa_mname"),
        (RpzOptions { soa_rname: "a b".to_owned(), ..rpz_options(RpzAction::Nxdomain, true) }, "soa_rname"),
        (
            RpzOptions { soa_rname: "hostmaster@example.com".to_owned(), ..rpz_options(RpzAction::Nxdomain, true) },
            "soa_rname",
        ),
        (
            RpzOptions { soa_rname: "hostmaster.ex_ample.com".to_owned(), ..rpz_options(RpzAction::Nxdomain, true) },
            "soa_rname",
        ),
        (RpzOptions { ttl: u32::MAX, ..rpz_options(RpzAction::Nxdomain, true) }, "ttl"),
        (rpz_options(RpzAction::Sinkhole(Sinkhole::default()), true), "sinkhole"),
        (
            rpz_options(
                RpzAction::Sinkhole(Sinkhole {
                    ipv4: Some(Ipv4Addr::LOCALHOST),
                    ipv6: None,
                    cname: Some("sink.example".to_owned()),
                }),
                true,
            ),
            "sinkhole",
        ),
        (
            rpz_options(
                RpzAction::Sinkhole(Sinkhole { ipv4: None, ipv6: None, cname: Some("x.rpz-passthru".to_owned()) }),
                true,
            ),
            "sinkhole cname",
        ),
    ];
    for (options, option) in cases {
        let mut out = Vec::new();
        match write_rpz(&mut out, &inds, &options) {
            Err(ExportError::Option { option: o, .. }) => assert_eq!(o, option, "{options:?}"),
            other => panic!("{options:?}: {other:?}"),
        }
        assert!(out.is_empty());
    }
}

#[test]
fn rpz_text_is_as_documented() {
    let inds = [ind(K::Domain, "evil.com"), ind(K::Ipv4, "1.2.3.4"), ind(K::Cidr, "2001:db8::/32")];
    let (text, _) = rpz_text(&inds, &rpz_options(RpzAction::Nxdomain, true));
    let body: Vec<&str> = text.lines().filter(|l| !l.starts_with(';')).collect();
    assert_eq!(
        body,
        [
            "$ORIGIN rpz.anbao.",
            "$TTL 300",
            "@ IN SOA localhost. hostmaster.example.com. 2024050101 3600 600 604800 300",
            "@ IN NS localhost.",
            "evil.com CNAME .",
            "*.evil.com CNAME .",
            "32.4.3.2.1.rpz-ip CNAME .",
            "32.zz.db8.2001.rpz-ip CNAME .",
        ]
    );
}

// ------------------------------------------------------------ Unbound ----

fn unbound_actions() -> Vec<UnboundAction> {
    vec![
        UnboundAction::Nxdomain,
        UnboundAction::Nodata,
        UnboundAction::Null,
        UnboundAction::Sinkhole(Sinkhole {
            ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)),
            ipv6: Some("fd00::1".parse().unwrap()),
            cname: None,
        }),
        UnboundAction::Sinkhole(Sinkhole { ipv4: None, ipv6: None, cname: Some("sinkhole.example".to_owned()) }),
    ]
}

#[test]
fn unbound_hostile_values_pass_checkconf() {
    let mut inds = hostile();
    inds.push(ind(K::Domain, &long_domain(253)));
    let dir = Scratch::new("unbound-hostile");
    for action in unbound_actions() {
        for server_clause in [false, true] {
            let options = UnboundOptions { action: action.clone(), ttl: 300, server_clause };
            let (text, summary) = unbound_text(&inds, &options);
            assert_eq!(text.lines().any(|l| l == "server:"), server_clause);
            let file = dir.file("blocked.conf", text.as_bytes());
            unbound_checkconf(&dir, &file);
            assert_eq!(summary.written, 13);
            assert_eq!(summary.duplicates, 2);
            assert_eq!(summary.skipped_values.len(), 2, "{:?}", summary.skipped_values);
            assert_eq!(summary.skipped_kinds.values().sum::<usize>(), inds.len() - 13 - 2 - 2);
            assert_eq!(summary.skipped_kinds.get(&K::Cidr), Some(&11));
            assert!(text.contains("local-zone: \"_sip._tcp.example.org.\" "));
            assert!(text.contains("local-zone: \"xn--fsqu00a.xn--0zwm56d.\" "));
            assert_eq!(text.matches("local-zone: \"evil.com.\"").count(), 1);
        }
    }
}

#[test]
fn unbound_text_is_as_documented() {
    let inds = [ind(K::Domain, "evil.com"), ind(K::Ipv4, "1.2.3.4")];
    let sinkhole = Sinkhole { ipv4: Some(Ipv4Addr::new(10, 0, 0, 1)), ipv6: None, cname: None };
    let options = UnboundOptions { action: UnboundAction::Sinkhole(sinkhole), ttl: 60, server_clause: true };
    let (text, _) = unbound_text(&inds, &options);
    let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(body, ["server:", "local-zone: \"evil.com.\" redirect", "local-data: \"evil.com. 60 IN A 10.0.0.1\""]);
    let options = UnboundOptions { action: UnboundAction::Nxdomain, ttl: 60, server_clause: false };
    let (text, _) = unbound_text(&inds, &options);
    let body: Vec<&str> = text.lines().filter(|l| !l.starts_with('#')).collect();
    assert_eq!(body, ["local-zone: \"evil.com.\" always_nxdomain"]);
}

#[test]
fn unbound_ten_thousand_zones() {
    let mut inds: Vec<Indicator> =
        (0..10_000).map(|i| ind(K::Domain, &format!("host-{i}.bad{}.example", i % 97))).collect();
    inds.extend(inds.clone().into_iter().take(50));
    let options = UnboundOptions { action: UnboundAction::Nxdomain, ttl: 300, server_clause: true };
    let (text, summary) = unbound_text(&inds, &options);
    assert_eq!((summary.written, summary.duplicates), (10_000, 50));
    let dir = Scratch::new("unbound-10k");
    let file = dir.file("blocked.conf", text.as_bytes());
    unbound_checkconf(&dir, &file);
}

#[test]
fn unbound_bad_options_write_nothing() {
    let inds = hostile();
    let cases = [
        UnboundOptions { action: UnboundAction::Nxdomain, ttl: u32::MAX, server_clause: true },
        UnboundOptions { action: UnboundAction::Sinkhole(Sinkhole::default()), ttl: 300, server_clause: true },
        UnboundOptions {
            action: UnboundAction::Sinkhole(Sinkhole {
                ipv4: None,
                ipv6: Some(Ipv6Addr::LOCALHOST),
                cname: Some("x.example".to_owned()),
            }),
            ttl: 300,
            server_clause: true,
        },
    ];
    for options in cases {
        let mut out = Vec::new();
        assert!(matches!(write_unbound(&mut out, &inds, &options), Err(ExportError::Option { .. })), "{options:?}");
        assert!(out.is_empty());
    }
}

// ------------------------------------------------ a running unbound ----

/// A child process killed (by its id) and reaped on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[derive(Debug)]
struct Answer {
    rcode: u8,
    /// (type, rdata) of the answer section.
    records: Vec<(u16, Vec<u8>)>,
}

const TYPE_A: u16 = 1;
const TYPE_CNAME: u16 = 5;
const TYPE_AAAA: u16 = 28;
const TYPE_TXT: u16 = 16;
const NXDOMAIN: u8 = 3;

fn skip_name(msg: &[u8], mut i: usize) -> usize {
    loop {
        let len = msg[i];
        if len == 0 {
            return i + 1;
        }
        if len & 0xc0 == 0xc0 {
            return i + 2;
        }
        i += 1 + usize::from(len);
    }
}

/// One query over UDP, retried while the server starts.
fn query(port: u16, name: &str, qtype: u16) -> Answer {
    let mut q = vec![0x4a, 0x42, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.trim_end_matches('.').split('.') {
        q.push(u8::try_from(label.len()).unwrap());
        q.extend(label.as_bytes());
    }
    q.push(0);
    q.extend(qtype.to_be_bytes());
    q.extend(1u16.to_be_bytes());
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(300))).unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut buf = [0u8; 4096];
    let n = loop {
        sock.send_to(&q, ("127.0.0.1", port)).unwrap();
        match sock.recv(&mut buf) {
            Ok(n) => break n,
            Err(_) if Instant::now() < deadline => continue,
            Err(e) => panic!("no answer from unbound on port {port} for {name}: {e}"),
        }
    };
    let msg = &buf[..n];
    assert_eq!(&msg[..2], &q[..2], "answer id");
    let rcode = msg[3] & 0x0f;
    let qd = u16::from_be_bytes([msg[4], msg[5]]);
    let an = u16::from_be_bytes([msg[6], msg[7]]);
    let mut i = 12;
    for _ in 0..qd {
        i = skip_name(msg, i) + 4;
    }
    let mut records = Vec::new();
    for _ in 0..an {
        i = skip_name(msg, i);
        let t = u16::from_be_bytes([msg[i], msg[i + 1]]);
        let len = usize::from(u16::from_be_bytes([msg[i + 8], msg[i + 9]]));
        records.push((t, msg[i + 10..i + 10 + len].to_vec()));
        i += 10 + len;
    }
    Answer { rcode, records }
}

fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn has_a(a: &Answer, addr: [u8; 4]) -> bool {
    a.records.iter().any(|(t, r)| *t == TYPE_A && r.as_slice() == addr)
}

/// Starts unbound with the local-zone export (sinkhole), the RPZ export
/// (NXDOMAIN) and an upstream stand-in: an `auth-zone` served to the
/// iterator, so its answers pass the RPZ-IP triggers the way real upstream
/// answers would.
#[test]
fn running_unbound_applies_both_exports() {
    let unbound = tool("unbound", "unbound");
    let dir = Scratch::new("unbound-live");

    let local = [
        ind(K::Domain, "sink.test"),
        ind(K::Domain, "_sip._tcp.sink.test"),
        ind(K::Domain, "xn--fsqu00a.xn--0zwm56d"),
        ind(K::Ipv4, "192.0.2.1"),
    ];
    let sinkhole = Sinkhole { ipv4: Some(Ipv4Addr::new(10, 9, 9, 9)), ipv6: None, cname: None };
    let options = UnboundOptions { action: UnboundAction::Sinkhole(sinkhole), ttl: 60, server_clause: true };
    let (local_text, _) = unbound_text(&local, &options);
    let local_file = dir.file("local.conf", local_text.as_bytes());
    let cname = [ind(K::Domain, "cname.test")];
    let options = UnboundOptions {
        action: UnboundAction::Sinkhole(Sinkhole {
            ipv4: None,
            ipv6: None,
            cname: Some("sinkhole.target.test".to_owned()),
        }),
        ttl: 60,
        server_clause: true,
    };
    let (cname_text, _) = unbound_text(&cname, &options);
    let cname_file = dir.file("cname.conf", cname_text.as_bytes());
    let null = [ind(K::Domain, "null.test")];
    let options = UnboundOptions { action: UnboundAction::Null, ttl: 60, server_clause: false };
    let (null_text, _) = unbound_text(&null, &options);
    let null_file = dir.file("null.conf", null_text.as_bytes());

    let rpz = [
        ind(K::Domain, "evil.target.test"),
        ind(K::Ipv4, "198.51.100.7"),
        ind(K::Cidr, "203.0.113.0/24"),
        ind(K::Ipv6, "2001:db8::1"),
        ind(K::Cidr, "2001:db8:0:0:1::/80"),
        ind(K::Cidr, "2001:db8:ab00::/40"),
        ind(K::Cidr, "2001:db8:0:1::/64"),
    ];
    let (rpz_zone, _) = rpz_text(&rpz, &rpz_options(RpzAction::Nxdomain, true));
    let rpz_file = dir.file("rpz.zone", rpz_zone.as_bytes());
    let target = "$ORIGIN target.test.\n$TTL 60\n\
        @ SOA ns.target.test. h.target.test. 1 3600 600 86400 60\n@ NS ns.target.test.\nns A 127.0.0.1\n\
        evil A 192.0.2.55\nip4 A 198.51.100.7\nnet4 A 203.0.113.200\nip6 AAAA 2001:db8::1\n\
        net6 AAAA 2001:db8::1:0:0:5\nwide6 AAAA 2001:db8:abcd::1\nsub6 AAAA 2001:db8:0:1::99\n\
        clean A 192.0.2.10\nclean6 AAAA 2001:db8:1::1\nsinkhole A 10.8.8.8\n";
    let target_file = dir.file("target.zone", target.as_bytes());

    let port = free_udp_port();
    let conf = format!(
        "{}    module-config: \"respip iterator\"\n\
         \x20   local-zone: \"test.\" nodefault\n\
         \x20   include: \"{}\"\n\
         \x20   include: \"{}\"\n\
         server:\n\
         \x20   include: \"{}\"\n\
         rpz:\n\
         \x20   name: \"rpz.anbao.\"\n\
         \x20   zonefile: \"{}\"\n\
         auth-zone:\n\
         \x20   name: \"target.test.\"\n\
         \x20   zonefile: \"{}\"\n\
         \x20   for-downstream: no\n\
         \x20   for-upstream: yes\n\
         \x20   fallback-enabled: no\n",
        unbound_server_settings(&dir, port, 4),
        local_file.display(),
        cname_file.display(),
        null_file.display(),
        rpz_file.display(),
        target_file.display(),
    );
    let conf = dir.file("unbound.conf", conf.as_bytes());
    let checkconf = tool("unbound-checkconf", "unbound");
    let (ok, text) = run(Command::new(checkconf).arg(&conf));
    assert!(ok, "{text}");
    let log = std::fs::File::create(dir.0.join("unbound.log")).unwrap();
    let child = Command::new(unbound)
        .arg("-d")
        .arg("-c")
        .arg(&conf)
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap();
    let running = Running(child);
    let log_text = || std::fs::read_to_string(dir.0.join("unbound.log")).unwrap_or_default();

    // Local zones: the sinkhole answers for the name and its subdomains.
    let a = query(port, "sink.test", TYPE_A);
    assert!(a.rcode == 0 && has_a(&a, [10, 9, 9, 9]), "{a:?}\n{}", log_text());
    let a = query(port, "deep.sub.sink.test", TYPE_A);
    assert!(a.rcode == 0 && has_a(&a, [10, 9, 9, 9]), "{a:?}");
    let a = query(port, "www.xn--fsqu00a.xn--0zwm56d", TYPE_A);
    assert!(has_a(&a, [10, 9, 9, 9]), "{a:?}");
    let a = query(port, "sink.test", TYPE_TXT);
    assert!(a.rcode == 0 && a.records.is_empty(), "{a:?}");
    // CNAME sinkhole: the CNAME, then the sinkhole host's address, which
    // Unbound resolves as usual (here from the upstream stand-in).
    let a = query(port, "www.cname.test", TYPE_A);
    assert!(a.records.iter().any(|(t, _)| *t == TYPE_CNAME) && has_a(&a, [10, 8, 8, 8]), "{a:?}\n{}", log_text());
    // always_null.
    let a = query(port, "x.null.test", TYPE_A);
    assert!(has_a(&a, [0, 0, 0, 0]), "{a:?}");

    // RPZ: QNAME trigger and its wildcard.
    assert_eq!(query(port, "evil.target.test", TYPE_A).rcode, NXDOMAIN, "{}", log_text());
    assert_eq!(query(port, "a.b.evil.target.test", TYPE_A).rcode, NXDOMAIN);
    // RPZ-IP triggers: answers containing listed addresses are refused.
    for (name, t) in [
        ("ip4", TYPE_A),
        ("net4", TYPE_A),
        ("ip6", TYPE_AAAA),
        ("net6", TYPE_AAAA),
        ("wide6", TYPE_AAAA),
        ("sub6", TYPE_AAAA),
    ] {
        let a = query(port, &format!("{name}.target.test"), t);
        assert_eq!(a.rcode, NXDOMAIN, "{name}: {a:?}\n{}", log_text());
    }
    let a = query(port, "clean.target.test", TYPE_A);
    assert!(a.rcode == 0 && has_a(&a, [192, 0, 2, 10]), "{a:?}\n{}", log_text());
    let a = query(port, "clean6.target.test", TYPE_AAAA);
    assert!(a.rcode == 0 && a.records.iter().any(|(t, _)| *t == TYPE_AAAA), "{a:?}");

    drop(running);
    let log = log_text();
    for bad in ["unable to parse", "skipping", "error:", "invalid"] {
        assert!(!log.to_lowercase().contains(bad), "unbound logged {bad:?}:\n{log}");
    }
}

// ---------------------------------------------------------------- CSV ----

/// A strict RFC 4180 reader (CRLF records, quoted fields).
fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => {
                assert!(field.is_empty() && !was_quoted, "quote inside a field: {field:?}");
                quoted = true;
                was_quoted = true;
            }
            ',' => {
                row.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            '\r' => {
                assert_eq!(chars.next(), Some('\n'), "CR without LF");
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
                was_quoted = false;
            }
            '\n' => panic!("bare LF outside quotes"),
            _ => {
                assert!(!was_quoted, "text after a closing quote");
                field.push(c);
            }
        }
    }
    assert!(!quoted, "unterminated quote");
    assert!(field.is_empty() && row.is_empty(), "last record without CRLF");
    rows
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    (!s.is_empty()).then(|| OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).unwrap())
}

/// Reads a row back the way an importer would: unguard every cell, then
/// split the tags.
fn indicator_from_row(row: &[String]) -> Indicator {
    let cells: Vec<&str> = row.iter().map(|c| csv_unguard(c)).collect();
    let mut i = ind(cells[0].parse().unwrap(), cells[1]);
    i.category = (!cells[2].is_empty()).then(|| cells[2].parse::<Category>().unwrap());
    i.confidence = (!cells[3].is_empty()).then(|| cells[3].parse().unwrap());
    i.tlp = (!cells[4].is_empty()).then(|| cells[4].parse::<Tlp>().unwrap());
    i.first_seen = parse_time(cells[5]);
    i.last_seen = parse_time(cells[6]);
    i.valid_until = parse_time(cells[7]);
    i.tags = if cells[8].is_empty() { Vec::new() } else { cells[8].split(';').map(str::to_owned).collect() };
    i.context = cells[9].to_owned();
    i
}

fn full(kind: K, value: &str, context: &str, tags: &[&str]) -> Indicator {
    let mut i = ind(kind, value);
    i.category = Some(Category::Phishing);
    i.confidence = Some(85);
    i.tlp = Some(Tlp::AmberStrict);
    i.first_seen = Some(datetime!(2024-05-01 08:00:00 +08:00));
    i.last_seen = Some(datetime!(2024-05-02 12:34:56.789 UTC));
    i.valid_until = Some(datetime!(2025-01-01 00:00 UTC));
    i.tags = tags.iter().map(|t| (*t).to_owned()).collect();
    i.context = context.to_owned();
    i
}

#[test]
fn csv_round_trips_hostile_cells() {
    let inds = vec![
        full(K::Domain, "evil.com", "plain", &["apt", "c2"]),
        full(K::Domain, "xn--fsqu00a.xn--0zwm56d", "钓鱼网站，仿冒银行", &["钓鱼"]),
        full(K::Email, "=cmd|' /C calc'!A0@evil.com", "=HYPERLINK(\"http://x\",\"click\")", &["-x", "+y"]),
        full(K::Url, "http://evil.com/a,b?q=\"1\"", "+1 line\r\nsecond line\nthird", &["@home"]),
        full(K::Ipv6, "2001:db8::1", "-2+3", &["'=quoted", "''"]),
        full(K::Sha256, &"ab".repeat(32), "@SUM(A1:A9)", &[]),
        full(K::Md5, &"cd".repeat(16), "\tTAB first", &["\rcr"]),
        full(K::Domain, "example.org", "'=already quoted", &["'", "a b"]),
        full(K::Domain, "example.net", "' plain quote", &[]),
        ind(K::Ipv4, "1.2.3.4"),
        ind(K::Ipv4, "1.2.3.4"), // duplicates are kept: rows are statements
    ];
    let mut out = Vec::new();
    let summary = write_csv(&mut out, &inds, &CsvOptions::default()).unwrap();
    assert_eq!((summary.written, summary.duplicates, summary.skipped()), (inds.len(), 0, 0));
    let text = String::from_utf8(out).unwrap();
    let text = text.strip_prefix('\u{feff}').expect("byte-order mark");
    let rows = parse_csv(text);
    assert_eq!(rows[0], CSV_COLUMNS);
    assert_eq!(rows.len(), inds.len() + 1);
    for (row, want) in rows[1..].iter().zip(&inds) {
        assert_eq!(row.len(), CSV_COLUMNS.len());
        // No cell a spreadsheet would run.
        for cell in row {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "formula cell {cell:?}");
        }
        assert_eq!(&indicator_from_row(row), want);
    }
    // Times are RFC 3339 UTC.
    assert_eq!(rows[1][5], "2024-05-01T00:00:00Z");
    assert_eq!(rows[1][6], "2024-05-02T12:34:56.789Z");
    assert_eq!(rows[1][4], "amber+strict");
    assert_eq!(rows[3][9], "'=HYPERLINK(\"http://x\",\"click\")");
    assert_eq!(rows[3][1], "'=cmd|' /C calc'!A0@evil.com");
    assert_eq!(rows[3][8], "'-x;+y");
    assert_eq!(rows[10][2..], ["", "", "", "", "", "", "", ""]);
}

#[test]
fn csv_tags_and_times_that_cannot_round_trip() {
    let mut semi = ind(K::Domain, "evil.com");
    semi.tags = vec!["a;b".to_owned(), String::new(), "c".to_owned()];
    let mut ancient = ind(K::Domain, "old.com");
    let date = Date::from_calendar_date(-1, Month::January, 1).unwrap();
    ancient.first_seen = Some(PrimitiveDateTime::new(date, Time::MIDNIGHT).assume_utc());
    let mut out = Vec::new();
    let summary = write_csv(&mut out, [&semi, &ancient], &CsvOptions { bom: false }).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert!(text.starts_with("kind,value,"), "no BOM");
    let rows = parse_csv(&text);
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1][8], "a,b;c");
    assert_eq!(summary.written, 1);
    assert_eq!(summary.skipped_values.len(), 1);
    assert_eq!(summary.skipped_values[0].value, "old.com");
    assert!(summary.skipped_values[0].reason.starts_with("first_seen"), "{:?}", summary.skipped_values);
}

// --------------------------------------------------------------- list ----

#[test]
fn list_is_one_value_per_line() {
    let inds = [
        ind(K::Domain, "evil.com"),
        ind(K::Domain, "EVIL.com."), // normalised again: duplicate
        ind(K::Ipv4, "1.2.3.4"),
        ind(K::Url, "http://evil.com/x"),
        ind(K::Email, "#x@evil.com"),
        ind(K::Domain, "evil.org\nrm -rf /"),
        ind(K::Sha256, &"AB".repeat(32)),
    ];
    let header = ListHeader {
        description: "kind=domain,ipv4\ninjected line".to_owned(),
        generated: datetime!(2024-05-01 08:00 +08:00),
    };
    let mut out = Vec::new();
    let summary = write_list(&mut out, &inds, &ListOptions { header: Some(header) }).unwrap();
    let text = String::from_utf8(out).unwrap();
    assert_eq!(
        text,
        format!(
            "# anbao indicators: kind=domain,ipv4 injected line\n# generated 2024-05-01T00:00:00Z\n\
             evil.com\n1.2.3.4\nhttp://evil.com/x\n{}\n",
            "ab".repeat(32)
        )
    );
    assert_eq!((summary.written, summary.duplicates), (4, 1));
    let reasons: Vec<&str> = summary.skipped_values.iter().map(|s| s.value.as_str()).collect();
    assert_eq!(reasons, ["#x@evil.com", "evil.org\nrm -rf /"]);

    let mut out = Vec::new();
    write_list(&mut out, &inds[..1], &ListOptions::default()).unwrap();
    assert_eq!(out, b"evil.com\n");
}

#[test]
fn write_errors_are_reported() {
    struct Broken;
    impl std::io::Write for Broken {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            Err(std::io::Error::other("disk full"))
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Err(std::io::Error::other("disk full"))
        }
    }
    let inds = hostile();
    assert!(matches!(write_csv(&mut Broken, &inds, &CsvOptions::default()), Err(ExportError::Io(_))));
    assert!(matches!(write_list(&mut Broken, &inds, &ListOptions::default()), Err(ExportError::Io(_))));
    let rpz = rpz_options(RpzAction::Nxdomain, true);
    assert!(matches!(write_rpz(&mut Broken, &inds, &rpz), Err(ExportError::Io(_))));
    let ub = UnboundOptions { action: UnboundAction::Nxdomain, ttl: 1, server_clause: true };
    assert!(matches!(write_unbound(&mut Broken, &inds, &ub), Err(ExportError::Io(_))));
}
