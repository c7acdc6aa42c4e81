//! Lookalikes of the operator's protected brand domains.
//!
//! Method. Each brand (`icbc.com.cn`) is cut into its registrable label
//! (`icbc`) and suffix (`com.cn`), and the label's confusable skeleton is
//! kept. A name is compared by its registrable label, decoded from
//! punycode when it is an IDN label (`xn--…`), reduced to its skeleton:
//! each character mapped to the letter it can pass for, then `rn` → `m`
//! and `vv` → `w`. The rules, each with its own score:
//!
//! - `other_tld`: the brand's label under another suffix (`icbc.com`).
//! - `homoglyph`: a different label with the brand's skeleton
//!   (`аlipay` in Cyrillic, `a1ipay`, `rnicrosoft`).
//! - `edit_distance`: skeletons within Damerau–Levenshtein distance 1 (brand
//!   labels of at least `min_len_edit_1` characters) or 2 (at least
//!   `min_len_edit_2`): `alipya`, `icbcc`.
//! - `brand_in_label`: the brand's skeleton inside a longer label
//!   (`icbc-secure-login.com`), brands of at least `min_len_contains`.
//! - `brand_in_subdomain`: the brand's label as a label left of the
//!   registrable domain (`alipay.com.verify-id.top`).
//!
//! The highest-scoring rule over all brands is the finding's score. The
//! brands' own domains and their subdomains, and anything under `allow`,
//! are never reported.
//!
//! The skeleton map is a small subset of Unicode TR39 confusables: the
//! Cyrillic, Greek, Armenian and Latin letters that pass for ASCII letters
//! in common fonts, the digits `0` and `1`, and, beyond TR39, Latin letters
//! with diacritics folded to their base letter (a mark is easy to miss).
//! Anything not in the map stays as it is, so unmapped scripts never match.

use aho_corasick::AhoCorasick;
use serde::{Deserialize, Serialize};

use super::names::{self, is_at_or_under};

/// Settings of the lookalike heuristic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LookalikeConfig {
    /// Run this heuristic (it does nothing without brands).
    pub enabled: bool,
    /// Score (0–100) at which a lookalike is reported.
    pub threshold: u8,
    /// Protected registrable domains, e.g. `["icbc.com.cn", "alipay.com",
    /// "10086.cn"]` (Unicode or punycode).
    pub brands: Vec<String>,
    /// Domains (and everything under them) never reported: the brands'
    /// other real domains, e.g. `"icbc.com"` if the bank owns it.
    pub allow: Vec<String>,
    /// Score of a label with the brand's skeleton but other characters.
    pub score_homoglyph: u8,
    /// Score of a skeleton one edit from the brand's.
    pub score_edit_distance_1: u8,
    /// Score of a skeleton two edits from the brand's.
    pub score_edit_distance_2: u8,
    /// Score of the brand's label as a subdomain label of another domain.
    pub score_brand_in_subdomain: u8,
    /// Score of the brand's skeleton inside a longer label.
    pub score_brand_in_label: u8,
    /// Score of the brand's label under another suffix.
    pub score_other_tld: u8,
    /// Brand labels shorter than this get no distance-1 matches.
    pub min_len_edit_1: usize,
    /// Brand labels shorter than this get no distance-2 matches.
    pub min_len_edit_2: usize,
    /// Brand labels shorter than this are not looked for inside longer
    /// labels (a two-letter brand is inside too many words).
    pub min_len_contains: usize,
}

impl Default for LookalikeConfig {
    fn default() -> Self {
        LookalikeConfig {
            enabled: true,
            threshold: 60,
            brands: Vec::new(),
            allow: Vec::new(),
            score_homoglyph: 95,
            score_edit_distance_1: 85,
            score_edit_distance_2: 70,
            score_brand_in_subdomain: 80,
            score_brand_in_label: 70,
            score_other_tld: 60,
            min_len_edit_1: 4,
            min_len_edit_2: 8,
            min_len_contains: 4,
        }
    }
}

/// A protected brand, prepared.
#[derive(Debug, Clone)]
pub(crate) struct Brand {
    pub domain: String,
    pub label: String,
    pub skeleton: String,
    /// Which characters the skeleton holds (see [`char_mask`]).
    mask: u64,
}

