//! `--version`, `--help` for every command, and `openapi`.

use crate::harness::anbao;

/// Entries of a help section ("Commands:", "Options:", "Arguments:"): the
/// lines from the heading to the next blank line.
fn section<'a>(help: &'a str, heading: &str) -> Vec<&'a str> {
    help.lines().skip_while(|l| l.trim_end() != heading).skip(1).take_while(|l| !l.trim().is_empty()).collect()
}

/// Subcommand names listed under "Commands:", without clap's `help`.
fn subcommands(help: &str) -> Vec<String> {
    section(help, "Commands:")
        .iter()
        .filter(|l| is_command(l))
        .filter_map(|l| l.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(str::to_owned)
        .collect()
}

/// Each entry of a section (a line `is_entry` accepts) must have a
/// description on its line or, when clap wraps it, on the next one.
fn undescribed(lines: &[&str], is_entry: impl Fn(&str) -> bool) -> Vec<String> {
    let mut missing = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        if !is_entry(line) {
            continue;
        }
        let item = line.trim();
        let described_here = item.split_once("  ").is_some_and(|(_, d)| !d.trim().is_empty());
        let described_below = lines.get(i + 1).is_some_and(|n| !n.trim().is_empty() && !is_entry(n));
        if !described_here && !described_below {
            missing.push(item.to_owned());
        }
    }
    missing
}

fn is_option(line: &str) -> bool {
    line.trim_start().starts_with('-')
}

fn is_argument(line: &str) -> bool {
    line.trim_start().starts_with(['<', '['])
}

fn is_command(line: &str) -> bool {
    line.starts_with("  ") && !line.starts_with("   ")
}

/// Checks `anbao PATH… --help` and recurses into its subcommands; returns
/// every command path visited.
fn check_help(path: &[String], visited: &mut Vec<String>) {
    let out = anbao(path.iter().map(String::as_str).chain(["--help"])).run().ok();
    let help = &out.stdout;
    let name = std::iter::once("anbao").chain(path.iter().map(String::as_str)).collect::<Vec<_>>().join(" ");
    visited.push(name.clone());
    let first = help.lines().next().unwrap_or_default();
    assert!(
        !first.trim().is_empty() && !first.starts_with("Usage:"),
        "{name}: help should open with a description: {out}"
    );
    assert!(help.lines().any(|l| l.starts_with(&format!("Usage: {name}"))), "{name}: no usage line: {out}");

    let options = section(help, "Options:");
    assert!(!options.is_empty(), "{name}: no Options section: {out}");
    let mut missing = undescribed(&options, is_option);
    missing.extend(undescribed(&section(help, "Arguments:"), is_argument));
    missing.extend(undescribed(&section(help, "Commands:"), is_command));
    assert!(missing.is_empty(), "{name}: these have no description: {missing:#?}\n{out}");

    for sub in subcommands(help) {
        let mut p = path.to_vec();
        p.push(sub);
        check_help(&p, visited);
    }
}

#[test]
fn version_prints_the_package_version() {
    let out = anbao(["--version"]).run().ok();
    assert_eq!(out.stdout.trim(), format!("anbao {}", env!("CARGO_PKG_VERSION")), "{out}");
}

#[test]
fn every_command_has_help_with_usage_and_described_options() {
    let mut visited = Vec::new();
    check_help(&[], &mut visited);
    for expected in [
        "anbao serve",
        "anbao init",
        "anbao token create",
        "anbao token list",
        "anbao token revoke",
        "anbao audit verify",
        "anbao audit export",
        "anbao user list",
        "anbao user reset-password",
        "anbao openapi",
    ] {
        assert!(visited.iter().any(|v| v == expected), "{expected} was not found through --help; visited {visited:?}");
    }
}

#[test]
fn openapi_prints_an_openapi_3_document_with_the_users_path() {
    let out = anbao(["openapi"]).run().ok();
    let doc = out.json();
    let version = doc["openapi"].as_str().unwrap_or_default();
    assert!(version.starts_with("3."), "openapi version {version:?}");
    assert!(doc["paths"]["/api/v1/users"].is_object(), "no /api/v1/users path: {}", doc["paths"]);
}
