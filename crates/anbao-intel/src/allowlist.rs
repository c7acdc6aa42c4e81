//! Allowlists: values an import must not turn into indicators (the top
//! sites, public resolvers, CDN ranges, security vendors' own domains…),
//! from MISP warninglists and from entries our users add with a name.
//!
//! [`Warninglist::from_json`] reads MISP's `list.json` format: `name`,
//! `description`, `version` (default 1), `type` (`string`, `substring`,
//! `hostname`, `cidr`, `regex`; a list of types takes the first, as MISP
//! does; default `string`), `list` (an array, or an object of value →
//! comment), `matching_attributes` (MISP attribute types; empty or `ALL` =
//! every kind) and `category`.
//!
//! [`Allowlist::allows`] takes a value in normal form ([`crate::normalize()`])
//! and answers with the first list and entry that allow it. A list applies
//! only to the kinds its `matching_attributes` name (`ip-dst` → IPv4, IPv6
//! and CIDR values; `url`/`link`/`uri` → URLs; `domain`, `hostname` →
//! domains; …); a list naming only types we have no kind for applies to
//! nothing and is not loaded. Per list type:
//!
//! - `hostname`: the entry and every subdomain of it — for domains, the
//!   host of URLs and the domain of e-mail addresses. Entries are
//!   normalised as domains (lower case, punycode; a leading `.` or `*.` and
//!   a trailing `.` dropped); an IP address entry counts as a `/32` or
//!   `/128` network. `google.com` allows `google.com` and `mail.google.com`,
//!   not `google.com.evil.net`. One hash lookup per label of the value.
//! - `string`: the whole value, exactly; entries are kept as written and
//!   also in normal form when their kind is recognisable (so `8.8.8.8`,
//!   `Google.com` and an upper-case hash match their normal forms).
//! - `substring`: the entry occurs in the value, ASCII case-insensitively
//!   (MISP compares case-sensitively, but our values are mostly lower-case
//!   while lists are written by hand). One Aho-Corasick pass for all
//!   substring entries.
//! - `cidr`: IPv4/IPv6 values inside a listed network; CIDR values wholly
//!   inside one; URLs whose host is an IP address. Entries may be bare
//!   addresses; host bits in an entry are masked off (it is our list, not
//!   a feed, so no question to ask). One hash map per prefix length, like
//!   the [`IndicatorIndex`](crate::IndicatorIndex).
//! - `regex`: the `regex` crate, unanchored like PHP's `preg_match`, each
//!   compiled with a size limit ([`REGEX_SIZE_LIMIT`]); MISP writes them
//!   PHP-style, `/…/flags` (or `#…#`, `~…~`, `{…}`, …): the delimiters are
//!   removed and the flags `i`, `m`, `s`, `x`, `U` mapped (`u`, `D` need
//!   nothing; `A` anchors at the start). See [`php_regex`]. Checked one
//!   after another: regex warninglists are few and short.
//!
//! Ad-hoc entries ([`AllowlistBuilder::add_entries`]) are typed by shape:
//! an IP address or CIDR is a network, a domain (also `*.example.com` or
//! `.example.com`) allows itself and its subdomains, any other recognised
//! value (URL, hash, e-mail…) allows exactly its normal form. Entries that
//! cannot be read come back as [`BadEntry`]s; the rest are loaded.
//!
//! Checks run cheapest first (string, hostname, CIDR, substring, regex) and
//! the first hit is returned.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use aho_corasick::{AhoCorasick, AhoCorasickBuilder, MatchKind};
use regex::{Regex, RegexBuilder};
use serde_json::Value;

use crate::compress::decode_text;
use crate::normalize::{IndicatorKind, detect_kind, mask_v4, mask_v6, normalize, normalize_domain};
use crate::record::FeedError;

const F: &str = "MISP warninglist";

/// Compiled size limit of one regex entry (bytes of the regex crate's
/// program), so a hostile list cannot make us build a huge automaton.
pub const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Longest regex source accepted.
const REGEX_MAX_LEN: usize = 4096;

/// How a warninglist's entries match.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WarninglistType {
    String,
    Substring,
    Hostname,
    Cidr,
    Regex,
}