impl Brand {
    /// Prepares a configured brand; `Err` says what is wrong with it.
    pub(crate) fn new(text: &str) -> Result<Brand, String> {
        let ascii = idna::domain_to_ascii(text.trim()).map_err(|e| format!("not a domain name: {e}"))?;
        let domain = ascii.strip_suffix('.').unwrap_or(&ascii).to_owned();
        let split = names::split(&domain).ok_or("not a registrable domain (needs a label and a suffix)")?;
        if !split.sub.is_empty() {
            return Err(format!("give the registrable domain {}, not a name under it", split.registrable));
        }
        let label = split.label.to_owned();
        let mut skeleton = String::new();
        skeleton_of_label(&label, &mut skeleton);
        let mask = char_mask(&skeleton);
        Ok(Brand { domain, label, skeleton, mask })
    }
}

/// The brands, prepared for matching many names: an Aho–Corasick automaton
/// over the skeletons long enough to look for inside labels, and the brand
/// labels by text for the subdomain rule.
#[derive(Debug)]
pub(crate) struct Brands {
    brands: Vec<Brand>,
    inside: Option<AhoCorasick>,
    /// Brand index of each pattern of `inside`.
    inside_brand: Vec<usize>,
    by_label: foldhash::HashMap<String, Vec<usize>>,
}

impl Brands {
    pub(crate) fn new(brands: Vec<Brand>, config: &LookalikeConfig) -> Result<Brands, String> {
        let inside_brand: Vec<usize> = brands
            .iter()
            .enumerate()
            .filter(|(_, b)| !b.skeleton.is_empty() && b.skeleton.len() >= config.min_len_contains)
            .map(|(i, _)| i)
            .collect();
        let patterns = inside_brand.iter().filter_map(|&i| brands.get(i)).map(|b| b.skeleton.as_str());
        let inside = if inside_brand.is_empty() {
            None
        } else {
            Some(AhoCorasick::new(patterns).map_err(|e| format!("brand automaton: {e}"))?)
        };
        let mut by_label: foldhash::HashMap<String, Vec<usize>> = foldhash::HashMap::default();
        for (i, b) in brands.iter().enumerate() {
            by_label.entry(b.label.clone()).or_default().push(i);
        }
        Ok(Brands { brands, inside, inside_brand, by_label })
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.brands.is_empty()
    }

    pub(crate) fn get(&self, i: usize) -> Option<&Brand> {
        self.brands.get(i)
    }
}

/// A 64-bit set of the characters of `text`: one bit per letter, digit and
/// hyphen, one shared bit for anything else. An edit changes at most two
/// bits, so sets more than `2 · d` bits apart cannot be `d` edits apart.
fn char_mask(text: &str) -> u64 {
    text.bytes().fold(0, |mask, b| {
        let bit = match b {
            b'a'..=b'z' => b - b'a',
            b'0'..=b'9' => 26 + b - b'0',
            b'-' => 36,
            _ => 37,
        };
        mask | 1 << bit
    })
}

/// Which rule matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    OtherTld,
    Homoglyph,
    EditDistance(u8),
    BrandInLabel,
    BrandInSubdomain,
}

impl Rule {
    fn describe(self) -> String {
        match self {
            Rule::OtherTld => "the brand's label under another suffix".into(),
            Rule::Homoglyph => "confusable characters, same skeleton as the brand".into(),
            Rule::EditDistance(d) => format!("{d} edit{} from the brand", if d == 1 { "" } else { "s" }),
            Rule::BrandInLabel => "the brand inside a longer label".into(),
            Rule::BrandInSubdomain => "the brand's label as a subdomain of another domain".into(),
        }
    }
}

/// The best match of a name against the brands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Match {
    pub score: u8,
    pub brand: usize,
    pub rule: Rule,
}

