//! Indicator exports for `anbao intel export --format csv|list|rpz|unbound`
//! (STIX is [`crate::stix`]'s). Each writer takes the indicators the caller
//! chose (category, expiry and kind filters are the caller's), writes one
//! format into a [`std::io::Write`] and returns an [`ExportSummary`]: how
//! many were written, how many were duplicates, and what it had to leave
//! out (by kind, or by value with the reason). Writers only fail on bad
//! options ([`ExportError::Option`], checked before the first byte) and on
//! write errors; nothing in the data makes them fail or write a file the
//! consumer refuses.
//!
//! Every value is normalised again ([`crate::normalize()`], idempotent for
//! normal forms) before it goes into a list, a zone or a resolver
//! configuration, so a hand-built [`Indicator`] with stray text cannot
//! inject lines or records; values that do not normalise are
//! [`SkippedValue`]s.
//!
//! # CSV ([`write_csv`])
//!
//! One indicator per row, in input order, no de-duplication (rows carry
//! metadata, two rows with one value are two statements). Columns, stable
//! and in this order ([`CSV_COLUMNS`]):
//!
//! | column        | content                                                        |
//! |---------------|----------------------------------------------------------------|
//! | `kind`        | [`IndicatorKind::as_str`] (`domain`, `ipv4`, `sha256`, …)      |
//! | `value`       | the normalised value                                           |
//! | `category`    | [`Category::as_str`](crate::Category::as_str), empty if unset  |
//! | `confidence`  | 0–100, empty if unset                                          |
//! | `tlp`         | [`Tlp::as_str`](crate::Tlp::as_str) (`amber+strict`), empty if unset |
//! | `first_seen`, `last_seen`, `valid_until` | RFC 3339 in UTC (`2024-05-01T08:00:00Z`), empty if unset |
//! | `tags`        | joined with `;` ([`CSV_TAG_SEPARATOR`]); empty tags dropped, a `;` inside a tag written as `,` |
//! | `context`     | free text, newlines kept (quoted)                              |
//!
//! RFC 4180: comma-separated, CRLF line ends, a field quoted with `"` (and
//! `"` doubled) when it holds `,` `"` CR or LF or starts or ends with a
//! space. UTF-8, by default with a byte-order mark so spreadsheet programs
//! read Chinese context text correctly ([`CsvOptions::bom`]), as the asset
//! export does.
//!
//! **Formula injection.** A spreadsheet runs a cell starting with `=`, `+`,
//! `-`, `@`, tab or CR as a formula, and context text comes from feeds
//! (`=HYPERLINK(…)`, `-2+3`, `@SUM(…)`); so does an e-mail local part
//! (`=cmd@evil.com` is a valid Email value). Such a cell is written with a
//! leading `'` ([`csv_guard`]), as in the asset export. A cell that itself
//! starts with `'` followed by one of those characters or another `'` also
//! gets one, so [`csv_unguard`] (drop one leading `'` when a formula
//! character or `'` follows) gives back exactly the original text: a reader
//! unguards each cell *before* splitting `tags`. Domains, IP addresses,
//! URLs and hashes never start with those characters.
//!
//! # Plain list ([`write_list`])
//!
//! One normalised value per line (LF), de-duplicated by value, in input
//! order; optionally headed by `#` comment lines naming the selection and
//! the generation time the caller passes in ([`ListHeader`]), control
//! characters in the description replaced by spaces. A value starting with
//! `#` (possible only for an Email local part) is skipped, because list
//! readers take it for a comment.
//!
//! # RPZ zone ([`write_rpz`])
//!
//! A response policy zone (draft-vixie-dnsop-dns-rpz) for BIND 9, Unbound,
//! Knot Resolver and PowerDNS Recursor: `$ORIGIN`, `$TTL`, SOA and NS at the
//! apex, then one policy record set per indicator, owner names relative to
//! the origin:
//!
//! - Domain `evil.com` → the QNAME trigger `evil.com`, and with
//!   [`RpzOptions::include_subdomains`] also `*.evil.com` (the match index
//!   treats a domain indicator as covering its subdomains, so that is the
//!   usual choice).
//! - Ipv4 / Ipv6 / Cidr → an RPZ-IP trigger (the resolver rewrites answers
//!   *containing* such an address): prefix length first, then the address
//!   reversed, `rpz-ip` last: `1.2.3.4` → `32.4.3.2.1.rpz-ip`, `10.0.0.0/8`
//!   → `8.0.0.0.10.rpz-ip`, `2001:db8::1` → `128.1.zz.db8.2001.rpz-ip`.
//!   IPv6 words are lower-case hex without leading zeros and the `zz` label
//!   stands for the run of zero words RFC 5952 would write as `::` (the
//!   first longest run of two or more), which is the canonical form BIND
//!   checks against. A prefix length of 0 is not allowed by the draft (BIND
//!   refuses it), so `0.0.0.0/0` and `::/0` are skipped values.
//! - Every other kind (URLs, hashes, e-mail addresses, …) is not a DNS
//!   matter: counted in [`ExportSummary::skipped_kinds`].
//!
//! The action ([`RpzAction`]) is the same for every trigger: `CNAME .`
//! (NXDOMAIN), `CNAME *.` (NODATA), or local data for a sinkhole: `A`
//! and/or `AAAA` records, or a `CNAME` to the sinkhole host (a CNAME cannot
//! share its owner with other data, so it is either-or).
//!
//! So that the zone always loads: domains are normalised again (labels of
//! `a-z 0-9 - _` only, nothing to escape); with a sinkhole's A/AAAA
//! records, a domain with `_` (`_dmarc.example.com`) is skipped, because
//! BIND's `check-names`, on by default for primary zones, refuses address
//! records at names that are not host names (the other actions write
//! CNAMEs, which it does not check); a domain whose last label starts
//! with `rpz-` is skipped (RPZ reserves those names for `rpz-ip`,
//! `rpz-nsdname`, … triggers, so it would not be a QNAME trigger); a name
//! longer than 255 octets once the zone name is appended (including the
//! `*.` label when subdomains are included) is skipped, never cut; owner
//! names are de-duplicated (`1.2.3.4` and `1.2.3.4/32`, `evil.com` twice),
//! duplicates counted. The serial is the caller's (RPZ consumers transfer
//! the zone only when it grows).
//!
//! # Unbound local zones ([`write_unbound`])
//!
//! A file for `include:` in `unbound.conf`, inside the `server:` clause or
//! with its own leading `server:` line ([`UnboundOptions::server_clause`]):
//! `local-zone: "evil.com." always_nxdomain` (or `always_nodata`,
//! `always_null`: 0.0.0.0 / :: for A / AAAA), or for a sinkhole
//! `local-zone: "evil.com." redirect` with `local-data: "evil.com. 300 IN A
//! 10.0.0.1"` (and AAAA, or a CNAME, whose target Unbound then resolves
//! as usual, so it must resolve). A local zone always covers the name and
//! all its subdomains. Only domains; other kinds are counted as skipped
//! (Unbound's `response-ip` would need the `respip` module configured: use
//! the RPZ export for addresses). Zones are de-duplicated, because Unbound
//! refuses a duplicate `local-zone`.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashSet};
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

