//! CPE names: converting the CPE 2.2 URI form that nmap prints
//! (`cpe:/a:vendor:product:version`) to the CPE 2.3 formatted string our
//! inventory stores (`cpe:2.3:a:vendor:product:version:*:*:*:*:*:*:*`),
//! following NISTIR 7695 (unbind the URI to a WFN, bind the WFN to a
//! formatted string).

/// Why a CPE URI could not be converted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CpeError {
    #[error("{uri:?} does not start with cpe:/")]
    NotAUri { uri: String },
    #[error("{uri:?} has part {part:?}; expected a, o or h")]
    BadPart { uri: String, part: String },
    #[error("{uri:?} has {count} components; a CPE 2.2 URI has at most 7")]
    TooManyComponents { uri: String, count: usize },
    #[error("{uri:?} has an invalid percent-encoding or character in {component:?}")]
    BadCharacter { uri: String, component: String },
    #[error("{uri:?} has a malformed packed edition {edition:?}")]
    BadEdition { uri: String, edition: String },
}

/// Converts a CPE 2.2 URI to a CPE 2.3 formatted string: empty or missing
/// components become `*` (ANY), `-` stays NA, values are lower-cased,
/// percent-encodings decoded (`%01` → `?`, `%02` → `*` as wildcards), a
/// packed edition (`~edition~sw_edition~target_sw~target_hw~other`)
/// unpacked, and characters other than letters, digits, `_`, `-` and `.`
/// quoted with `\`.
pub fn cpe22_to_cpe23(uri: &str) -> Result<String, CpeError> {
    let trimmed = uri.trim();
    let Some(rest) = trimmed.get(..5).filter(|p| p.eq_ignore_ascii_case("cpe:/")).and_then(|_| trimmed.get(5..)) else {
        return Err(CpeError::NotAUri { uri: uri.to_owned() });
    };
    let parts: Vec<&str> = rest.split(':').collect();
    if parts.len() > 7 {
        return Err(CpeError::TooManyComponents { uri: uri.to_owned(), count: parts.len() });
    }
    let part = parts.first().copied().unwrap_or_default().to_ascii_lowercase();
    if !matches!(part.as_str(), "a" | "o" | "h") {
        return Err(CpeError::BadPart { uri: uri.to_owned(), part });
    }
    let get = |i: usize| parts.get(i).copied().unwrap_or_default();
    let bind = |v: &str| {
        bind_component(v).ok_or_else(|| CpeError::BadCharacter { uri: uri.to_owned(), component: v.to_owned() })
    };
    let mut out = vec![part];
    for i in 1..=4 {
        // vendor, product, version, update
        out.push(bind(get(i))?);
    }
    let edition = get(5);
    let (edition, sw_edition, target_sw, target_hw, other) = if let Some(packed) = edition.strip_prefix('~') {
        let fields: Vec<&str> = packed.split('~').collect();
        let [e, sw, tsw, thw, o] = fields.as_slice() else {
            return Err(CpeError::BadEdition { uri: uri.to_owned(), edition: edition.to_owned() });
        };
        (bind(e)?, bind(sw)?, bind(tsw)?, bind(thw)?, bind(o)?)
    } else {
        (bind(edition)?, "*".to_owned(), "*".to_owned(), "*".to_owned(), "*".to_owned())
    };
    let language = bind(get(6))?;
    out.extend([edition, language, sw_edition, target_sw, target_hw, other]);
    Ok(format!("cpe:2.3:{}", out.join(":")))
}