impl WarninglistType {
    pub fn as_str(self) -> &'static str {
        match self {
            WarninglistType::String => "string",
            WarninglistType::Substring => "substring",
            WarninglistType::Hostname => "hostname",
            WarninglistType::Cidr => "cidr",
            WarninglistType::Regex => "regex",
        }
    }
}

/// A MISP warninglist as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warninglist {
    pub name: String,
    pub description: String,
    pub version: u64,
    pub list_type: WarninglistType,
    /// `false_positive`, `known`, or none.
    pub category: Option<String>,
    /// MISP attribute types; empty means all.
    pub matching_attributes: Vec<String>,
    /// The values, trimmed, without empties.
    pub entries: Vec<String>,
}

impl Warninglist {
    /// Reads a warninglist `list.json` (see the module doc).
    pub fn from_json(bytes: &[u8]) -> Result<Warninglist, FeedError> {
        let text = decode_text(bytes, F)?;
        let v: Value = serde_json::from_str(&text)
            .map_err(|e| FeedError::new(F, format!("line {} column {}", e.line(), e.column()), e.to_string()))?;
        if !v.is_object() {
            return Err(FeedError::new(F, "top level", "not an object"));
        }
        let s = |k: &str| v.get(k).and_then(Value::as_str).map(|x| x.trim().to_owned());
        let name = s("name").filter(|n| !n.is_empty()).ok_or_else(|| FeedError::new(F, "name", "missing"))?;
        let version = match v.get("version") {
            None | Some(Value::Null) => 1,
            Some(Value::Number(n)) => n.as_u64().ok_or_else(|| FeedError::new(F, "version", "not a whole number"))?,
            Some(Value::String(x)) => {
                x.trim().parse().map_err(|_| FeedError::new(F, "version", "not a whole number"))?
            }
            Some(_) => return Err(FeedError::new(F, "version", "not a number")),
        };
        let type_name = match v.get("type") {
            None | Some(Value::Null) => "string".to_owned(),
            Some(Value::String(t)) => t.trim().to_ascii_lowercase(),
            Some(Value::Array(ts)) => {
                ts.first().and_then(Value::as_str).unwrap_or("string").trim().to_ascii_lowercase()
            }
            Some(_) => return Err(FeedError::new(F, "type", "not a string")),
        };
        let list_type = match type_name.as_str() {
            "string" => WarninglistType::String,
            "substring" => WarninglistType::Substring,
            "hostname" => WarninglistType::Hostname,
            "cidr" => WarninglistType::Cidr,
            "regex" => WarninglistType::Regex,
            other => return Err(FeedError::new(F, "type", format!("unknown type {other:?}"))),
        };
        let entries: Vec<String> = match v.get("list") {
            Some(Value::Array(items)) => items
                .iter()
                .filter_map(|x| match x {
                    Value::String(s) => Some(s.trim().to_owned()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .filter(|x| !x.is_empty())
                .collect(),
            Some(Value::Object(map)) => map.keys().map(|k| k.trim().to_owned()).filter(|k| !k.is_empty()).collect(),
            _ => return Err(FeedError::new(F, "list", "missing, or neither an array nor an object")),
        };
        let matching_attributes = match v.get("matching_attributes") {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(|t| t.trim().to_owned()).collect(),
            _ => Vec::new(),
        };
        Ok(Warninglist {
            name,
            description: s("description").unwrap_or_default(),
            version,
            list_type,
            category: s("category").filter(|c| !c.is_empty()),
            matching_attributes,
            entries,
        })
    }
}

/// An entry that could not be loaded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadEntry {
    pub list: String,
    pub entry: String,
    pub reason: String,
}

/// Which list allowed a value, through which entry (in the form it was
/// matched: normalised for hostname, CIDR and recognisable string entries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllowHit<'a> {
    pub list: &'a str,
    pub entry: &'a str,
}

/// A bit per [`IndicatorKind`].
type KindMask = u16;

fn kind_bit(kind: IndicatorKind) -> KindMask {
    let i = IndicatorKind::ALL.iter().position(|k| *k == kind).unwrap_or(0);
    1 << i
}

const ALL_KINDS: KindMask = (1 << IndicatorKind::ALL.len()) - 1;

fn mask_of_types(types: &[String]) -> KindMask {
    if types.is_empty() {
        return ALL_KINDS;
    }
    let mut m = 0;
    for t in types {
        let lower = t.trim().to_ascii_lowercase();
        if lower == "all" {
            return ALL_KINDS;
        }
        for k in crate::misp::misp_type_kinds(&lower).unwrap_or_default() {
            m |= kind_bit(*k);
        }
    }
    m
}

/// Interned sets of list indexes, so a million entries in one list share
/// one set.
#[derive(Debug, Default)]
struct Sets {
    sets: Vec<Box<[u32]>>,
    ids: HashMap<Box<[u32]>, u32>,
}

impl Sets {
    fn intern(&mut self, set: Vec<u32>) -> u32 {
        if let Some(&id) = self.ids.get(set.as_slice()) {
            return id;
        }
        let id = u32::try_from(self.sets.len()).unwrap_or(u32::MAX);
        let b: Box<[u32]> = set.into_boxed_slice();
        self.sets.push(b.clone());
        self.ids.insert(b, id);
        id
    }

