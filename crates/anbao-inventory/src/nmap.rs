//! nmap XML output (`nmap -oX`): hosts, their addresses, names, ports with
//! detected services and CPEs, and OS guesses; and turning a host into an
//! asset draft with its service inventory.
//!
//! Read with quick-xml as a stream of events. That reader never expands
//! entities declared in a DTD (the `<!DOCTYPE nmaprun>` that nmap writes is
//! skipped unread), so "billion laughs" costs nothing; only the five
//! predefined entities and character references are resolved, in the text
//! kept. Element nesting is limited to [`MAX_DEPTH`] and each kept value to
//! [`MAX_VALUE_LEN`] bytes; attributes of elements we do not read are never
//! copied, however long.

use std::borrow::Cow;

use anbao_model::asset::{AssetDraft, AssetType, ComponentDraft, ComponentKind};
use quick_xml::XmlVersion;
use quick_xml::errors::SyntaxError;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};

use crate::cpe::cpe22_to_cpe23;
use crate::import::{ImportParse, ParsedRow, asset_problems, component_problems};
use crate::text::TextEncoding;

/// Deepest element nesting accepted (nmap's own output is about 6 deep).
pub const MAX_DEPTH: usize = 64;
/// Longest attribute value or element text kept, in bytes.
pub const MAX_VALUE_LEN: usize = 8 * 1024;

/// Why an nmap XML file could not be read. Positions are 1-based line and
/// column (in characters) and the 0-based byte offset.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum NmapError {
    #[error("not UTF-8: invalid byte at offset {offset}")]
    NotUtf8 { offset: usize },
    /// The input ends before the document does.
    #[error("truncated XML at line {line}, column {column} (byte {offset}): {detail}")]
    Truncated { line: usize, column: usize, offset: usize, detail: String },
    /// Not well-formed XML.
    #[error("malformed XML at line {line}, column {column} (byte {offset}): {detail}")]
    Malformed { line: usize, column: usize, offset: usize, detail: String },
    #[error("elements nested deeper than {max} at line {line}, column {column} (byte {offset})")]
    TooDeep { max: usize, line: usize, column: usize, offset: usize },
    #[error("{what} at line {line}, column {column} (byte {offset}) is {len} bytes long; at most {max} are kept")]
    TooLong { what: String, len: usize, max: usize, line: usize, column: usize, offset: usize },
    /// Well-formed, but a value nmap would never write (a port number that
    /// is not a number, an unknown address type).
    #[error("{what} {value:?} at line {line}, column {column} (byte {offset}) is not valid")]
    BadValue { what: String, value: String, line: usize, column: usize, offset: usize },
    #[error("not an nmap XML report: the root element is <{root}>, not <nmaprun>")]
    NotNmap { root: String },
    #[error("no XML element in the input")]
    Empty,
}

/// A parsed `nmap -oX` report.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NmapScan {
    /// The command line nmap ran (`args` of `<nmaprun>`).
    pub args: String,
    /// nmap's version.
    pub version: String,
    pub hosts: Vec<NmapHost>,
}

/// One `<host>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NmapHost {
    pub addresses: Vec<NmapAddress>,
    pub hostnames: Vec<NmapHostname>,
    /// `up`, `down`, `unknown` or `skipped`; empty when nmap gave none.
    pub status: String,
    pub ports: Vec<NmapPort>,
    /// OS guesses, best first as nmap lists them.
    pub os_matches: Vec<NmapOsMatch>,
}

/// What kind of address an `<address>` holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AddressKind {
    Ipv4,
    Ipv6,
    Mac,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NmapAddress {
    pub addr: String,
    pub kind: AddressKind,
    /// The NIC vendor nmap looked up for a MAC address; empty otherwise.
    pub vendor: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NmapHostname {
    pub name: String,
    /// `user` (given on the command line) or `PTR` (reverse DNS).
    pub kind: String,
}

/// One `<port>` and what `-sV` found on it. Text fields are empty when nmap
/// gave none.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NmapPort {
    /// `tcp`, `udp`, `sctp` or `ip`.
    pub protocol: String,
    pub port: u16,
    /// `open`, `closed`, `filtered`, `open|filtered` …
    pub state: String,
    /// The service name (`http`, `ssh`).
    pub service: String,
    pub product: String,
    pub version: String,
    pub extrainfo: String,
    /// CPEs as nmap writes them: CPE 2.2 URIs (`cpe:/a:openbsd:openssh:8.9p1`).
    pub cpes: Vec<String>,
}