/// One URI component as a formatted-string component; `None` for a bad
/// percent-encoding or a character that has no place in a CPE.
fn bind_component(v: &str) -> Option<String> {
    if v.is_empty() {
        return Some("*".to_owned());
    }
    if v == "-" {
        return Some("-".to_owned());
    }
    let mut out = String::with_capacity(v.len());
    let bytes = v.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        let (c, wildcard) = if b == b'%' {
            let hex = v.get(i..i + 2)?;
            i += 2;
            match u8::from_str_radix(hex, 16).ok()? {
                0x01 => ('?', true),
                0x02 => ('*', true),
                d => (char::from(d), false),
            }
        } else {
            (char::from(b), false)
        };
        if wildcard {
            out.push(c);
        } else if c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.') {
            out.push(c.to_ascii_lowercase());
        } else if c.is_ascii_graphic() {
            out.push('\\');
            out.push(c);
        } else {
            // Non-ASCII, whitespace and control characters are not allowed.
            return None;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use anbao_model::asset::check_cpe23;

    use super::*;

    #[test]
    fn nmap_style_uris() {
        for (uri, fs) in [
            ("cpe:/a:apache:http_server:2.4.52", "cpe:2.3:a:apache:http_server:2.4.52:*:*:*:*:*:*:*"),
            ("cpe:/a:igor_sysoev:nginx:1.18.0", "cpe:2.3:a:igor_sysoev:nginx:1.18.0:*:*:*:*:*:*:*"),
            ("cpe:/o:linux:linux_kernel", "cpe:2.3:o:linux:linux_kernel:*:*:*:*:*:*:*:*"),
            ("cpe:/o:Microsoft:Windows_10", "cpe:2.3:o:microsoft:windows_10:*:*:*:*:*:*:*:*"),
            ("cpe:/h:cisco", "cpe:2.3:h:cisco:*:*:*:*:*:*:*:*:*"),
            ("cpe:/a", "cpe:2.3:a:*:*:*:*:*:*:*:*:*:*"),
            ("cpe:/a:openbsd:openssh:8.9p1", "cpe:2.3:a:openbsd:openssh:8.9p1:*:*:*:*:*:*:*"),
        ] {
            let got = cpe22_to_cpe23(uri).unwrap();
            assert_eq!(got, fs, "{uri}");
            assert!(check_cpe23(&got).is_ok(), "{got}");
        }
    }

    #[test]
    fn nistir_7695_examples() {
        for (uri, fs) in [
            (
                "cpe:/a:microsoft:internet_explorer:8.0.6001:beta",
                "cpe:2.3:a:microsoft:internet_explorer:8.0.6001:beta:*:*:*:*:*:*",
            ),
            (
                "cpe:/a:microsoft:internet_explorer:8.%2a:sp%3f",
                "cpe:2.3:a:microsoft:internet_explorer:8.\\*:sp\\?:*:*:*:*:*:*",
            ),
            (
                "cpe:/a:microsoft:internet_explorer:8.%02:sp%01",
                "cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*",
            ),
            (
                "cpe:/a:hp:insight_diagnostics:7.4.0.1570::~~online~win2003~x64~",
                "cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:*:*:*:online:win2003:x64:*",
            ),
            (
                "cpe:/a:hp:openview_network_manager:7.51:-:~~~linux~~",
                "cpe:2.3:a:hp:openview_network_manager:7.51:-:*:*:*:linux:*:*",
            ),
            (
                "cpe:/a:foo%5cbar:big%24money_manager_2010",
                "cpe:2.3:a:foo\\\\bar:big\\$money_manager_2010:*:*:*:*:*:*:*:*",
            ),
            ("cpe:/a:foo~bar:big%7emoney_2010", "cpe:2.3:a:foo\\~bar:big\\~money_2010:*:*:*:*:*:*:*:*"),
            (
                "cpe:/a:vendor:product:1.0:update:edition:en-us",
                "cpe:2.3:a:vendor:product:1.0:update:edition:en-us:*:*:*:*",
            ),
        ] {
            let got = cpe22_to_cpe23(uri).unwrap();
            assert_eq!(got, fs, "{uri}");
            assert!(check_cpe23(&got).is_ok(), "{got}");
        }
    }

    #[test]
    fn rejects() {
        assert!(matches!(cpe22_to_cpe23("cpe:2.3:a:x:y:1:*:*:*:*:*:*:*"), Err(CpeError::NotAUri { .. })));
        assert!(matches!(cpe22_to_cpe23("cpe:/x:vendor"), Err(CpeError::BadPart { .. })));
        assert!(matches!(cpe22_to_cpe23("cpe:/a:1:2:3:4:5:6:7"), Err(CpeError::TooManyComponents { count: 8, .. })));
        assert!(matches!(cpe22_to_cpe23("cpe:/a:ven dor"), Err(CpeError::BadCharacter { .. })));
        assert!(matches!(cpe22_to_cpe23("cpe:/a:v:p:%zz"), Err(CpeError::BadCharacter { .. })));
        assert!(matches!(cpe22_to_cpe23("cpe:/a:v:p:%2"), Err(CpeError::BadCharacter { .. })));
        assert!(matches!(cpe22_to_cpe23("cpe:/a:v:p:1::~a~b"), Err(CpeError::BadEdition { .. })));
        assert!(matches!(cpe22_to_cpe23("cpe:/a:厂商"), Err(CpeError::BadCharacter { .. })));
        assert!(matches!(cpe22_to_cpe23("cpe"), Err(CpeError::NotAUri { .. })));
    }
}