/// Compares a split name with the brands. `skeleton` is scratch space.
pub(crate) fn check(
    split: &names::Split<'_>,
    brands: &Brands,
    config: &LookalikeConfig,
    skeleton: &mut String,
) -> Option<Match> {
    if brands.brands.iter().any(|b| is_at_or_under(split.name, &b.domain)) {
        return None;
    }
    skeleton_of_label(split.label, skeleton);
    let mask = char_mask(skeleton);
    let mut best: Option<Match> = None;
    let mut consider = |score: u8, brand: usize, rule: Rule| {
        if best.as_ref().is_none_or(|m| score > m.score) {
            best = Some(Match { score, brand, rule });
        }
    };
    for (i, brand) in brands.brands.iter().enumerate() {
        if split.label == brand.label {
            consider(config.score_other_tld, i, Rule::OtherTld);
            continue;
        }
        if *skeleton == brand.skeleton {
            consider(config.score_homoglyph, i, Rule::Homoglyph);
            continue;
        }
        let brand_len = brand.skeleton.len();
        let max_distance: u8 = if brand_len >= config.min_len_edit_2 {
            2
        } else if brand_len >= config.min_len_edit_1 {
            1
        } else {
            0
        };
        if max_distance > 0
            && skeleton.len().abs_diff(brand_len) <= usize::from(max_distance)
            && (mask ^ brand.mask).count_ones() <= 2 * u32::from(max_distance)
            && let Some(d) = osa_distance(skeleton.as_bytes(), brand.skeleton.as_bytes(), max_distance)
        {
            let score = if d <= 1 { config.score_edit_distance_1 } else { config.score_edit_distance_2 };
            consider(score, i, Rule::EditDistance(d));
        }
    }
    if let Some(inside) = &brands.inside {
        for m in inside.find_overlapping_iter(skeleton.as_str()) {
            if let Some(&i) = brands.inside_brand.get(m.pattern().as_usize())
                && brands.brands.get(i).is_some_and(|b| b.skeleton.len() < skeleton.len())
            {
                consider(config.score_brand_in_label, i, Rule::BrandInLabel);
            }
        }
    }
    if !split.sub.is_empty() {
        for label in split.sub.split('.') {
            for &i in brands.by_label.get(label).into_iter().flatten() {
                consider(config.score_brand_in_subdomain, i, Rule::BrandInSubdomain);
            }
        }
    }
    best
}

pub(crate) fn reason(m: &Match, brands: &Brands, skeleton: &str, label: &str) -> String {
    let brand = brands.get(m.brand).map_or("?", |b| b.domain.as_str());
    let shown = if label.starts_with("xn--") { format!("{label} (reads as {skeleton})") } else { label.to_owned() };
    format!("lookalike of {brand}: {}; label {shown}", m.rule.describe())
}

/// The confusable skeleton of a registrable label (ASCII, or `xn--`
/// punycode decoded first) into `out`.
pub(crate) fn skeleton_of_label(label: &str, out: &mut String) {
    out.clear();
    if let Some(encoded) = label.strip_prefix("xn--")
        && let Some(chars) = idna::punycode::decode(encoded)
        && !chars.is_empty()
    {
        for c in chars {
            push_skeleton(c, out);
        }
        return;
    }
    for c in label.chars() {
        push_skeleton(c, out);
    }
}

fn push_skeleton(c: char, out: &mut String) {
    let mapped = match c {
        'a'..='z' | '2'..='9' | '-' => c,
        '0' => 'o',
        '1' => 'l',
        'A'..='Z' => c.to_ascii_lowercase(),
        _ => CONFUSABLES
            .binary_search_by_key(&c, |&(from, _)| from)
            .ok()
            .and_then(|i| CONFUSABLES.get(i))
            .map_or(c, |&(_, to)| to),
    };
    // Two-letter lookalikes: `rn` reads as `m`, `vv` as `w`.
    match (out.chars().next_back(), mapped) {
        (Some('r'), 'n') => {
            out.pop();
            out.push('m');
        }
        (Some('v'), 'v') => {
            out.pop();
            out.push('w');
        }
        _ => out.push(mapped),
    }
}