    /// The set `old` (if any) with `list` added.
    fn with(&mut self, old: Option<u32>, list: u32) -> u32 {
        let old_set: &[u32] = old.and_then(|o| self.sets.get(o as usize)).map_or(&[], |s| &s[..]);
        if old_set.contains(&list) {
            return old.unwrap_or_default();
        }
        if old_set.is_empty()
            && let Some(&id) = self.ids.get(&[list][..])
        {
            return id;
        }
        let mut v = old_set.to_vec();
        v.push(list);
        self.intern(v)
    }
}

fn add_key(map: &mut HashMap<Box<str>, u32>, sets: &mut Sets, key: &str, list: u32) {
    match map.get_mut(key) {
        Some(id) => *id = sets.with(Some(*id), list),
        None => {
            let id = sets.with(None, list);
            map.insert(key.into(), id);
        }
    }
}

#[derive(Debug)]
struct ListInfo {
    name: Box<str>,
    kinds: KindMask,
}

/// Collects warninglists and ad-hoc entries; [`AllowlistBuilder::build`]
/// makes the [`Allowlist`].
#[derive(Debug)]
pub struct AllowlistBuilder {
    lists: Vec<ListInfo>,
    sets: Sets,
    strings: HashMap<Box<str>, u32>,
    hostnames: HashMap<Box<str>, u32>,
    /// Bit `n` set when some hostname entry has `n` labels (127 = more).
    host_labels: u128,
    /// Kinds some string / hostname entry applies to.
    string_kinds: KindMask,
    host_kinds: KindMask,
    /// By prefix length: masked network → (set, entry text).
    v4: Vec<HashMap<u32, (u32, Box<str>)>>,
    v6: Vec<HashMap<u128, (u32, Box<str>)>>,
    substrings: Vec<(u32, Box<str>)>,
    regexes: Vec<(u32, Box<str>, Regex)>,
}

impl Default for AllowlistBuilder {
    fn default() -> Self {
        Self::new()
    }
}

impl AllowlistBuilder {
    pub fn new() -> Self {
        AllowlistBuilder {
            lists: Vec::new(),
            sets: Sets::default(),
            strings: HashMap::new(),
            hostnames: HashMap::new(),
            host_labels: 0,
            string_kinds: 0,
            host_kinds: 0,
            v4: vec![HashMap::new(); 33],
            v6: vec![HashMap::new(); 129],
            substrings: Vec::new(),
            regexes: Vec::new(),
        }
    }

    /// The index of list `name` applying to `kinds` (lists of the same name
    /// and kinds are merged).
    fn list_id(&mut self, name: &str, kinds: KindMask) -> u32 {
        if let Some(i) = self.lists.iter().position(|l| &*l.name == name && l.kinds == kinds) {
            return u32::try_from(i).unwrap_or(u32::MAX);
        }
        self.lists.push(ListInfo { name: name.into(), kinds });
        u32::try_from(self.lists.len() - 1).unwrap_or(u32::MAX)
    }