/// One `<osmatch>`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NmapOsMatch {
    pub name: String,
    /// 0–100.
    pub accuracy: u8,
    /// The CPE 2.2 URIs of its `<osclass>` elements.
    pub cpes: Vec<String>,
}

/// Byte offset to 1-based line and column (column counted in characters).
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut cut = offset.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let before = text.get(..cut).unwrap_or_default();
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before.get(line_start..).unwrap_or_default().chars().count() + 1;
    (line, column)
}

/// Where an error happened, for the error constructors.
#[derive(Clone, Copy)]
struct At<'t> {
    text: &'t str,
    offset: usize,
}

impl At<'_> {
    fn lc(self) -> (usize, usize, usize) {
        let (l, c) = line_column(self.text, self.offset);
        (l, c, self.offset)
    }
    fn malformed(self, detail: impl Into<String>) -> NmapError {
        let (line, column, offset) = self.lc();
        NmapError::Malformed { line, column, offset, detail: detail.into() }
    }
    fn truncated(self, detail: impl Into<String>) -> NmapError {
        let (line, column, offset) = self.lc();
        NmapError::Truncated { line, column, offset, detail: detail.into() }
    }
    fn too_long(self, what: impl Into<String>, len: usize) -> NmapError {
        let (line, column, offset) = self.lc();
        NmapError::TooLong { what: what.into(), len, max: MAX_VALUE_LEN, line, column, offset }
    }
    fn bad_value(self, what: impl Into<String>, value: &str) -> NmapError {
        let (line, column, offset) = self.lc();
        let value: String = value.chars().take(64).collect();
        NmapError::BadValue { what: what.into(), value, line, column, offset }
    }
}

/// The value of attribute `name` of `e`, entity references resolved;
/// `Ok(None)` when absent.
fn attr(e: &BytesStart<'_>, name: &str, at: At<'_>) -> Result<Option<String>, NmapError> {
    let mut attributes = e.attributes();
    // Duplicate checks are quadratic in the number of attributes; the first
    // occurrence wins instead.
    attributes.with_checks(false);
    for a in attributes {
        let a = a.map_err(|err| at.malformed(err.to_string()))?;
        if a.key.local_name().as_ref() != name {
            continue;
        }
        if a.value.len() > MAX_VALUE_LEN {
            return Err(at.too_long(format!("attribute {name:?}"), a.value.len()));
        }
        let value = a
            .normalized_value_with(XmlVersion::Implicit1_0, 1, resolve_predefined_entity)
            .map_err(|err| at.malformed(format!("attribute {name:?}: {err}")))?;
        return Ok(Some(value.into_owned()));
    }
    Ok(None)
}

fn attr_or_empty(e: &BytesStart<'_>, name: &str, at: At<'_>) -> Result<String, NmapError> {
    Ok(attr(e, name, at)?.unwrap_or_default())
}

/// The text an entity or character reference stands for.
fn resolve_ref(r: &BytesRef<'_>, at: At<'_>) -> Result<Cow<'static, str>, NmapError> {
    match r.resolve_char_ref() {
        Ok(Some(c)) => Ok(Cow::Owned(c.to_string())),
        Ok(None) => resolve_predefined_entity(r)
            .map(Cow::Borrowed)
            .ok_or_else(|| at.malformed(format!("unknown entity &{};", &**r))),
        Err(e) => Err(at.malformed(e.to_string())),
    }
}

/// Where text being collected goes when its element ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Capture {
    ServiceCpe,
    OsCpe,
}

