//! Domain names as the heuristics see them: lowercase ASCII, no trailing
//! dot, split into the registrable domain (one label left of the public
//! suffix) and the labels below it.
//!
//! The public suffix is found by a rule, not the full Public Suffix List:
//! the last label, or the last two when the last is a two-letter country
//! code and the one before it is a generic second level (`co`, `com`,
//! `net`, `org`, `gov`, `edu`, `ac`, `or`, `ne`, `go` …), as in `co.uk`,
//! `com.cn`, `ac.jp`. That covers the suffixes most names use; names under
//! rarer multi-label suffixes (`bj.cn`, private suffixes such as
//! `github.io`) get the suffix's own label as their registrable label,
//! which for these heuristics only means that label is judged instead of
//! the customer's (usually short, so the DGA scorer skips it). The benign
//! training list was split with the full ICANN list (see `data/README.md`).

use std::hash::BuildHasher;

/// Longest name text looked at. 253 characters on the wire; escapes
/// (`\DDD`) make the text form longer, so allow four times that.
pub(crate) const MAX_NAME_TEXT: usize = 1012;

/// Second-level labels that are part of the suffix under a ccTLD.
const GENERIC_SECOND_LEVEL: &[&str] = &[
    "ac", "co", "com", "edu", "gob", "go", "gov", "govt", "ltd", "mil", "ne", "net", "nhs", "nic", "nom", "or", "org",
    "plc", "sch",
];

/// Lowercases `name` into `buf` (ASCII only; other bytes kept) and strips
/// one trailing dot. `false` when the name is empty, the root, or longer
/// than [`MAX_NAME_TEXT`].
pub(crate) fn normalize_into(name: &str, buf: &mut String) -> bool {
    buf.clear();
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.is_empty() || name.len() > MAX_NAME_TEXT {
        return false;
    }
    buf.push_str(name);
    buf.make_ascii_lowercase();
    true
}

/// A name cut at its registrable domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Split<'a> {
    /// The whole name.
    pub name: &'a str,
    /// Labels left of the registrable domain, without the joining dot; may
    /// be empty.
    pub sub: &'a str,
    /// The registrable label (`example` of `www.example.co.uk`).
    pub label: &'a str,
    /// The public suffix (`co.uk`).
    pub suffix: &'a str,
    /// `label.suffix`.
    pub registrable: &'a str,
}

/// Splits a normalized name. `None` for single labels, names with an empty
/// label, reverse-lookup names (`.arpa`) and dotted IPv4 text.
pub(crate) fn split(name: &str) -> Option<Split<'_>> {
    let (rest, tld) = name.rsplit_once('.')?;
    if tld.is_empty() || tld == "arpa" || tld.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let (rest, suffix_start) = match rest.rsplit_once('.') {
        Some((before, second)) if tld.len() == 2 && GENERIC_SECOND_LEVEL.contains(&second) => {
            (before, before.len() + 1)
        }
        _ => (rest, rest.len() + 1),
    };
    let (sub, label) = match rest.rsplit_once('.') {
        Some((sub, label)) => (sub, label),
        None => ("", rest),
    };
    if label.is_empty() || (!sub.is_empty() && sub.split('.').any(str::is_empty)) {
        return None;
    }
    let suffix = name.get(suffix_start..)?;
    let registrable = name.get(suffix_start - label.len() - 1..)?;
    Some(Split { name, sub, label, suffix, registrable })
}

/// `true` when `name` is `domain` or a name under it.
pub(crate) fn is_at_or_under(name: &str, domain: &str) -> bool {
    name == domain || name.strip_suffix(domain).is_some_and(|head| head.ends_with('.'))
}

/// The name itself and every parent of it, longest first:
/// `a.b.c` → `a.b.c`, `b.c`, `c`.
pub(crate) fn self_and_parents(name: &str) -> impl Iterator<Item = &str> {
    let mut next = Some(name);
    std::iter::from_fn(move || {
        let current = next?;
        next = current.split_once('.').map(|(_, rest)| rest);
        Some(current)
    })
}

/// Shannon entropy in bits per symbol of the bytes of `text` (dots
/// included when the caller passes them).
pub(crate) fn entropy(text: &[u8]) -> f32 {
    if text.is_empty() {
        return 0.0;
    }
    let mut counts = [0u16; 256];
    for &b in text {
        if let Some(n) = counts.get_mut(usize::from(b)) {
            *n = n.saturating_add(1);
        }
    }
    let len = text.len() as f32;
    counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = f32::from(n) / len;
            -p * p.log2()
        })
        .sum()
}

/// A per-process keyed hash of text, whose 64 bits stand for the name in
/// the state tables. foldhash's `quality` variant with a random seed: the
/// names are chosen by whoever makes DNS queries, and without the seed they
/// cannot aim at collisions; SipHash did the same at about twice the cost.
#[derive(Debug, Clone, Default)]
pub(crate) struct Hasher {
    state: foldhash::quality::RandomState,
}

impl Hasher {
    pub(crate) fn hash(&self, text: &str) -> u64 {
        self.state.hash_one(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(name: &str) -> Option<(&str, &str, &str, &str)> {
        split(name).map(|s| (s.sub, s.label, s.suffix, s.registrable))
    }

    #[test]
    fn names_split_at_the_registrable_domain() {
        assert_eq!(parts("www.example.com"), Some(("www", "example", "com", "example.com")));
        assert_eq!(parts("example.com"), Some(("", "example", "com", "example.com")));
        assert_eq!(parts("a.b.example.co.uk"), Some(("a.b", "example", "co.uk", "example.co.uk")));
        assert_eq!(parts("icbc.com.cn"), Some(("", "icbc", "com.cn", "icbc.com.cn")));
        // `co` under a gTLD is an ordinary label.
        assert_eq!(parts("x.co.com"), Some(("x", "co", "com", "co.com")));
        // A bare two-label suffix is its own registrable domain by the rule.
        assert_eq!(parts("com.cn"), Some(("", "com", "cn", "com.cn")));
        assert_eq!(parts("localhost"), None);
        assert_eq!(parts("1.2.3.4"), None);
        assert_eq!(parts("4.3.2.1.in-addr.arpa"), None);
        assert_eq!(parts("a..example.com"), None);
        assert_eq!(parts(".com"), None);
    }

    #[test]
    fn normalizing_lowercases_and_drops_the_root_dot() {
        let mut buf = String::new();
        assert!(normalize_into("WwW.ExAmple.COM.", &mut buf));
        assert_eq!(buf, "www.example.com");
        assert!(!normalize_into(".", &mut buf));
        assert!(!normalize_into(&"a".repeat(MAX_NAME_TEXT + 1), &mut buf));
    }

    #[test]
    fn parents_walk_up_to_the_tld() {
        assert_eq!(self_and_parents("a.b.c").collect::<Vec<_>>(), ["a.b.c", "b.c", "c"]);
        assert!(is_at_or_under("x.alipay.com", "alipay.com"));
        assert!(is_at_or_under("alipay.com", "alipay.com"));
        assert!(!is_at_or_under("fakealipay.com", "alipay.com"));
    }

    #[test]
    fn entropy_of_uniform_text_is_log2_of_its_alphabet() {
        assert!((entropy(b"abcd") - 2.0).abs() < 1e-6);
        assert!(entropy(b"aaaa").abs() < 1e-6);
        assert_eq!(entropy(b""), 0.0);
    }
}