    /// Loads a warninglist; returns the entries it could not read.
    pub fn add_warninglist(&mut self, wl: &Warninglist) -> Vec<BadEntry> {
        let kinds = mask_of_types(&wl.matching_attributes);
        if kinds == 0 {
            return Vec::new();
        }
        let id = self.list_id(&wl.name, kinds);
        let mut bad = Vec::new();
        for e in &wl.entries {
            let res = match wl.list_type {
                WarninglistType::String => {
                    self.add_string(e, id);
                    Ok(())
                }
                WarninglistType::Hostname => self.add_hostname(e, id),
                WarninglistType::Cidr => self.add_cidr(e, id),
                WarninglistType::Substring => {
                    self.substrings.push((id, e.as_str().into()));
                    Ok(())
                }
                WarninglistType::Regex => php_regex(e).map(|re| self.regexes.push((id, e.as_str().into(), re))),
            };
            if let Err(reason) = res {
                bad.push(BadEntry { list: wl.name.clone(), entry: e.clone(), reason });
            }
        }
        bad
    }

    /// Adds entries our users typed, under the list name `list`, typed by
    /// shape (see the module doc).
    pub fn add_entries<'e>(&mut self, list: &str, entries: impl IntoIterator<Item = &'e str>) -> Vec<BadEntry> {
        let id = self.list_id(list, ALL_KINDS);
        let mut bad = Vec::new();
        for raw in entries {
            let e = raw.trim();
            if e.is_empty() {
                continue;
            }
            let wildcard = e.strip_prefix("*.").or_else(|| e.strip_prefix('.'));
            let res = if parse_network(e).is_ok() {
                self.add_cidr(e, id)
            } else if wildcard.is_some() || detect_kind(e) == Some(IndicatorKind::Domain) {
                self.add_hostname(e, id)
            } else {
                match detect_kind(e) {
                    Some(k) => normalize(k, e).map(|v| self.add_string(&v, id)).map_err(|x| x.reason),
                    None => Err("not a recognisable domain, address, network, URL, hash or e-mail address".to_owned()),
                }
            };
            if let Err(reason) = res {
                bad.push(BadEntry { list: list.to_owned(), entry: e.to_owned(), reason });
            }
        }
        bad
    }

    fn kinds_of(&self, id: u32) -> KindMask {
        self.lists.get(id as usize).map_or(0, |l| l.kinds)
    }

    fn add_string(&mut self, e: &str, id: u32) {
        self.string_kinds |= self.kinds_of(id);
        add_key(&mut self.strings, &mut self.sets, e, id);
        if let Some(k) = detect_kind(e)
            && let Ok(n) = normalize(k, e)
            && n != e
        {
            add_key(&mut self.strings, &mut self.sets, &n, id);
        }
    }

    fn add_hostname(&mut self, e: &str, id: u32) -> Result<(), String> {
        let e = e.trim();
        let e = e.strip_prefix("*.").unwrap_or(e).trim_matches('.');
        if parse_network(e).is_ok() {
            return self.add_cidr(e, id);
        }
        let d = normalize_domain(e)?;
        add_key(&mut self.hostnames, &mut self.sets, &d, id);
        self.host_labels |= 1 << label_count(&d);
        self.host_kinds |= self.kinds_of(id);
        Ok(())
    }

    fn add_cidr(&mut self, e: &str, id: u32) -> Result<(), String> {
        match parse_network(e)? {
            (IpAddr::V4(a), len) => {
                let net = u32::from(a) & mask_v4(len);
                let text: Box<str> = format!("{}/{len}", Ipv4Addr::from(net)).into();
                if let Some(m) = self.v4.get_mut(usize::from(len)) {
                    let old = m.get(&net).map(|(s, _)| *s);
                    let set = self.sets.with(old, id);
                    m.insert(net, (set, text));
                }
            }
            (IpAddr::V6(a), len) => {
                let net = u128::from(a) & mask_v6(len);
                let text: Box<str> = format!("{}/{len}", Ipv6Addr::from(net)).into();
                if let Some(m) = self.v6.get_mut(usize::from(len)) {
                    let old = m.get(&net).map(|(s, _)| *s);
                    let set = self.sets.with(old, id);
                    m.insert(net, (set, text));
                }
            }
        }
        Ok(())
    }