use crate::normalize::{IndicatorKind, normalize, parse_cidr};
use crate::record::{Indicator, clip};

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// An option the caller passed is unusable; nothing was written.
    #[error("invalid export option {option}: {reason}")]
    Option { option: &'static str, reason: String },
    #[error("writing the export: {0}")]
    Io(#[from] io::Error),
}

impl ExportError {
    fn option(option: &'static str, reason: impl Into<String>) -> Self {
        ExportError::Option { option, reason: reason.into() }
    }
}

/// A value a writer left out, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SkippedValue {
    pub kind: IndicatorKind,
    /// The value as given (cut to 256 bytes).
    pub value: String,
    pub reason: String,
}

/// What a writer did with its input.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExportSummary {
    /// Indicators written (a CSV row, a list line, one zone entry with its
    /// wildcard, one local zone).
    pub written: usize,
    /// Indicators whose entry was already written (same value or, for RPZ,
    /// same trigger).
    pub duplicates: usize,
    /// Indicators of kinds the format cannot express, per kind.
    pub skipped_kinds: BTreeMap<IndicatorKind, usize>,
    /// Indicators of a kind the format takes whose value could not be
    /// written, with the reason, in input order.
    pub skipped_values: Vec<SkippedValue>,
}

impl ExportSummary {
    /// Everything that was not written: skipped kinds and values (not
    /// duplicates, which are written once).
    pub fn skipped(&self) -> usize {
        self.skipped_kinds.values().sum::<usize>() + self.skipped_values.len()
    }