/// Parser state: the element path and the objects being built.
struct State {
    stack: Vec<String>,
    root_seen: bool,
    root_closed: bool,
    scan: NmapScan,
    host: Option<NmapHost>,
    port: Option<NmapPort>,
    os_match: Option<NmapOsMatch>,
    capture: Option<(Capture, String)>,
}

impl State {
    fn parent(&self) -> &str {
        self.stack.last().map_or("", String::as_str)
    }

    fn grandparent(&self) -> &str {
        self.stack.len().checked_sub(2).and_then(|i| self.stack.get(i)).map_or("", String::as_str)
    }

    fn start(&mut self, e: &BytesStart<'_>, at: At<'_>) -> Result<(), NmapError> {
        let qname = e.name();
        let name = qname.local_name();
        let name: &str = name.as_ref();
        if self.stack.is_empty() {
            if self.root_closed {
                return Err(at.malformed(format!("element <{name}> after the end of the document")));
            }
            if name != "nmaprun" {
                let root: String = name.chars().take(64).collect();
                return Err(NmapError::NotNmap { root });
            }
            self.root_seen = true;
            self.scan.args = attr_or_empty(e, "args", at)?;
            self.scan.version = attr_or_empty(e, "version", at)?;
            return Ok(());
        }
        let in_host = self.host.is_some();
        match (self.parent(), name) {
            ("nmaprun", "host") => self.host = Some(NmapHost::default()),
            ("host", "status") if in_host => {
                let state = attr_or_empty(e, "state", at)?;
                if let Some(h) = self.host.as_mut() {
                    h.status = state;
                }
            }
            ("host", "address") if in_host => {
                let addr = attr_or_empty(e, "addr", at)?;
                let kind = match attr(e, "addrtype", at)?.as_deref() {
                    None | Some("ipv4") => AddressKind::Ipv4,
                    Some("ipv6") => AddressKind::Ipv6,
                    Some("mac") => AddressKind::Mac,
                    Some(other) => return Err(at.bad_value("address type", other)),
                };
                let vendor = attr_or_empty(e, "vendor", at)?;
                if let Some(h) = self.host.as_mut() {
                    h.addresses.push(NmapAddress { addr, kind, vendor });
                }
            }
            ("hostnames", "hostname") if in_host && self.grandparent() == "host" => {
                let name = attr_or_empty(e, "name", at)?;
                let kind = attr_or_empty(e, "type", at)?;
                if let Some(h) = self.host.as_mut() {
                    h.hostnames.push(NmapHostname { name, kind });
                }
            }
            ("ports", "port") if in_host && self.grandparent() == "host" => {
                let protocol = attr_or_empty(e, "protocol", at)?;
                let portid = attr_or_empty(e, "portid", at)?;
                let port = portid.trim().parse::<u16>().map_err(|_| at.bad_value("port number", &portid))?;
                self.port = Some(NmapPort { protocol, port, ..NmapPort::default() });
            }
            ("port", "state") if self.port.is_some() => {
                let state = attr_or_empty(e, "state", at)?;
                if let Some(p) = self.port.as_mut() {
                    p.state = state;
                }
            }
            ("port", "service") if self.port.is_some() => {
                let service = attr_or_empty(e, "name", at)?;
                let product = attr_or_empty(e, "product", at)?;
                let version = attr_or_empty(e, "version", at)?;
                let extrainfo = attr_or_empty(e, "extrainfo", at)?;
                if let Some(p) = self.port.as_mut() {
                    *p = NmapPort { service, product, version, extrainfo, ..std::mem::take(p) };
                }
            }
            ("service", "cpe") if self.port.is_some() => self.capture = Some((Capture::ServiceCpe, String::new())),
            ("os", "osmatch") if in_host && self.grandparent() == "host" => {
                let name = attr_or_empty(e, "name", at)?;
                let accuracy = attr_or_empty(e, "accuracy", at)?;
                let accuracy = match accuracy.trim() {
                    "" => 0,
                    a => a.parse::<u8>().ok().filter(|a| *a <= 100).ok_or_else(|| at.bad_value("OS accuracy", a))?,
                };
                self.os_match = Some(NmapOsMatch { name, accuracy, cpes: Vec::new() });
            }
            ("osclass", "cpe") if self.os_match.is_some() => self.capture = Some((Capture::OsCpe, String::new())),
            _ => {}
        }
        Ok(())
    }