    pub fn build(self) -> Allowlist {
        let ac = if self.substrings.is_empty() {
            None
        } else {
            AhoCorasickBuilder::new()
                .ascii_case_insensitive(true)
                .match_kind(MatchKind::Standard)
                .build(self.substrings.iter().map(|(_, p)| p.as_bytes()))
                .ok()
        };
        let v4_lens = lens_of(&self.v4);
        let v6_lens = lens_of(&self.v6);
        let mut strings = self.strings;
        let mut hostnames = self.hostnames;
        strings.shrink_to_fit();
        hostnames.shrink_to_fit();
        Allowlist {
            lists: self.lists,
            sets: self.sets.sets,
            strings,
            hostnames,
            host_labels: self.host_labels,
            string_kinds: self.string_kinds,
            host_kinds: self.host_kinds,
            v4: self.v4,
            v6: self.v6,
            v4_lens,
            v6_lens,
            substrings: self.substrings,
            ac,
            regexes: self.regexes,
        }
    }
}

fn lens_of<K>(maps: &[HashMap<K, (u32, Box<str>)>]) -> Vec<u8> {
    let mut v: Vec<u8> =
        maps.iter().enumerate().filter(|(_, m)| !m.is_empty()).filter_map(|(l, _)| u8::try_from(l).ok()).collect();
    v.reverse();
    v
}

/// An address (as a full-length network) or `addr/len`, host bits allowed.
fn parse_network(s: &str) -> Result<(IpAddr, u8), String> {
    let (addr, len) = match s.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (s, None),
    };
    let addr = addr.strip_prefix('[').and_then(|a| a.strip_suffix(']')).unwrap_or(addr);
    let ip: IpAddr = addr.parse().map_err(|_| format!("{addr:?} is not an IP address"))?;
    let ip = match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    };
    let max = if ip.is_ipv4() { 32 } else { 128 };
    let len = match len {
        None => max,
        Some(l) => match l.parse::<u8>() {
            Ok(n) if n <= max && l.bytes().all(|b| b.is_ascii_digit()) => n,
            _ => return Err(format!("prefix length {l:?} is not 0 to {max}")),
        },
    };
    Ok((ip, len))
}

/// Compiles a MISP (PHP `preg`) regex: `/body/flags` with any
/// non-alphanumeric delimiter (brackets pair), or a bare pattern when it
/// does not start with a delimiter that closes (see the module doc).
pub fn php_regex(src: &str) -> Result<Regex, String> {
    let src = src.trim();
    if src.is_empty() {
        return Err("empty regex".to_owned());
    }
    if src.len() > REGEX_MAX_LEN {
        return Err(format!("regex longer than {REGEX_MAX_LEN} bytes"));
    }
    let mut chars = src.chars();
    let first = chars.next().unwrap_or(' ');
    let close = match first {
        '(' => ')',
        '{' => '}',
        '[' => ']',
        '<' => '>',
        c => c,
    };
    let close_at = src.rfind(close).filter(|&i| i > 0);
    let delimited = !(first.is_alphanumeric() || first == '\\' || first.is_whitespace()) && close_at.is_some();
    if let (true, Some(i)) = (delimited, close_at) {
        let flags = src.get(i + close.len_utf8()..).unwrap_or_default();
        if let Some(f) = flags.chars().find(|f| !"imsxuUDAJ".contains(*f)) {
            return Err(format!("unknown regex flag {f:?}"));
        }
    }
    let mut b = if delimited {
        let end = src.rfind(close).unwrap_or(src.len());
        let body = src.get(first.len_utf8()..end).unwrap_or_default();
        let flags = src.get(end + close.len_utf8()..).unwrap_or_default();
        // `\/` in a `/…/` regex is just `/`; the regex crate does not need it
        // escaped (and the escape is harmless there anyway).
        let body = if "/#~!@%,;".contains(first) && first == close {
            body.replace(&format!("\\{first}"), &first.to_string())
        } else {
            body.to_owned()
        };
        let body = if flags.contains('A') { format!("\\A(?:{body})") } else { body };
        let mut b = RegexBuilder::new(&body);
        for f in flags.chars() {
            match f {
                'i' => {
                    b.case_insensitive(true);
                }
                'm' => {
                    b.multi_line(true);
                }
                's' => {
                    b.dot_matches_new_line(true);
                }
                'x' => {
                    b.ignore_whitespace(true);
                }
                'U' => {
                    b.swap_greed(true);
                }
                _ => {}
            }
        }
        b
    } else {
        RegexBuilder::new(src)
    };
    b.size_limit(REGEX_SIZE_LIMIT).dfa_size_limit(REGEX_SIZE_LIMIT).build().map_err(|e| format!("bad regex: {e}"))
}