    fn skip_kind(&mut self, kind: IndicatorKind) {
        *self.skipped_kinds.entry(kind).or_default() += 1;
    }

    fn skip_value(&mut self, ind: &Indicator, reason: impl Into<String>) {
        self.skipped_values.push(SkippedValue { kind: ind.kind, value: clip(&ind.value, 256), reason: reason.into() });
    }
}

// ---------------------------------------------------------------- CSV ----

/// The CSV header, in column order (see the module doc).
pub const CSV_COLUMNS: [&str; 10] =
    ["kind", "value", "category", "confidence", "tlp", "first_seen", "last_seen", "valid_until", "tags", "context"];

/// Joins the tags of one indicator in the `tags` column.
pub const CSV_TAG_SEPARATOR: char = ';';

/// CSV writer options.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CsvOptions {
    /// Start with a UTF-8 byte-order mark (default: yes, for spreadsheets).
    pub bom: bool,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { bom: true }
    }
}

/// Characters that make a spreadsheet treat a cell as a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// The cell text with the formula-injection guard: a leading `'` when the
/// text starts with `=`, `+`, `-`, `@`, tab or CR, or with a `'` that
/// [`csv_unguard`] would take off.
pub fn csv_guard(cell: &str) -> Cow<'_, str> {
    if cell.starts_with(FORMULA_START) || csv_unguard(cell).len() != cell.len() {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// Undoes [`csv_guard`]: drops a leading `'` that a formula character or
/// another `'` follows. For CSV readers of this export.
pub fn csv_unguard(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if rest.starts_with(FORMULA_START) || rest.starts_with('\'') => rest,
        _ => cell,
    }
}

fn rfc3339(t: Option<OffsetDateTime>) -> Result<String, String> {
    match t {
        None => Ok(String::new()),
        Some(t) => t
            .to_offset(UtcOffset::UTC)
            .format(&Rfc3339)
            .map_err(|e| format!("time {t} cannot be written as RFC 3339: {e}")),
    }
}

fn push_csv_field(out: &mut String, cell: &str) {
    let cell = csv_guard(cell);
    if cell.contains([',', '"', '\n', '\r']) || cell.starts_with(' ') || cell.ends_with(' ') {
        out.push('"');
        out.push_str(&cell.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(&cell);
    }
}

fn push_csv_record<'a>(out: &mut String, cells: impl IntoIterator<Item = &'a str>) {
    for (i, cell) in cells.into_iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_csv_field(out, cell);
    }
    out.push_str("\r\n");
}