/// Characters that pass for an ASCII letter, sorted by code point.
const CONFUSABLES: &[(char, char)] = &[
    ('à', 'a'),
    ('á', 'a'),
    ('â', 'a'),
    ('ã', 'a'),
    ('ä', 'a'),
    ('å', 'a'),
    ('ç', 'c'),
    ('è', 'e'),
    ('é', 'e'),
    ('ê', 'e'),
    ('ë', 'e'),
    ('ì', 'i'),
    ('í', 'i'),
    ('î', 'i'),
    ('ï', 'i'),
    ('ñ', 'n'),
    ('ò', 'o'),
    ('ó', 'o'),
    ('ô', 'o'),
    ('õ', 'o'),
    ('ö', 'o'),
    ('ø', 'o'),
    ('ù', 'u'),
    ('ú', 'u'),
    ('û', 'u'),
    ('ü', 'u'),
    ('ý', 'y'),
    ('ÿ', 'y'),
    ('ā', 'a'),
    ('ă', 'a'),
    ('ą', 'a'),
    ('ć', 'c'),
    ('ĉ', 'c'),
    ('ċ', 'c'),
    ('č', 'c'),
    ('ď', 'd'),
    ('đ', 'd'),
    ('ē', 'e'),
    ('ĕ', 'e'),
    ('ė', 'e'),
    ('ę', 'e'),
    ('ě', 'e'),
    ('ĝ', 'g'),
    ('ğ', 'g'),
    ('ġ', 'g'),
    ('ģ', 'g'),
    ('ĥ', 'h'),
    ('ħ', 'h'),
    ('ĩ', 'i'),
    ('ī', 'i'),
    ('ĭ', 'i'),
    ('į', 'i'),
    ('ı', 'i'),
    ('ĵ', 'j'),
    ('ķ', 'k'),
    ('ĺ', 'l'),
    ('ļ', 'l'),
    ('ľ', 'l'),
    ('ŀ', 'l'),
    ('ł', 'l'),
    ('ń', 'n'),
    ('ņ', 'n'),
    ('ň', 'n'),
    ('ō', 'o'),
    ('ŏ', 'o'),
    ('ő', 'o'),
    ('ŕ', 'r'),
    ('ŗ', 'r'),
    ('ř', 'r'),
    ('ś', 's'),
    ('ŝ', 's'),
    ('ş', 's'),
    ('š', 's'),
    ('ţ', 't'),
    ('ť', 't'),
    ('ŧ', 't'),
    ('ũ', 'u'),
    ('ū', 'u'),
    ('ŭ', 'u'),
    ('ů', 'u'),
    ('ű', 'u'),
    ('ų', 'u'),
    ('ŵ', 'w'),
    ('ŷ', 'y'),
    ('ź', 'z'),
    ('ż', 'z'),
    ('ž', 'z'),
    ('ǀ', 'l'),
    ('ɑ', 'a'),
    ('ɡ', 'g'),
    ('ɩ', 'i'),
    ('ɪ', 'i'),
    ('α', 'a'),
    ('ι', 'i'),
    ('κ', 'k'),
    ('ν', 'v'),
    ('ο', 'o'),
    ('ρ', 'p'),
    ('υ', 'u'),
    ('χ', 'x'),
    ('ϲ', 'c'),
    ('ϳ', 'j'),
    ('а', 'a'),
    ('е', 'e'),
    ('о', 'o'),
    ('р', 'p'),
    ('с', 'c'),
    ('у', 'y'),
    ('х', 'x'),
    ('ѐ', 'e'),
    ('ё', 'e'),
    ('ѕ', 's'),
    ('і', 'i'),
    ('ї', 'i'),
    ('ј', 'j'),
    ('һ', 'h'),
    ('ӏ', 'l'),
    ('ԁ', 'd'),
    ('ԛ', 'q'),
    ('ԝ', 'w'),
    ('ո', 'n'),
    ('ս', 'u'),
    ('օ', 'o'),
];

