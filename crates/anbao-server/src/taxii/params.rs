//! TAXII URL parameters: `added_after`, `limit`, `next` and the
//! `match[id|type|version|spec_version]` filters (comma-separated values,
//! the same filter given twice adds values). Parameters an endpoint does
//! not support are ignored, as TAXII asks; bad values of supported ones are
//! a 400 naming the parameter.
//!
//! The `next` token is the `date_added` of the last object of the previous
//! page: `date_added` is unique and increasing within a collection, so
//! "after the token" continues exactly where that page ended.

use anbao_model::Timestamp;
use anbao_store::{MAX_FILTER_VALUES, ObjectFilter, VersionMatch, parse_timestamp};

use crate::taxii::{DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, TaxiiError};

/// The parameters an endpoint supports.
#[derive(Clone, Copy, Debug)]
pub struct Supported {
    pub paging: bool,
    pub ids_and_types: bool,
    pub version: bool,
}

pub const OBJECTS: Supported = Supported { paging: true, ids_and_types: true, version: true };
pub const ONE_OBJECT: Supported = Supported { paging: true, ids_and_types: false, version: true };
pub const VERSIONS: Supported = Supported { paging: true, ids_and_types: false, version: false };
pub const DELETE: Supported = Supported { paging: false, ids_and_types: false, version: true };

/// The parsed parameters of one request.
#[derive(Clone, Debug, Default)]
pub struct Params {
    pub filter: ObjectFilter,
    pub limit: usize,
}

/// Parses the query string of a request to an endpoint supporting `what`.
pub fn parse(query: Option<&str>, what: Supported) -> Result<Params, TaxiiError> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(query.unwrap_or_default())
        .map_err(|e| TaxiiError::bad_request(format!("the query string does not parse: {e}")))?;
    let mut params = Params { limit: DEFAULT_PAGE_SIZE, ..Params::default() };
    let mut added_after: Option<Timestamp> = None;
    let mut next: Option<Timestamp> = None;
    for (key, value) in &pairs {
        match key.as_str() {
            "added_after" if what.paging => {
                let t = parse_timestamp(value).ok_or_else(|| {
                    TaxiiError::bad_request(format!("added_after: {value:?} is not an RFC 3339 timestamp"))
                })?;
                added_after = Some(t);
            }
            "limit" if what.paging => {
                let n: usize =
                    value.parse().ok().filter(|n| *n > 0).ok_or_else(|| {
                        TaxiiError::bad_request(format!("limit: {value:?} is not a positive integer"))
                    })?;
                params.limit = n.min(MAX_PAGE_SIZE);
            }
            "next" if what.paging => {
                let t = parse_timestamp(value).ok_or_else(|| {
                    TaxiiError::bad_request(format!("next: {value:?} is not a token this server gave out"))
                })?;
                next = Some(t);
            }
            "match[id]" if what.ids_and_types => params.filter.ids.extend(values(key, value)?),
            "match[type]" if what.ids_and_types => params.filter.types.extend(values(key, value)?),
            "match[spec_version]" => params.filter.spec_versions.extend(values(key, value)?),
            "match[version]" if what.version => {
                for v in values(key, value)? {
                    params.filter.versions.push(version_match(&v)?);
                }
            }
            _ => {}
        }
    }
    params.filter.added_after = match (added_after, next) {
        (Some(a), Some(n)) => Some(a.max(n)),
        (a, n) => a.or(n),
    };
    let counts = [&params.filter.ids, &params.filter.types, &params.filter.spec_versions];
    if counts.iter().any(|v| v.len() > MAX_FILTER_VALUES) || params.filter.versions.len() > MAX_FILTER_VALUES {
        return Err(TaxiiError::bad_request(format!("a match filter lists more than {MAX_FILTER_VALUES} values")));
    }
    Ok(params)
}

/// The comma-separated values of a `match[…]` parameter; none is an error.
fn values(key: &str, value: &str) -> Result<Vec<String>, TaxiiError> {
    let list: Vec<String> = value.split(',').map(str::trim).filter(|v| !v.is_empty()).map(str::to_owned).collect();
    if list.is_empty() {
        return Err(TaxiiError::bad_request(format!("{key} has no value")));
    }
    Ok(list)
}

fn version_match(v: &str) -> Result<VersionMatch, TaxiiError> {
    Ok(match v {
        "first" => VersionMatch::First,
        "last" => VersionMatch::Last,
        "all" => VersionMatch::All,
        other => VersionMatch::At(parse_timestamp(other).ok_or_else(|| {
            TaxiiError::bad_request(format!("match[version]: {other:?} is not first, last, all or a timestamp"))
        })?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_limits_and_tokens_parse() {
        let p = parse(
            Some("match[type]=indicator,malware&match[type]=tool&match[version]=first,2026-01-01T00:00:00Z&limit=5000&added_after=2026-01-01T00:00:00Z&next=2026-02-01T00:00:00.000001Z&unknown=1"),
            OBJECTS,
        )
        .expect("valid");
        assert_eq!(p.filter.types, ["indicator", "malware", "tool"]);
        assert_eq!(p.filter.versions.len(), 2);
        assert_eq!(p.limit, MAX_PAGE_SIZE, "capped");
        assert_eq!(p.filter.added_after, parse_timestamp("2026-02-01T00:00:00.000001Z"), "the later of the two");
        assert_eq!(parse(None, OBJECTS).expect("valid").limit, DEFAULT_PAGE_SIZE);
        for bad in
            ["limit=0", "limit=-1", "limit=x", "added_after=yesterday", "next=x", "match[version]=newest", "match[id]="]
        {
            assert!(parse(Some(bad), OBJECTS).is_err(), "{bad}");
        }
        assert!(parse(Some("match[id]=x&limit=0"), DELETE).is_ok(), "unsupported parameters are ignored");
    }
}