/// Allow lists built once, immutable; see the module doc.
#[derive(Debug)]
pub struct Allowlist {
    lists: Vec<ListInfo>,
    sets: Vec<Box<[u32]>>,
    strings: HashMap<Box<str>, u32>,
    hostnames: HashMap<Box<str>, u32>,
    host_labels: u128,
    string_kinds: KindMask,
    host_kinds: KindMask,
    v4: Vec<HashMap<u32, (u32, Box<str>)>>,
    v6: Vec<HashMap<u128, (u32, Box<str>)>>,
    v4_lens: Vec<u8>,
    v6_lens: Vec<u8>,
    substrings: Vec<(u32, Box<str>)>,
    ac: Option<AhoCorasick>,
    regexes: Vec<(u32, Box<str>, Regex)>,
}

impl Allowlist {
    pub fn builder() -> AllowlistBuilder {
        AllowlistBuilder::new()
    }

    /// Names of the loaded lists (a list name appears once per distinct
    /// set of kinds it applies to).
    pub fn list_names(&self) -> impl Iterator<Item = &str> {
        self.lists.iter().map(|l| &*l.name)
    }

    /// Whether nothing was loaded.
    pub fn is_empty(&self) -> bool {
        self.strings.is_empty()
            && self.hostnames.is_empty()
            && self.v4_lens.is_empty()
            && self.v6_lens.is_empty()
            && self.substrings.is_empty()
            && self.regexes.is_empty()
    }

    /// The first list of set `set` applying to `kind`.
    fn applicable(&self, set: u32, kind: IndicatorKind) -> Option<&str> {
        let bit = kind_bit(kind);
        self.sets
            .get(set as usize)?
            .iter()
            .filter_map(|&l| self.lists.get(l as usize))
            .find(|l| l.kinds & bit != 0)
            .map(|l| &*l.name)
    }

    fn list_applies(&self, list: u32, kind: IndicatorKind) -> Option<&str> {
        self.lists.get(list as usize).filter(|l| l.kinds & kind_bit(kind) != 0).map(|l| &*l.name)
    }