/// Optimal-string-alignment distance (Damerau–Levenshtein with adjacent
/// transpositions, each substring edited once) between `a` and `b`, or
/// `None` when it exceeds `max` or either is longer than 64 bytes. Only
/// the diagonal band `|i − j| ≤ max` is filled; no allocation.
pub(crate) fn osa_distance(a: &[u8], b: &[u8], max: u8) -> Option<u8> {
    const N: usize = 65;
    let k = usize::from(max);
    if a.len() >= N || b.len() >= N || a.len().abs_diff(b.len()) > k {
        return None;
    }
    let over = max.saturating_add(1);
    let mut two_back = [over; N];
    let mut previous = [over; N];
    let mut current = [over; N];
    for (j, cell) in previous.iter_mut().enumerate().take(b.len().min(k) + 1) {
        *cell = j as u8;
    }
    for i in 1..=a.len() {
        current.fill(over);
        if i <= k {
            *current.get_mut(0)? = i as u8;
        }
        let lo = i.saturating_sub(k).max(1);
        let hi = (i + k).min(b.len());
        let mut row_min = *current.first()?;
        for j in lo..=hi {
            let ai = *a.get(i - 1)?;
            let bj = *b.get(j - 1)?;
            let cost = u8::from(ai != bj);
            let mut d = previous.get(j - 1)?.saturating_add(cost);
            d = d.min(previous.get(j)?.saturating_add(1));
            d = d.min(current.get(j - 1)?.saturating_add(1));
            if i > 1 && j > 1 && a.get(i - 2) == Some(&bj) && b.get(j - 2) == Some(&ai) {
                d = d.min(two_back.get(j - 2)?.saturating_add(1));
            }
            let d = d.min(over);
            *current.get_mut(j)? = d;
            row_min = row_min.min(d);
        }
        if row_min > max {
            return None;
        }
        two_back = previous;
        previous = current;
    }
    let d = *previous.get(b.len())?;
    (d <= max).then_some(d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusables_are_sorted_for_binary_search() {
        assert!(CONFUSABLES.windows(2).all(|w| w[0].0 < w[1].0), "CONFUSABLES out of order");
    }

    #[test]
    fn skeletons_fold_lookalike_characters() {
        let sk = |l: &str| {
            let mut s = String::new();
            skeleton_of_label(l, &mut s);
            s
        };
        assert_eq!(sk("alipay"), "alipay");
        assert_eq!(sk("a1ipay"), "alipay");
        assert_eq!(sk("rnicrosoft"), "microsoft");
        assert_eq!(sk("vvikipedia"), "wikipedia");
        assert_eq!(sk("g00gle"), "google");
        // Cyrillic а (U+0430) in "аlipay", as punycode.
        let puny = idna::domain_to_ascii("аlipay.com").unwrap();
        let label = puny.split('.').next().unwrap();
        assert!(label.starts_with("xn--"), "{label}");
        assert_eq!(sk(label), "alipay");
        // A broken punycode label stays as it is.
        assert_eq!(sk("xn--"), "xn--");
    }

    #[test]
    fn osa_distance_counts_edits_and_transpositions() {
        let d = |a: &str, b: &str, m: u8| osa_distance(a.as_bytes(), b.as_bytes(), m);
        assert_eq!(d("alipay", "alipay", 2), Some(0));
        assert_eq!(d("alipya", "alipay", 2), Some(1));
        assert_eq!(d("alipy", "alipay", 2), Some(1));
        assert_eq!(d("allipay", "alipay", 2), Some(1));
        assert_eq!(d("alxpax", "alipay", 2), Some(2));
        assert_eq!(d("axxpax", "alipay", 2), None);
        assert_eq!(d("icbc", "icbcbank", 2), None);
        assert_eq!(d("ca", "abc", 3), Some(3));
        assert_eq!(d("", "ab", 2), Some(2));
        assert_eq!(d(&"a".repeat(70), &"a".repeat(70), 2), None);
    }

    #[test]
    fn character_sets_bound_the_edit_distance() {
        for (a, b) in [("alipay", "alipya"), ("alipay", "aiipay"), ("icbc", "icbcc"), ("paypal", "paypa")] {
            let d = osa_distance(a.as_bytes(), b.as_bytes(), 2).unwrap();
            assert!((char_mask(a) ^ char_mask(b)).count_ones() <= 2 * u32::from(d), "{a} {b}");
        }
    }

    #[test]
    fn brands_must_be_registrable_domains() {
        assert!(Brand::new("icbc.com.cn").is_ok());
        assert!(Brand::new("www.icbc.com.cn").is_err());
        assert!(Brand::new("localhost").is_err());
        let b = Brand::new("АLIPAY.com").unwrap();
        assert!(b.domain.starts_with("xn--"), "{}", b.domain);
        assert_eq!(b.skeleton, "alipay");
    }
}