fn csv_cells(ind: &Indicator) -> Result<[String; 10], String> {
    let tags: Vec<String> =
        ind.tags.iter().filter(|t| !t.is_empty()).map(|t| t.replace(CSV_TAG_SEPARATOR, ",")).collect();
    Ok([
        ind.kind.as_str().to_owned(),
        ind.value.clone(),
        ind.category.map(|c| c.as_str().to_owned()).unwrap_or_default(),
        ind.confidence.map(|c| c.to_string()).unwrap_or_default(),
        ind.tlp.map(|t| t.as_str().to_owned()).unwrap_or_default(),
        rfc3339(ind.first_seen).map_err(|e| format!("first_seen: {e}"))?,
        rfc3339(ind.last_seen).map_err(|e| format!("last_seen: {e}"))?,
        rfc3339(ind.valid_until).map_err(|e| format!("valid_until: {e}"))?,
        tags.join(&CSV_TAG_SEPARATOR.to_string()),
        ind.context.clone(),
    ])
}

/// Writes `indicators` as CSV (see the module doc for the columns and
/// quoting). A row whose time cannot be written in RFC 3339 (a year beyond
/// 9999) is a skipped value; every other indicator becomes a row.
pub fn write_csv<'a, W, I>(out: &mut W, indicators: I, options: &CsvOptions) -> Result<ExportSummary, ExportError>
where
    W: Write + ?Sized,
    I: IntoIterator<Item = &'a Indicator>,
{
    let mut w = BufWriter::new(out);
    let mut summary = ExportSummary::default();
    let mut line = String::new();
    if options.bom {
        line.push('\u{feff}');
    }
    push_csv_record(&mut line, CSV_COLUMNS);
    w.write_all(line.as_bytes())?;
    for ind in indicators {
        match csv_cells(ind) {
            Ok(cells) => {
                line.clear();
                push_csv_record(&mut line, cells.iter().map(String::as_str));
                w.write_all(line.as_bytes())?;
                summary.written += 1;
            }
            Err(reason) => summary.skip_value(ind, reason),
        }
    }
    w.flush()?;
    Ok(summary)
}

// --------------------------------------------------------------- list ----

/// The comment block at the top of a plain list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListHeader {
    /// What was selected, e.g. `kind=domain category=phishing` (one line;
    /// control characters become spaces).
    pub description: String,
    /// When the export was made (the caller's clock).
    pub generated: OffsetDateTime,
}

/// Plain-list writer options.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ListOptions {
    /// `# …` comment lines before the values; none when `None`.
    pub header: Option<ListHeader>,
}

/// Writes one normalised value per line (see the module doc).
pub fn write_list<'a, W, I>(out: &mut W, indicators: I, options: &ListOptions) -> Result<ExportSummary, ExportError>
where
    W: Write + ?Sized,
    I: IntoIterator<Item = &'a Indicator>,
{
    let header = match &options.header {
        None => None,
        Some(h) => {
            let generated = rfc3339(Some(h.generated)).map_err(|e| ExportError::option("generated", e))?;
            let description: String =
                h.description.trim().chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
            Some((description, generated))
        }
    };
    let mut w = BufWriter::new(out);
    if let Some((description, generated)) = header {
        if description.is_empty() {
            writeln!(w, "# anbao indicators")?;
        } else {
            writeln!(w, "# anbao indicators: {description}")?;
        }
        writeln!(w, "# generated {generated}")?;
    }
    let mut summary = ExportSummary::default();
    let mut seen = HashSet::new();
    for ind in indicators {
        let value = match normalize(ind.kind, &ind.value) {
            Ok(v) => v,
            Err(e) => {
                summary.skip_value(ind, e.reason);
                continue;
            }
        };
        if value.starts_with('#') {
            summary.skip_value(ind, "starts with '#', which list readers take for a comment");
            continue;
        }
        if !seen.insert(value.clone()) {
            summary.duplicates += 1;
            continue;
        }
        w.write_all(value.as_bytes())?;
        w.write_all(b"\n")?;
        summary.written += 1;
    }
    w.flush()?;
    Ok(summary)
}

// --------------------------------------------------------- DNS common ----

/// Where a sinkhole sends a blocked name: address records, or a CNAME to
/// the sinkhole host (a CNAME cannot share a name with other records, so
/// it is the addresses or the CNAME).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sinkhole {
    pub ipv4: Option<Ipv4Addr>,
    pub ipv6: Option<Ipv6Addr>,
    /// A host name (`sinkhole.example.net`, trailing dot optional, IDN
    /// allowed).
    pub cname: Option<String>,
}