    /// The first list and entry allowing `value` (in normal form) of `kind`.
    pub fn allows(&self, kind: IndicatorKind, value: &str) -> Option<AllowHit<'_>> {
        use IndicatorKind as K;
        if self.string_kinds & kind_bit(kind) != 0
            && let Some((k, &set)) = self.strings.get_key_value(value)
            && let Some(list) = self.applicable(set, kind)
        {
            return Some(AllowHit { list, entry: k });
        }
        let host: Option<&str> = match kind {
            K::Domain => Some(value),
            K::Url => url_host(value),
            K::Email => value.rsplit_once('@').map(|(_, d)| d),
            _ => None,
        };
        if let Some(h) = host
            && let Some(hit) = self.hostname_hit(h, kind)
        {
            return Some(hit);
        }
        let network: Option<(IpAddr, u8)> = match kind {
            K::Ipv4 | K::Ipv6 => value.parse::<IpAddr>().ok().map(|ip| (ip, if ip.is_ipv4() { 32 } else { 128 })),
            K::Cidr => parse_network(value).ok().filter(|_| value.contains('/')),
            K::Url => host
                .map(|h| h.strip_prefix('[').and_then(|x| x.strip_suffix(']')).unwrap_or(h))
                .and_then(|h| h.parse::<IpAddr>().ok())
                .map(|ip| (ip, if ip.is_ipv4() { 32 } else { 128 })),
            _ => None,
        };
        if let Some((ip, len)) = network
            && let Some(hit) = self.network_hit(ip, len, kind)
        {
            return Some(hit);
        }
        if let Some(ac) = &self.ac {
            for m in ac.find_overlapping_iter(value) {
                if let Some((list, pat)) = self.substrings.get(m.pattern().as_usize())
                    && let Some(name) = self.list_applies(*list, kind)
                {
                    return Some(AllowHit { list: name, entry: pat });
                }
            }
        }
        for (list, src, re) in &self.regexes {
            if let Some(name) = self.list_applies(*list, kind)
                && re.is_match(value)
            {
                return Some(AllowHit { list: name, entry: src });
            }
        }
        None
    }

    fn hostname_hit(&self, host: &str, kind: IndicatorKind) -> Option<AllowHit<'_>> {
        if self.host_kinds & kind_bit(kind) == 0 {
            return None;
        }
        let mut rest = host.strip_suffix('.').unwrap_or(host);
        let mut labels = rest.split('.').count();
        loop {
            // Only suffixes with as many labels as some entry has (entries,
            // being domains of at most 253 characters, have at most 127).
            if labels <= 127
                && self.host_labels & (1 << labels) != 0
                && let Some((k, &set)) = self.hostnames.get_key_value(rest)
                && let Some(list) = self.applicable(set, kind)
            {
                return Some(AllowHit { list, entry: k });
            }
            rest = rest.split_once('.')?.1;
            labels = labels.saturating_sub(1);
        }
    }

    fn network_hit(&self, ip: IpAddr, len: u8, kind: IndicatorKind) -> Option<AllowHit<'_>> {
        let ip = match ip {
            IpAddr::V6(a) => a.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        match ip {
            IpAddr::V4(a) => {
                let bits = u32::from(a);
                for &l in self.v4_lens.iter().filter(|&&l| l <= len) {
                    if let Some((set, text)) = self.v4.get(usize::from(l)).and_then(|m| m.get(&(bits & mask_v4(l))))
                        && let Some(list) = self.applicable(*set, kind)
                    {
                        return Some(AllowHit { list, entry: text });
                    }
                }
            }
            IpAddr::V6(a) => {
                let bits = u128::from(a);
                for &l in self.v6_lens.iter().filter(|&&l| l <= len) {
                    if let Some((set, text)) = self.v6.get(usize::from(l)).and_then(|m| m.get(&(bits & mask_v6(l))))
                        && let Some(list) = self.applicable(*set, kind)
                    {
                        return Some(AllowHit { list, entry: text });
                    }
                }
            }
        }
        None
    }
}

/// Labels of a domain, at most 127 (a bit of a `u128`).
fn label_count(d: &str) -> u32 {
    u32::try_from(d.split('.').count()).unwrap_or(u32::MAX).min(127)
}

/// The host of a normalised URL (`scheme://[userinfo@]host[:port]/…`),
/// brackets kept for IPv6.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host_port.starts_with('[') {
        return host_port.find(']').and_then(|i| host_port.get(..=i));
    }
    Some(host_port.split_once(':').map_or(host_port, |(h, _)| h))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_of_urls() {
        assert_eq!(url_host("http://a.b.com/x"), Some("a.b.com"));
        assert_eq!(url_host("https://u:p@a.com:8443/x?y"), Some("a.com"));
        assert_eq!(url_host("http://[2001:db8::1]:80/"), Some("[2001:db8::1]"));
    }

    #[test]
    fn php_regexes() {
        let re = php_regex("/^evil\\.example\\/x/i").unwrap();
        assert!(re.is_match("EVIL.example/x"));
        let re = php_regex("#^a#").unwrap();
        assert!(re.is_match("abc"));
        let re = php_regex("{b+}").unwrap();
        assert!(re.is_match("abbb"));
        let re = php_regex("^plain$").unwrap();
        assert!(re.is_match("plain"));
        assert!(php_regex("/x/q").is_err());
        assert!(php_regex("/(/").is_err());
    }
}