    fn end(&mut self, name: &str) {
        match name {
            "host" if self.stack.len() == 1 => {
                if let Some(h) = self.host.take() {
                    self.scan.hosts.push(h);
                }
            }
            "port" => {
                if let (Some(p), Some(h)) = (self.port.take(), self.host.as_mut()) {
                    h.ports.push(p);
                }
            }
            "osmatch" => {
                if let (Some(m), Some(h)) = (self.os_match.take(), self.host.as_mut()) {
                    h.os_matches.push(m);
                }
            }
            "cpe" => match self.capture.take() {
                Some((Capture::ServiceCpe, text)) => {
                    if let Some(p) = self.port.as_mut()
                        && !text.trim().is_empty()
                    {
                        p.cpes.push(text.trim().to_owned());
                    }
                }
                Some((Capture::OsCpe, text)) => {
                    if let Some(m) = self.os_match.as_mut()
                        && !text.trim().is_empty()
                    {
                        m.cpes.push(text.trim().to_owned());
                    }
                }
                None => {}
            },
            _ => {}
        }
    }

    fn text(&mut self, s: &str, at: At<'_>) -> Result<(), NmapError> {
        if let Some((_, buf)) = self.capture.as_mut() {
            if buf.len() + s.len() > MAX_VALUE_LEN {
                return Err(at.too_long("<cpe> text", buf.len() + s.len()));
            }
            buf.push_str(s);
        }
        Ok(())
    }
}

/// Parses `nmap -oX` output. Tolerates what nmap writes (XML declaration,
/// `<!DOCTYPE nmaprun>`, the stylesheet processing instruction, a UTF-8
/// byte-order mark) and ignores elements it does not know.
pub fn parse_nmap_xml(bytes: &[u8]) -> Result<NmapScan, NmapError> {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let bom = bytes.len() - body.len();
    let text = std::str::from_utf8(body).map_err(|e| NmapError::NotUtf8 { offset: bom + e.valid_up_to() })?;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut state = State {
        stack: Vec::new(),
        root_seen: false,
        root_closed: false,
        scan: NmapScan::default(),
        host: None,
        port: None,
        os_match: None,
        capture: None,
    };
    loop {
        let event_start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let at = At { text, offset: event_start };
        let event = match reader.read_event() {
            Ok(event) => event,
            Err(err) => {
                let offset = usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
                let at = At { text, offset };
                return Err(match &err {
                    quick_xml::Error::Syntax(
                        SyntaxError::UnclosedPI
                        | SyntaxError::UnclosedXmlDecl
                        | SyntaxError::UnclosedComment
                        | SyntaxError::UnclosedDoctype
                        | SyntaxError::UnclosedCData
                        | SyntaxError::UnclosedTag
                        | SyntaxError::UnclosedSingleQuotedAttributeValue
                        | SyntaxError::UnclosedDoubleQuotedAttributeValue,
                    ) => at.truncated(err.to_string()),
                    _ => at.malformed(err.to_string()),
                });
            }
        };
        match event {
            Event::Start(e) => {
                if state.stack.len() >= MAX_DEPTH {
                    let (line, column, offset) = at.lc();
                    return Err(NmapError::TooDeep { max: MAX_DEPTH, line, column, offset });
                }
                state.start(&e, at)?;
                let qname = e.name();
                let local = qname.local_name();
                let name: &str = local.as_ref();
                state.stack.push(name.to_owned());
            }
            Event::Empty(e) => {
                state.start(&e, at)?;
                let qname = e.name();
                state.end_empty(qname.local_name().as_ref());
            }
            Event::End(_) => {
                let name = state.stack.pop().unwrap_or_default();
                state.end(&name);
                if state.stack.is_empty() {
                    state.root_closed = true;
                }
            }
            Event::Text(t) => state.text(&t.xml10_content(), at)?,
            Event::CData(t) => state.text(&t.xml10_content(), at)?,
            Event::GeneralRef(r) => {
                if state.capture.is_some() {
                    let resolved = resolve_ref(&r, at)?;
                    state.text(&resolved, at)?;
                }
            }
            Event::Decl(_) | Event::PI(_) | Event::DocType(_) | Event::Comment(_) => {}
            Event::Eof => {
                if let Some(open) = state.stack.last() {
                    let open: String = open.chars().take(64).collect();
                    return Err(at.truncated(format!("input ends inside <{open}>")));
                }
                if !state.root_seen {
                    return Err(NmapError::Empty);
                }
                return Ok(state.scan);
            }
        }
    }
}