/// The sinkhole's record data (`A 10.0.0.1`, `CNAME sink.example.`), checked.
fn sinkhole_rdata(s: &Sinkhole) -> Result<Vec<String>, ExportError> {
    let mut rdata = Vec::new();
    if let Some(a) = s.ipv4 {
        rdata.push(format!("A {a}"));
    }
    if let Some(a) = s.ipv6 {
        rdata.push(format!("AAAA {a}"));
    }
    if let Some(c) = &s.cname {
        if !rdata.is_empty() {
            return Err(ExportError::option(
                "sinkhole",
                "a CNAME cannot share a name with A/AAAA records: give the addresses or the CNAME",
            ));
        }
        let host = dns_name("sinkhole cname", c)?;
        if last_label(&host).starts_with("rpz-") {
            return Err(ExportError::option(
                "sinkhole cname",
                format!("{host:?}: names under an `rpz-` top-level label are RPZ actions"),
            ));
        }
        rdata.push(format!("CNAME {host}."));
    }
    if rdata.is_empty() {
        return Err(ExportError::option("sinkhole", "needs an IPv4 or IPv6 address or a CNAME"));
    }
    Ok(rdata)
}

/// An option naming a DNS host or zone: normalised like a Domain indicator.
fn dns_name(option: &'static str, raw: &str) -> Result<String, ExportError> {
    normalize(IndicatorKind::Domain, raw).map_err(|e| ExportError::option(option, format!("{raw:?}: {}", e.reason)))
}

fn last_label(name: &str) -> &str {
    name.rsplit('.').next().unwrap_or(name)
}

/// Octets of `name` (no trailing dot, no escapes) in wire format.
fn wire_len(name: &str) -> usize {
    name.len() + 2
}

/// Largest DNS TTL (RFC 2181 §8).
const MAX_TTL: u32 = i32::MAX as u32;

fn check_ttl(ttl: u32) -> Result<(), ExportError> {
    if ttl > MAX_TTL {
        return Err(ExportError::option("ttl", format!("{ttl} is more than {MAX_TTL} (RFC 2181)")));
    }
    Ok(())
}

// ---------------------------------------------------------------- RPZ ----

/// What the resolver answers for a triggered name or address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RpzAction {
    /// `CNAME .`: the name does not exist.
    Nxdomain,
    /// `CNAME *.`: the name exists but has no records of the asked type.
    Nodata,
    /// Local data: the sinkhole's addresses or CNAME.
    Sinkhole(Sinkhole),
}

/// SOA refresh, retry and expire of the zone (seconds): secondaries check
/// hourly, retry every 10 minutes, keep serving a week.
pub const RPZ_SOA_TIMERS: (u32, u32, u32) = (3600, 600, 604_800);

/// The zone's name, apex records and action.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RpzOptions {
    /// `rpz.anbao.` (trailing dot optional).
    pub zone_name: String,
    /// SOA MNAME, also the apex NS target; must not be inside the zone
    /// (it would need glue). `localhost.` is the RPZ custom.
    pub soa_mname: String,
    /// SOA RNAME, the mailbox in domain form: `hostmaster.example.com.`
    /// for `hostmaster@example.com`.
    pub soa_rname: String,
    /// SOA serial, the caller's (it must grow with every change).
    pub serial: u32,
    /// `$TTL` and SOA minimum (negative caching), seconds.
    pub ttl: u32,
    pub action: RpzAction,
    /// Also block every name under a listed domain (`*.evil.com`).
    pub include_subdomains: bool,
}

struct RpzPlan {
    zone: String,
    mname: String,
    rname: String,
    rdata: Vec<String>,
    /// The action writes A/AAAA records, so owners must be host names.
    addresses: bool,
    include_subdomains: bool,
}

