//! Which column of a spreadsheet holds which asset field.
//!
//! Our field names are the [`AssetDraft`](anbao_model::asset::AssetDraft)
//! field names ([`ASSET_FIELDS`]), `attr.<key>` for a type-specific
//! attribute, and `component.<field>` ([`COMPONENT_FIELDS`]) for one
//! software/hardware inventory line.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use anbao_model::asset::AssetType;

/// The asset fields a column can map to, in export order.
pub const ASSET_FIELDS: &[&str] = &[
    "external_id",
    "name",
    "asset_type",
    "identifier",
    "org_unit",
    "responsible_department",
    "responsible_person",
    "operator_contact",
    "oncall_phone",
    "lifecycle",
    "criticality",
];

/// The fields every asset must have; a header that maps none of them is not
/// an asset list.
pub const REQUIRED_FIELDS: &[&str] =
    &["name", "asset_type", "org_unit", "responsible_department", "responsible_person"];

/// The component fields a column can map to (as `component.<field>`), in
/// export order.
pub const COMPONENT_FIELDS: &[&str] = &["kind", "vendor", "product", "version", "cpe", "purl", "end_of_support"];

/// Prefix of attribute columns: `attr.vendor`, `attr.icp_filing`.
pub const ATTR_PREFIX: &str = "attr.";
/// Prefix of component columns: `component.product`.
pub const COMPONENT_PREFIX: &str = "component.";

/// Maps our field names (see the module doc) to header names in the file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ColumnMapping {
    columns: BTreeMap<String, String>,
}

/// Other names the default mapping recognises for our fields. Compared after
/// [`normalise`]: case, spaces, `_`, `-`, brackets and `*` do not matter.
const SYNONYMS: &[(&str, &[&str])] = &[
    ("external_id", &["编号", "资产编号", "资产编码", "外部编号", "资产id", "id", "assetid", "externalid"]),
    ("name", &["资产名称", "名称", "资产名", "系统名称", "设备名称", "assetname"]),
    ("asset_type", &["资产类型", "类型", "资产类别", "类别", "type", "assettype"]),
    ("identifier", &["地址", "标识", "资产标识", "ip地址", "ip", "address", "host"]),
    ("org_unit", &["所属单位", "单位", "所属组织", "organisation", "organization", "orgunit"]),
    ("responsible_department", &["责任部门", "主管部门", "负责部门", "department"]),
    ("responsible_person", &["责任人", "负责人", "owner", "responsibleperson"]),
    ("operator_contact", &["联系人", "运维联系人", "contact"]),
    ("oncall_phone", &["值班电话", "联系电话", "电话", "phone"]),
    ("lifecycle", &["生命周期", "状态", "资产状态", "status"]),
    ("criticality", &["重要性", "重要程度", "重要等级", "importance"]),
    ("component.kind", &["组件类型", "componentkind"]),
    ("component.vendor", &["组件厂商", "软件厂商", "componentvendor"]),
    ("component.product", &["组件名称", "软件名称", "产品", "componentproduct", "product"]),
    ("component.version", &["组件版本", "软件版本", "版本", "componentversion", "version"]),
    ("component.cpe", &["cpe"]),
    ("component.purl", &["purl"]),
    ("component.end_of_support", &["停止支持日期", "endofsupport"]),
];

/// Lower-cases and drops what people vary in headers: spaces, `_`, `-`,
/// `.`, brackets (ASCII and full-width), `*` and `：` marking required
/// columns.
fn normalise(header: &str) -> String {
    header
        .chars()
        .filter(|c| !c.is_whitespace() && !"_-.*:：()（）[]【】".contains(*c))
        .flat_map(char::to_lowercase)
        .collect()
}

/// Is `field` one of ours?
pub(crate) fn is_known_field(field: &str) -> bool {
    if ASSET_FIELDS.contains(&field) {
        return true;
    }
    if let Some(key) = field.strip_prefix(ATTR_PREFIX) {
        return !key.is_empty() && AssetType::ALL.iter().any(|t| t.fields().iter().any(|f| f.key == key));
    }
    field.strip_prefix(COMPONENT_PREFIX).is_some_and(|f| COMPONENT_FIELDS.contains(&f))
}

impl ColumnMapping {
    /// An empty mapping.
    pub fn new() -> Self {
        ColumnMapping::default()
    }

    /// Maps `field` to the column headed `header`, replacing an earlier
    /// mapping of the field.
    pub fn insert(&mut self, field: impl Into<String>, header: impl Into<String>) -> &mut Self {
        self.columns.insert(field.into(), header.into());
        self
    }

    /// Builder form of [`insert`](Self::insert).
    pub fn with(mut self, field: impl Into<String>, header: impl Into<String>) -> Self {
        self.insert(field, header);
        self
    }