impl State {
    /// An empty element `<x/>`: its start was handled; close it at once.
    fn end_empty(&mut self, name: &str) {
        if self.stack.is_empty() {
            // `<nmaprun/>`
            self.root_closed = true;
            return;
        }
        // `end` expects the element's parent on top of the stack, as after
        // popping a started element.
        self.end(name);
    }
}

/// Who answers for the assets an nmap scan finds: nmap cannot know, so the
/// caller supplies it (values as in [`AssetDraft`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AssetDefaults {
    /// Owning organisation unit: id or code.
    pub org_unit: String,
    /// Responsible department: id or code.
    pub responsible_department: String,
    /// Responsible person's name.
    pub responsible_person: String,
    pub operator_contact: String,
    pub oncall_phone: String,
    /// Empty for the model's default (`planned`).
    pub lifecycle: String,
    /// Empty for the model's default (`medium`).
    pub criticality: String,
}

/// The vendor component of a CPE 2.3 formatted string, unless it is a
/// wildcard.
fn cpe23_vendor(cpe: &str) -> String {
    let vendor = cpe.split(':').nth(3).unwrap_or_default();
    if vendor == "*" || vendor == "-" { String::new() } else { vendor.replace('\\', "") }
}

impl NmapHost {
    /// The first IPv4 or IPv6 address, in the order nmap listed them.
    pub fn first_ip(&self) -> Option<&str> {
        self.addresses.iter().find(|a| a.kind != AddressKind::Mac).map(|a| a.addr.as_str())
    }

    /// An asset draft for this host: type `device`; identifier the first IP
    /// (else the MAC address); name the first host name (else the
    /// identifier); responsibility from `defaults`. Components: one
    /// `service` line per distinct product nmap identified on an open port,
    /// its CPE the first `cpe:/a:` URI converted to CPE 2.3 and its vendor
    /// taken from that CPE; and one `os` line for the best OS match, if any.
    /// The draft is not checked: see [`NmapScan::to_import`].
    pub fn to_asset(&self, defaults: &AssetDefaults) -> (AssetDraft, Vec<ComponentDraft>) {
        let identifier =
            self.first_ip().or_else(|| self.addresses.first().map(|a| a.addr.as_str())).unwrap_or_default().to_owned();
        let name = self
            .hostnames
            .iter()
            .map(|h| h.name.trim())
            .find(|n| !n.is_empty())
            .map_or_else(|| identifier.clone(), str::to_owned);
        let draft = AssetDraft {
            name,
            asset_type: AssetType::Device.as_str().to_owned(),
            identifier,
            org_unit: defaults.org_unit.clone(),
            responsible_department: defaults.responsible_department.clone(),
            responsible_person: defaults.responsible_person.clone(),
            operator_contact: defaults.operator_contact.clone(),
            oncall_phone: defaults.oncall_phone.clone(),
            lifecycle: defaults.lifecycle.clone(),
            criticality: defaults.criticality.clone(),
            ..AssetDraft::default()
        };
        let mut components: Vec<ComponentDraft> = Vec::new();
        for port in self.ports.iter().filter(|p| p.state == "open" && !p.product.trim().is_empty()) {
            let cpe = port
                .cpes
                .iter()
                .filter(|c| c.to_ascii_lowercase().starts_with("cpe:/a:"))
                .find_map(|c| cpe22_to_cpe23(c).ok())
                .unwrap_or_default();
            let component = ComponentDraft {
                kind: ComponentKind::Service.as_str().to_owned(),
                vendor: cpe23_vendor(&cpe),
                product: port.product.trim().to_owned(),
                version: port.version.trim().to_owned(),
                cpe,
                ..ComponentDraft::default()
            };
            if !components.contains(&component) {
                components.push(component);
            }
        }
        let best = self.os_matches.iter().fold(None::<&NmapOsMatch>, |best, m| match best {
            Some(b) if b.accuracy >= m.accuracy => Some(b),
            _ => Some(m),
        });
        if let Some(os) = best.filter(|m| !m.name.trim().is_empty()) {
            let cpe = os.cpes.iter().find_map(|c| cpe22_to_cpe23(c).ok()).unwrap_or_default();
            components.push(ComponentDraft {
                kind: ComponentKind::OperatingSystem.as_str().to_owned(),
                vendor: cpe23_vendor(&cpe),
                product: os.name.trim().to_owned(),
                cpe,
                ..ComponentDraft::default()
            });
        }
        (draft, components)
    }
}