fn rpz_plan(o: &RpzOptions) -> Result<RpzPlan, ExportError> {
    let zone = dns_name("zone_name", &o.zone_name)?;
    let mname = dns_name("soa_mname", &o.soa_mname)?;
    let rname = dns_name("soa_rname", &o.soa_rname)?;
    // BIND's check-names: MNAME a host name, RNAME a mailbox whose domain
    // part is one.
    if mname.contains('_') {
        return Err(ExportError::option("soa_mname", format!("{mname:?} is not a host name (has '_')")));
    }
    if rname.split_once('.').is_some_and(|(_, domain)| domain.contains('_')) {
        return Err(ExportError::option(
            "soa_rname",
            format!("{rname:?}: the mail domain is not a host name (has '_')"),
        ));
    }
    if mname == zone || mname.ends_with(&format!(".{zone}")) {
        return Err(ExportError::option(
            "soa_mname",
            format!("{mname:?} is inside the zone {zone:?}; the apex NS would need an address record"),
        ));
    }
    check_ttl(o.ttl)?;
    let rdata = match &o.action {
        RpzAction::Nxdomain => vec!["CNAME .".to_owned()],
        RpzAction::Nodata => vec!["CNAME *.".to_owned()],
        RpzAction::Sinkhole(s) => sinkhole_rdata(s)?,
    };
    let addresses = rdata.iter().any(|r| r.starts_with("A ") || r.starts_with("AAAA "));
    Ok(RpzPlan { zone, mname, rname, rdata, addresses, include_subdomains: o.include_subdomains })
}

/// The RPZ-IP owner labels (without `rpz-ip` and the zone) for a network:
/// prefix length, then the address reversed (see the module doc).
pub fn rpz_ip_labels(addr: IpAddr, prefix_len: u8) -> String {
    match addr {
        IpAddr::V4(a) => {
            let [o1, o2, o3, o4] = a.octets();
            format!("{prefix_len}.{o4}.{o3}.{o2}.{o1}")
        }
        IpAddr::V6(a) => {
            let words = a.segments();
            // The first longest run of two or more zero words (RFC 5952).
            let (mut best_start, mut best_len) = (0, 0);
            let (mut run_start, mut run_len) = (0, 0);
            for (i, w) in words.iter().enumerate() {
                if *w == 0 {
                    if run_len == 0 {
                        run_start = i;
                    }
                    run_len += 1;
                    if run_len > best_len {
                        (best_start, best_len) = (run_start, run_len);
                    }
                } else {
                    run_len = 0;
                }
            }
            let mut labels: Vec<String> = Vec::with_capacity(8);
            let mut i = 0;
            while let Some(w) = words.get(i) {
                if best_len >= 2 && i == best_start {
                    labels.push("zz".to_owned());
                    i += best_len;
                } else {
                    labels.push(format!("{w:x}"));
                    i += 1;
                }
            }
            labels.reverse();
            format!("{prefix_len}.{}", labels.join("."))
        }
    }
}