    /// The header mapped to `field`.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.columns.get(field).map(String::as_str)
    }

    /// (field, header) pairs, by field name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.columns.iter().map(|(f, h)| (f.as_str(), h.as_str()))
    }

    pub fn is_empty(&self) -> bool {
        self.columns.is_empty()
    }

    /// Guesses the mapping from a file's headers: our own export headers
    /// (`name`, `attr.vendor`, `component.product` …), their English words in
    /// any case and spacing (`Asset Type`), and the usual Chinese headers
    /// (资产名称, 资产类型, 责任部门, 责任人, 所属单位, 联系人, 值班电话,
    /// 编号/资产编号, 地址/标识 …, and the Chinese labels of type-specific
    /// fields such as 厂商 or ICP备案号). Each field takes the first header
    /// that names it; headers that name nothing are left unmapped.
    pub fn default_for<S: AsRef<str>>(headers: &[S]) -> Self {
        let mut mapping = ColumnMapping::new();
        for header in headers {
            let header = header.as_ref();
            if let Some(field) = guess_field(header)
                && !mapping.columns.contains_key(&field)
            {
                mapping.columns.insert(field, header.trim().to_owned());
            }
        }
        mapping
    }
}

/// Normalised header → field, in order of precedence (first match wins):
/// our field names, the synonyms, `attr<key>` and `component<field>`
/// spellings, then the labels and keys of type-specific fields.
static GUESSES: LazyLock<Vec<(String, String)>> = LazyLock::new(|| {
    let mut table: Vec<(String, String)> = Vec::new();
    for field in ASSET_FIELDS {
        table.push((normalise(field), (*field).to_owned()));
    }
    for (field, names) in SYNONYMS {
        table.extend(names.iter().map(|n| (normalise(n), (*field).to_owned())));
    }
    for t in AssetType::ALL {
        for f in t.fields() {
            table.push((format!("attr{}", normalise(f.key)), format!("{ATTR_PREFIX}{}", f.key)));
        }
    }
    for f in COMPONENT_FIELDS {
        table.push((format!("component{}", normalise(f)), format!("{COMPONENT_PREFIX}{f}")));
    }
    for t in AssetType::ALL {
        for f in t.fields() {
            for name in [f.label_zh, f.label_en, f.key] {
                table.push((normalise(name), format!("{ATTR_PREFIX}{}", f.key)));
            }
        }
    }
    table
});

/// The field a header names, if any.
fn guess_field(header: &str) -> Option<String> {
    let trimmed = header.trim();
    if is_known_field(trimmed) {
        return Some(trimmed.to_owned());
    }
    let norm = normalise(trimmed);
    if norm.is_empty() {
        return None;
    }
    GUESSES.iter().find(|(n, _)| *n == norm).map(|(_, field)| field.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_headers() {
        let headers = [
            "资产编号",
            "资产名称*",
            "资产类型",
            "地址",
            "所属单位",
            "责任部门",
            "责任人",
            "联系人",
            "值班电话",
            "厂商",
            "ICP备案号",
            "备注",
        ];
        let m = ColumnMapping::default_for(&headers);
        let got: Vec<(&str, &str)> = m.iter().collect();
        assert_eq!(
            got,
            [
                ("asset_type", "资产类型"),
                ("attr.icp_filing", "ICP备案号"),
                ("attr.vendor", "厂商"),
                ("external_id", "资产编号"),
                ("identifier", "地址"),
                ("name", "资产名称*"),
                ("oncall_phone", "值班电话"),
                ("operator_contact", "联系人"),
                ("org_unit", "所属单位"),
                ("responsible_department", "责任部门"),
                ("responsible_person", "责任人"),
            ]
        );
    }

    #[test]
    fn our_own_and_english_headers() {
        let m = ColumnMapping::default_for(&[
            "External ID",
            "Name",
            "asset-type",
            "attr.management_ip",
            "component.product",
            "Component Version",
            "编号",
        ]);
        assert_eq!(m.get("external_id"), Some("External ID"));
        assert_eq!(m.get("name"), Some("Name"));
        assert_eq!(m.get("asset_type"), Some("asset-type"));
        assert_eq!(m.get("attr.management_ip"), Some("attr.management_ip"));
        assert_eq!(m.get("component.product"), Some("component.product"));
        assert_eq!(m.get("component.version"), Some("Component Version"));
        // The second header naming external_id stays unmapped.
        assert_eq!(m.iter().filter(|(_, h)| *h == "编号").count(), 0);
    }

    #[test]
    fn known_fields() {
        assert!(is_known_field("name"));
        assert!(is_known_field("attr.icp_filing"));
        assert!(is_known_field("component.cpe"));
        assert!(!is_known_field("attr."));
        assert!(!is_known_field("attr.colour"));
        assert!(!is_known_field("component.colour"));
        assert!(!is_known_field("attributes"));
    }
}