impl NmapScan {
    /// The hosts that are up, as checked asset drafts: `line` is the 1-based
    /// position of the host in the report; errors (say, `defaults` left
    /// `responsible_person` empty) name the host and field like any import.
    pub fn to_import(&self, defaults: &AssetDefaults) -> ImportParse {
        let mut out = ImportParse::new(TextEncoding::Utf8);
        for (i, host) in self.hosts.iter().enumerate() {
            if host.status != "up" {
                continue;
            }
            let n = i + 1;
            let (draft, components) = host.to_asset(defaults);
            let label = format!("host {n} ({})", draft.identifier);
            let before = out.errors.len();
            for p in asset_problems(&draft) {
                out.errors.push(crate::RowError {
                    line: n,
                    field: Some(p.field.clone()),
                    message: format!("{label}: {}: {}", p.field, p.reason),
                });
            }
            for (j, c) in components.iter().enumerate() {
                for p in component_problems(c) {
                    let field = format!("components[{j}].{}", p.field);
                    out.errors.push(crate::RowError {
                        line: n,
                        field: Some(field.clone()),
                        message: format!("{label}: {field}: {}", p.reason),
                    });
                }
            }
            if out.errors.len() == before {
                out.rows.push(ParsedRow { line: n, draft, components });
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/bin/../share/nmap/nmap.xsl" type="text/xsl"?>
<nmaprun scanner="nmap" args="nmap -sV -oX - 192.0.2.10" version="7.93">
<hosthint><status state="up" reason="unknown-response"/><address addr="192.0.2.99" addrtype="ipv4"/></hosthint>
<host starttime="1" endtime="2"><status state="up" reason="syn-ack" reason_ttl="0"/>
<address addr="192.0.2.10" addrtype="ipv4"/>
<address addr="00:11:22:33:44:55" addrtype="mac" vendor="Huawei Technologies"/>
<hostnames><hostname name="dns1.example.cn" type="PTR"/></hostnames>
<ports><extraports state="closed" count="997"><extrareasons reason="conn-refused" count="997"/></extraports>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="0"/><service name="ssh" product="OpenSSH" version="8.9p1 Ubuntu 3ubuntu0.6" extrainfo="Ubuntu Linux; protocol 2.0" ostype="Linux" method="probed" conf="10"><cpe>cpe:/a:openbsd:openssh:8.9p1</cpe><cpe>cpe:/o:linux:linux_kernel</cpe></service></port>
<port protocol="udp" portid="53"><state state="open" reason="udp-response"/><service name="domain" product="ISC BIND" version="9.18.18&#x2d;0ubuntu0.22.04.1" method="probed" conf="10"><cpe>cpe:/a:isc:bind:9.18.18-0ubuntu0.22.04.1</cpe></service></port>
<port protocol="tcp" portid="80"><state state="closed" reason="conn-refused"/><service name="http" method="table" conf="3"/></port>
</ports>
<os><osmatch name="Linux 4.15 - 5.8" accuracy="96" line="1"><osclass type="general purpose" vendor="Linux" osfamily="Linux" osgen="4.X" accuracy="96"><cpe>cpe:/o:linux:linux_kernel:4</cpe></osclass></osmatch>
<osmatch name="Linux 5.0 - 5.4" accuracy="95" line="2"/></os>
</host>
<runstats><finished time="2" elapsed="1.00" exit="success"/><hosts up="1" down="0" total="1"/></runstats>
</nmaprun>
"#;

    #[test]
    fn reads_hosts_ports_and_os() {
        let scan = parse_nmap_xml(SMALL.as_bytes()).unwrap();
        assert_eq!(scan.version, "7.93");
        assert_eq!(scan.hosts.len(), 1, "the hosthint is not a host");
        let h = &scan.hosts[0];
        assert_eq!(h.status, "up");
        assert_eq!(h.first_ip(), Some("192.0.2.10"));
        assert_eq!(h.addresses[1].kind, AddressKind::Mac);
        assert_eq!(h.addresses[1].vendor, "Huawei Technologies");
        assert_eq!(h.hostnames[0].name, "dns1.example.cn");
        assert_eq!(h.ports.len(), 3);
        assert_eq!(h.ports[0].cpes, ["cpe:/a:openbsd:openssh:8.9p1", "cpe:/o:linux:linux_kernel"]);
        assert_eq!(h.ports[1].version, "9.18.18-0ubuntu0.22.04.1");
        assert_eq!((h.ports[2].state.as_str(), h.ports[2].product.as_str()), ("closed", ""));
        assert_eq!(h.os_matches.len(), 2);
        assert_eq!(h.os_matches[0].cpes, ["cpe:/o:linux:linux_kernel:4"]);
    }

    #[test]
    fn host_to_asset() {
        let scan = parse_nmap_xml(SMALL.as_bytes()).unwrap();
        let defaults = AssetDefaults {
            org_unit: "GD".into(),
            responsible_department: "GD-NOC".into(),
            responsible_person: "张伟".into(),
            ..AssetDefaults::default()
        };
        let (draft, components) = scan.hosts[0].to_asset(&defaults);
        assert_eq!((draft.name.as_str(), draft.identifier.as_str()), ("dns1.example.cn", "192.0.2.10"));
        assert_eq!(draft.asset_type, "device");
        assert_eq!(draft.responsible_person, "张伟");
        let lines: Vec<(&str, &str, &str, &str)> = components
            .iter()
            .map(|c| (c.kind.as_str(), c.vendor.as_str(), c.product.as_str(), c.cpe.as_str()))
            .collect();
        assert_eq!(
            lines,
            [
                ("service", "openbsd", "OpenSSH", "cpe:2.3:a:openbsd:openssh:8.9p1:*:*:*:*:*:*:*"),
                ("service", "isc", "ISC BIND", "cpe:2.3:a:isc:bind:9.18.18-0ubuntu0.22.04.1:*:*:*:*:*:*:*"),
                ("os", "linux", "Linux 4.15 - 5.8", "cpe:2.3:o:linux:linux_kernel:4:*:*:*:*:*:*:*"),
            ]
        );
        let import = scan.to_import(&defaults);
        assert_eq!(import.errors, []);
        assert_eq!(import.rows.len(), 1);
        let import = scan.to_import(&AssetDefaults::default());
        let fields: Vec<&str> = import.errors.iter().filter_map(|e| e.field.as_deref()).collect();
        assert_eq!(fields, ["org_unit", "responsible_department", "responsible_person"]);
        assert!(import.errors[0].message.starts_with("host 1 (192.0.2.10): org_unit"));
    }

    #[test]
    fn no_hostname_names_by_ip() {
        let xml =
            r#"<nmaprun><host><status state="up"/><address addr="2001:db8::1" addrtype="ipv6"/></host></nmaprun>"#;
        let scan = parse_nmap_xml(xml.as_bytes()).unwrap();
        let (d, c) = scan.hosts[0].to_asset(&AssetDefaults::default());
        assert_eq!((d.name.as_str(), d.identifier.as_str()), ("2001:db8::1", "2001:db8::1"));
        assert!(c.is_empty());
    }

    fn err(xml: &str) -> NmapError {
        parse_nmap_xml(xml.as_bytes()).unwrap_err()
    }

    #[test]
    fn malformed_and_truncated_name_the_position() {
        let cut = &SMALL[..SMALL.find("<port protocol=\"udp\"").unwrap() + 10];
        match err(cut) {
            NmapError::Truncated { line, .. } => assert_eq!(line, 12),
            other => panic!("{other:?}"),
        }
        let cut = &SMALL[..SMALL.find("</host>").unwrap()];
        assert!(matches!(err(cut), NmapError::Truncated { line: 17, .. }), "{:?}", err(cut));
        match err("<nmaprun>\n<host>\n</hots>\n</nmaprun>") {
            NmapError::Malformed { line, column, .. } => assert_eq!((line, column), (3, 1)),
            other => panic!("{other:?}"),
        }
        assert!(matches!(err("<html></html>"), NmapError::NotNmap { .. }));
        assert!(matches!(err(""), NmapError::Empty));
        assert!(matches!(err("<nmaprun/><nmaprun/>"), NmapError::Malformed { .. }));
        assert!(matches!(
            err("<nmaprun><host><ports><port portid=\"http\"/></ports></host></nmaprun>"),
            NmapError::BadValue { .. }
        ));
        assert!(matches!(err("ab\u{0}\u{80}"), NmapError::Empty | NmapError::Malformed { .. }));
        assert!(matches!(parse_nmap_xml(b"<nmaprun>\xFF"), Err(NmapError::NotUtf8 { offset: 9 })));
    }

    #[test]
    fn hostile_inputs() {
        // Billion laughs: entities declared in the DTD are never expanded.
        let mut lol = String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE nmaprun [\n<!ENTITY lol \"lol\">\n");
        for i in 1..10 {
            let prev = if i == 1 { "lol".to_owned() } else { format!("lol{}", i - 1) };
            lol.push_str(&format!("<!ENTITY lol{i} \"{}\">\n", format!("&{prev};").repeat(10)));
        }
        lol.push_str("]>\n<nmaprun args=\"&lol9;\"><host><status state=\"up\"/></host></nmaprun>");
        assert!(matches!(err(&lol), NmapError::Malformed { .. }), "{:?}", err(&lol));
        let text = lol.replace("args=\"&lol9;\"", "").replace(
            "<status state=\"up\"/>",
            "<ports><port portid=\"1\"><service><cpe>&lol9;</cpe></service></port></ports>",
        );
        assert!(matches!(err(&text), NmapError::Malformed { .. }), "{:?}", err(&text));
        let ok = lol.replace("args=\"&lol9;\"", "");
        assert_eq!(parse_nmap_xml(ok.as_bytes()).unwrap().hosts.len(), 1);
        // Deep nesting.
        let deep = format!("<nmaprun>{}", "<a>".repeat(100_000));
        assert!(matches!(err(&deep), NmapError::TooDeep { max: MAX_DEPTH, .. }));
        // A 100 MB attribute: not copied where unread, refused where read.
        let big = "A".repeat(100 * 1024 * 1024);
        let xml = format!("<nmaprun><host junk=\"{big}\"><status state=\"up\"/></host></nmaprun>");
        assert_eq!(parse_nmap_xml(xml.as_bytes()).unwrap().hosts.len(), 1);
        let xml = format!("<nmaprun args=\"{big}\"></nmaprun>");
        assert!(matches!(err(&xml), NmapError::TooLong { len, .. } if len == big.len()));
    }
}