/// The trigger owner (relative to the zone) of one indicator, or why it
/// has none. `Ok(None)`: a kind RPZ does not take.
fn rpz_owner(ind: &Indicator, plan: &RpzPlan) -> Result<Option<String>, String> {
    let zone = &plan.zone;
    let network = |value: &str| -> Result<(IpAddr, u8), String> {
        match ind.kind {
            IndicatorKind::Cidr => parse_cidr(value),
            _ => {
                let addr: IpAddr = value.parse().map_err(|_| "not an IP address".to_owned())?;
                Ok((addr, if addr.is_ipv4() { 32 } else { 128 }))
            }
        }
    };
    match ind.kind {
        IndicatorKind::Domain => {
            let d = normalize(ind.kind, &ind.value).map_err(|e| e.reason)?;
            if last_label(&d).starts_with("rpz-") {
                return Err("the last label starts with `rpz-`, which RPZ reserves for its triggers".to_owned());
            }
            if plan.addresses && d.contains('_') {
                return Err("has '_': BIND's check-names (on by default for primary zones) refuses A/AAAA \
                            records at names that are not host names; block it with the NXDOMAIN, NODATA \
                            or CNAME sinkhole action"
                    .to_owned());
            }
            let longest = if plan.include_subdomains { format!("*.{d}.{zone}") } else { format!("{d}.{zone}") };
            if wire_len(&longest) > 255 {
                return Err(format!(
                    "{longest:?} is {} octets, more than the 255 a DNS name may have",
                    wire_len(&longest)
                ));
            }
            Ok(Some(d))
        }
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr => {
            let v = normalize(ind.kind, &ind.value).map_err(|e| e.reason)?;
            let (addr, len) = network(&v)?;
            if len == 0 {
                return Err("prefix length 0 (every address) cannot be an RPZ-IP trigger".to_owned());
            }
            let owner = format!("{}.rpz-ip", rpz_ip_labels(addr, len));
            // At most 4 + 8 labels of at most 4 characters: always fits
            // unless the zone name is enormous.
            let full = format!("{owner}.{zone}");
            if wire_len(&full) > 255 {
                return Err(format!("{full:?} is {} octets, more than 255", wire_len(&full)));
            }
            Ok(Some(owner))
        }
        _ => Ok(None),
    }
}

/// Writes a response policy zone (see the module doc). The options are
/// checked before anything is written.
pub fn write_rpz<'a, W, I>(out: &mut W, indicators: I, options: &RpzOptions) -> Result<ExportSummary, ExportError>
where
    W: Write + ?Sized,
    I: IntoIterator<Item = &'a Indicator>,
{
    let plan = rpz_plan(options)?;
    let (refresh, retry, expire) = RPZ_SOA_TIMERS;
    let mut w = BufWriter::new(out);
    writeln!(w, "; anbao indicator export: response policy zone (draft-vixie-dnsop-dns-rpz)")?;
    writeln!(w, "; generated; edits are lost at the next export")?;
    writeln!(w, "$ORIGIN {}.", plan.zone)?;
    writeln!(w, "$TTL {}", options.ttl)?;
    writeln!(
        w,
        "@ IN SOA {}. {}. {} {refresh} {retry} {expire} {}",
        plan.mname, plan.rname, options.serial, options.ttl
    )?;
    writeln!(w, "@ IN NS {}.", plan.mname)?;
    let mut summary = ExportSummary::default();
    let mut seen: HashSet<String> = HashSet::new();
    for ind in indicators {
        let owner = match rpz_owner(ind, &plan) {
            Ok(Some(owner)) => owner,
            Ok(None) => {
                summary.skip_kind(ind.kind);
                continue;
            }
            Err(reason) => {
                summary.skip_value(ind, reason);
                continue;
            }
        };
        if seen.contains(&owner) {
            summary.duplicates += 1;
            continue;
        }
        let wildcard = plan.include_subdomains && ind.kind == IndicatorKind::Domain;
        for rdata in &plan.rdata {
            writeln!(w, "{owner} {rdata}")?;
        }
        if wildcard {
            for rdata in &plan.rdata {
                writeln!(w, "*.{owner} {rdata}")?;
            }
        }
        seen.insert(owner);
        summary.written += 1;
    }
    w.flush()?;
    Ok(summary)
}

// ------------------------------------------------------------ Unbound ----

/// The `local-zone` type for blocked domains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnboundAction {
    /// `always_nxdomain`.
    Nxdomain,
    /// `always_nodata`.
    Nodata,
    /// `always_null`: A 0.0.0.0 and AAAA ::, NODATA for other types.
    Null,
    /// `redirect` with `local-data` for the zone name.
    Sinkhole(Sinkhole),
}

/// Unbound writer options.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnboundOptions {
    pub action: UnboundAction,
    /// TTL of sinkhole `local-data`, seconds.
    pub ttl: u32,
    /// Start with a `server:` line, so the file can be included anywhere
    /// in `unbound.conf`; without it, include it inside `server:`.
    pub server_clause: bool,
}

/// Writes Unbound `local-zone` statements for the domains (see the module
/// doc). The options are checked before anything is written.
pub fn write_unbound<'a, W, I>(
    out: &mut W,
    indicators: I,
    options: &UnboundOptions,
) -> Result<ExportSummary, ExportError>
where
    W: Write + ?Sized,
    I: IntoIterator<Item = &'a Indicator>,
{
    check_ttl(options.ttl)?;
    let (zone_type, rdata) = match &options.action {
        UnboundAction::Nxdomain => ("always_nxdomain", Vec::new()),
        UnboundAction::Nodata => ("always_nodata", Vec::new()),
        UnboundAction::Null => ("always_null", Vec::new()),
        UnboundAction::Sinkhole(s) => ("redirect", sinkhole_rdata(s)?),
    };
    let mut w = BufWriter::new(out);
    writeln!(w, "# anbao indicator export: Unbound local zones")?;
    writeln!(w, "# generated; edits are lost at the next export")?;
    if options.server_clause {
        writeln!(w, "server:")?;
    }
    let mut summary = ExportSummary::default();
    let mut seen: HashSet<String> = HashSet::new();
    for ind in indicators {
        if ind.kind != IndicatorKind::Domain {
            summary.skip_kind(ind.kind);
            continue;
        }
        let d = match normalize(ind.kind, &ind.value) {
            Ok(d) => d,
            Err(e) => {
                summary.skip_value(ind, e.reason);
                continue;
            }
        };
        if seen.contains(&d) {
            summary.duplicates += 1;
            continue;
        }
        writeln!(w, "local-zone: \"{d}.\" {zone_type}")?;
        for r in &rdata {
            writeln!(w, "local-data: \"{d}. {} IN {r}\"", options.ttl)?;
        }
        seen.insert(d);
        summary.written += 1;
    }
    w.flush()?;
    Ok(summary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rpz_ip_labels_follow_bind_canonical_form() {
        let v6 = |s: &str| IpAddr::V6(s.parse().unwrap());
        assert_eq!(rpz_ip_labels(IpAddr::V4(Ipv4Addr::new(1, 2, 3, 4)), 32), "32.4.3.2.1");
        assert_eq!(rpz_ip_labels(v6("2001:db8::1"), 128), "128.1.zz.db8.2001");
        assert_eq!(rpz_ip_labels(v6("2001:db8::"), 32), "32.zz.db8.2001");
        assert_eq!(rpz_ip_labels(v6("::1"), 128), "128.1.zz");
        assert_eq!(rpz_ip_labels(v6("::"), 1), "1.zz");
        // Equal runs: the first in address order (BIND: "the last" reversed).
        assert_eq!(rpz_ip_labels(v6("2001:db8:0:0:1:0:0:1"), 128), "128.1.0.0.1.zz.db8.2001");
        // A single zero word is not compressed.
        assert_eq!(rpz_ip_labels(v6("2001:db8:0:1:1:1:1:1"), 128), "128.1.1.1.1.1.0.db8.2001");
        // The longer run wins even when it comes second.
        assert_eq!(rpz_ip_labels(v6("1:0:0:2:0:0:0:3"), 128), "128.3.zz.2.0.0.1");
        assert_eq!(rpz_ip_labels(v6("fe80::abcd:ef"), 64), "64.ef.abcd.zz.fe80");
    }

    #[test]
    fn guard_round_trips() {
        for s in ["", "'", "''", "'=", "=1+2", "-x", "'-x", "''=x", "'abc", "abc", "\tx", "@SUM(A1)", "+", "'''"] {
            assert_eq!(csv_unguard(&csv_guard(s)), s, "{s:?}");
            assert!(!csv_guard(s).starts_with(FORMULA_START), "{s:?}");
        }
    }
}
