//! Assets and their responsibility (requirements R1.3, R1.4, R1.5, R7.1,
//! S3): one model for networks, business systems, key devices, websites,
//! domain names, DNS services, cloud tenants, IoT platforms and office or
//! maintenance terminals, each with the type-specific fields it needs.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::validate::{self, Invalid};

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        pub enum $name { $(#[serde(rename = $text)] $variant),+ }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, String> {
                let wanted = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
                $name::ALL.iter().copied().find(|v| v.as_str() == wanted).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|v| v.as_str()).collect();
                    format!("{s:?} is not one of {}", names.join(", "))
                })
            }
        }
    };
}

string_enum! {
    /// What kind of thing an asset is.
    AssetType {
        Network = "network",
        BusinessSystem = "business_system",
        Device = "device",
        Website = "website",
        DomainName = "domain_name",
        DnsService = "dns_service",
        CloudTenant = "cloud_tenant",
        IotPlatform = "iot_platform",
        Terminal = "terminal",
    }
}

string_enum! {
    /// Where an asset is in its life. A system goes `live` only through the
    /// pre-launch gate (R1.7).
    Lifecycle {
        Planned = "planned",
        Live = "live",
        Retired = "retired",
    }
}

string_enum! {
    /// How much the organisation depends on the asset; the asset-value
    /// input of risk assessment.
    Criticality {
        Low = "low",
        Medium = "medium",
        High = "high",
        Critical = "critical",
    }
}

string_enum! {
    /// What an inventory line describes.
    ComponentKind {
        Software = "software",
        Hardware = "hardware",
        OperatingSystem = "os",
        Firmware = "firmware",
        Service = "service",
    }
}

string_enum! {
    /// The usual security zones of an operator's network (R1.4).
    ZoneKind {
        Core = "core",
        Management = "management",
        Dmz = "dmz",
        Office = "office",
        Production = "production",
        Other = "other",
    }
}

/// A type-specific field: its key and what it holds.
#[derive(Debug, Clone, Copy)]
pub struct FieldSpec {
    pub key: &'static str,
    pub label_zh: &'static str,
    pub label_en: &'static str,
}

impl AssetType {
    /// The fields this type carries beyond the common ones.
    pub fn fields(self) -> &'static [FieldSpec] {
        match self {
            AssetType::Network => &[
                FieldSpec { key: "prefixes", label_zh: "地址段", label_en: "Address prefixes" },
                FieldSpec { key: "asn", label_zh: "自治系统号", label_en: "AS number" },
                FieldSpec { key: "scope", label_zh: "覆盖范围", label_en: "Coverage" },
            ],
            AssetType::BusinessSystem => &[
                FieldSpec { key: "url", label_zh: "访问地址", label_en: "URL" },
                FieldSpec { key: "users", label_zh: "用户规模", label_en: "Number of users" },
                FieldSpec { key: "mlps_level", label_zh: "等级保护级别", label_en: "MLPS level" },
            ],
            AssetType::Device => &[
                FieldSpec { key: "vendor", label_zh: "厂商", label_en: "Vendor" },
                FieldSpec { key: "model", label_zh: "型号", label_en: "Model" },
                FieldSpec { key: "management_ip", label_zh: "管理地址", label_en: "Management address" },
                FieldSpec { key: "location", label_zh: "机房位置", label_en: "Location" },
            ],
            AssetType::Website => &[
                FieldSpec { key: "url", label_zh: "网址", label_en: "URL" },
                FieldSpec { key: "icp_filing", label_zh: "ICP备案号", label_en: "ICP filing number" },
                FieldSpec { key: "hosting", label_zh: "托管位置", label_en: "Hosting" },
            ],
            AssetType::DomainName => &[
                FieldSpec { key: "registrar", label_zh: "注册商", label_en: "Registrar" },
                FieldSpec { key: "expires", label_zh: "到期日", label_en: "Expires" },
                FieldSpec { key: "dns_provider", label_zh: "解析服务商", label_en: "DNS provider" },
            ],
            AssetType::DnsService => &[
                FieldSpec {
                    key: "role", label_zh: "角色（权威/递归）", label_en: "Role (authoritative/recursive)"
                },
                FieldSpec { key: "addresses", label_zh: "服务地址", label_en: "Service addresses" },
                FieldSpec { key: "software", label_zh: "软件", label_en: "Software" },
            ],
            AssetType::CloudTenant => &[
                FieldSpec { key: "provider", label_zh: "云服务商", label_en: "Provider" },
                FieldSpec { key: "account", label_zh: "账号", label_en: "Account" },
                FieldSpec { key: "region", label_zh: "区域", label_en: "Region" },
            ],
            AssetType::IotPlatform => &[
                FieldSpec { key: "devices", label_zh: "接入设备数", label_en: "Connected devices" },
                FieldSpec { key: "protocols", label_zh: "接入协议", label_en: "Protocols" },
            ],
            AssetType::Terminal => &[
                FieldSpec {
                    key: "purpose", label_zh: "用途（办公/运维）", label_en: "Purpose (office/maintenance)"
                },
                FieldSpec { key: "holder", label_zh: "使用人", label_en: "Holder" },
                FieldSpec { key: "ip", label_zh: "地址", label_en: "Address" },
            ],
        }
    }
}

/// An asset as a person or an import describes it, before the store gives
/// it an id. Organisation units are named by id or by code (imports use
/// codes, e.g. `GD-SEC`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetDraft {
    /// A stable id from the operator's own records; matches imports to
    /// existing assets. Optional, unique when given.
    #[serde(default)]
    pub external_id: String,
    pub name: String,
    pub asset_type: String,
    /// The address people and detectors know it by: host name, IP, URL,
    /// domain or prefix.
    #[serde(default)]
    pub identifier: String,
    /// Owning organisation unit: id or code.
    pub org_unit: String,
    /// Responsible department (an organisation unit): id or code. Required.
    pub responsible_department: String,
    /// Responsible person's name. Required.
    pub responsible_person: String,
    #[serde(default)]
    pub operator_contact: String,
    #[serde(default)]
    pub oncall_phone: String,
    #[serde(default)]
    pub lifecycle: String,
    #[serde(default)]
    pub criticality: String,
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

/// A draft whose enumerations are parsed and whose fields are checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedAsset {
    pub external_id: String,
    pub name: String,
    pub asset_type: AssetType,
    pub identifier: String,
    pub org_unit: String,
    pub responsible_department: String,
    pub responsible_person: String,
    pub operator_contact: String,
    pub oncall_phone: String,
    pub lifecycle: Lifecycle,
    pub criticality: Criticality,
    pub attributes: BTreeMap<String, String>,
}

fn required(field: &'static str, value: &str) -> Result<(), Invalid> {
    if value.trim().is_empty() {
        Err(Invalid { field, reason: "is required".into() })
    } else {
        validate::label(field, value)
    }
}

impl AssetDraft {
    /// Checks every field, naming the first one at fault.
    pub fn check(&self) -> Result<CheckedAsset, Invalid> {
        required("name", &self.name)?;
        let asset_type: AssetType =
            self.asset_type.parse().map_err(|reason| Invalid { field: "asset_type", reason })?;
        required("org_unit", &self.org_unit)?;
        required("responsible_department", &self.responsible_department)?;
        required("responsible_person", &self.responsible_person)?;
        validate::optional_text("external_id", &self.external_id)?;
        validate::optional_text("identifier", &self.identifier)?;
        validate::optional_text("operator_contact", &self.operator_contact)?;
        validate::optional_text("oncall_phone", &self.oncall_phone)?;
        let lifecycle = if self.lifecycle.trim().is_empty() {
            Lifecycle::Planned
        } else {
            self.lifecycle.parse().map_err(|reason| Invalid { field: "lifecycle", reason })?
        };
        let criticality = if self.criticality.trim().is_empty() {
            Criticality::Medium
        } else {
            self.criticality.parse().map_err(|reason| Invalid { field: "criticality", reason })?
        };
        let allowed = asset_type.fields();
        for (k, v) in &self.attributes {
            if !allowed.iter().any(|f| f.key == k) {
                let keys: Vec<&str> = allowed.iter().map(|f| f.key).collect();
                return Err(Invalid {
                    field: "attributes",
                    reason: format!("{k:?} is not a field of {asset_type} assets (fields: {})", keys.join(", ")),
                });
            }
            validate::optional_text("attributes", v)?;
        }
        Ok(CheckedAsset {
            external_id: self.external_id.trim().to_owned(),
            name: self.name.trim().to_owned(),
            asset_type,
            identifier: self.identifier.trim().to_owned(),
            org_unit: self.org_unit.trim().to_owned(),
            responsible_department: self.responsible_department.trim().to_owned(),
            responsible_person: self.responsible_person.trim().to_owned(),
            operator_contact: self.operator_contact.trim().to_owned(),
            oncall_phone: self.oncall_phone.trim().to_owned(),
            lifecycle,
            criticality,
            attributes: self
                .attributes
                .iter()
                .filter(|(_, v)| !v.trim().is_empty())
                .map(|(k, v)| (k.clone(), v.trim().to_owned()))
                .collect(),
        })
    }
}

/// One line of an asset's software/hardware inventory (R1.8): structured,
/// so vulnerability matching can use it later.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComponentDraft {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub vendor: String,
    pub product: String,
    #[serde(default)]
    pub version: String,
    /// CPE 2.3 formatted string, e.g. `cpe:2.3:a:nginx:nginx:1.24.0:*:*:*:*:*:*:*`.
    #[serde(default)]
    pub cpe: String,
    /// Package URL, e.g. `pkg:deb/debian/openssl@3.0.11`.
    #[serde(default)]
    pub purl: String,
    /// End of vendor support, `YYYY-MM-DD`.
    #[serde(default)]
    pub end_of_support: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedComponent {
    pub kind: ComponentKind,
    pub vendor: String,
    pub product: String,
    pub version: String,
    pub cpe: String,
    pub purl: String,
    pub end_of_support: Option<String>,
}

impl ComponentDraft {
    pub fn check(&self) -> Result<CheckedComponent, Invalid> {
        required("product", &self.product)?;
        let kind = if self.kind.trim().is_empty() {
            ComponentKind::Software
        } else {
            self.kind.parse().map_err(|reason| Invalid { field: "kind", reason })?
        };
        for (field, v) in [("vendor", &self.vendor), ("version", &self.version)] {
            validate::optional_text(field, v)?;
        }
        let cpe = self.cpe.trim();
        if !cpe.is_empty() {
            check_cpe23(cpe)?;
        }
        let purl = self.purl.trim();
        if !purl.is_empty() {
            check_purl(purl)?;
        }
        let eos = self.end_of_support.trim();
        let end_of_support = if eos.is_empty() {
            None
        } else {
            let ok = eos.len() == 10
                && eos.bytes().enumerate().all(|(i, b)| if i == 4 || i == 7 { b == b'-' } else { b.is_ascii_digit() });
            if !ok {
                return Err(Invalid { field: "end_of_support", reason: format!("{eos:?} is not a YYYY-MM-DD date") });
            }
            Some(eos.to_owned())
        };
        Ok(CheckedComponent {
            kind,
            vendor: self.vendor.trim().to_owned(),
            product: self.product.trim().to_owned(),
            version: self.version.trim().to_owned(),
            cpe: cpe.to_owned(),
            purl: purl.to_owned(),
            end_of_support,
        })
    }
}

/// A CPE 2.3 formatted string: `cpe:2.3:` then part, vendor, product,
/// version, update, edition, language, sw_edition, target_sw, target_hw,
/// other (11 components, `\:` escapes a colon).
pub fn check_cpe23(cpe: &str) -> Result<(), Invalid> {
    let bad = |reason: &str| Invalid { field: "cpe", reason: format!("{cpe:?} {reason}") };
    let Some(rest) = cpe.strip_prefix("cpe:2.3:") else { return Err(bad("does not start with cpe:2.3:")) };
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(n) = chars.next() {
                    current.push(n);
                }
            }
            ':' => parts.push(std::mem::take(&mut current)),
            c if c.is_control() || c.is_whitespace() => return Err(bad("contains whitespace")),
            c => current.push(c),
        }
    }
    parts.push(current);
    if parts.len() != 11 {
        return Err(bad(&format!("has {} components after cpe:2.3:, not 11", parts.len())));
    }
    if !matches!(parts[0].as_str(), "a" | "o" | "h" | "*" | "-") {
        return Err(bad("has a part other than a, o or h"));
    }
    if parts.iter().any(String::is_empty) {
        return Err(bad("has an empty component (use * for any)"));
    }
    Ok(())
}

/// A package URL: `pkg:TYPE/[NAMESPACE/]NAME[@VERSION][?QUALIFIERS][#SUBPATH]`.
pub fn check_purl(purl: &str) -> Result<(), Invalid> {
    let bad = |reason: &str| Invalid { field: "purl", reason: format!("{purl:?} {reason}") };
    let Some(rest) = purl.strip_prefix("pkg:") else { return Err(bad("does not start with pkg:")) };
    let (ty, path) = rest.split_once('/').ok_or_else(|| bad("has no type/name"))?;
    if ty.is_empty() || !ty.chars().all(|c| c.is_ascii_alphanumeric() || ".+-".contains(c)) {
        return Err(bad("has an invalid type"));
    }
    let name_part = path.split(['?', '#']).next().unwrap_or_default();
    let name = name_part.rsplit('/').next().unwrap_or_default();
    let name = name.split('@').next().unwrap_or_default();
    if name.is_empty() {
        return Err(bad("has no name"));
    }
    if purl.chars().any(char::is_whitespace) {
        return Err(bad("contains whitespace"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> AssetDraft {
        AssetDraft {
            name: "官网".into(),
            asset_type: "website".into(),
            identifier: "https://www.example.cn".into(),
            org_unit: "GD".into(),
            responsible_department: "GD-SEC".into(),
            responsible_person: "张伟".into(),
            attributes: [("icp_filing".to_owned(), "粤ICP备12345678号".to_owned())].into(),
            ..AssetDraft::default()
        }
    }

    #[test]
    fn a_complete_draft_checks_with_defaults() {
        let a = draft().check().expect("valid");
        assert_eq!(a.asset_type, AssetType::Website);
        assert_eq!(a.lifecycle, Lifecycle::Planned);
        assert_eq!(a.criticality, Criticality::Medium);
    }

    #[test]
    fn responsibility_is_required_and_named() {
        for (field, clear) in [
            ("responsible_person", (|d: &mut AssetDraft| d.responsible_person.clear()) as fn(&mut AssetDraft)),
            ("responsible_department", |d| d.responsible_department = "  ".into()),
            ("name", |d| d.name.clear()),
            ("org_unit", |d| d.org_unit.clear()),
        ] {
            let mut d = draft();
            clear(&mut d);
            assert_eq!(d.check().map_err(|e| e.field), Err(field));
        }
    }

    #[test]
    fn enumerations_and_type_fields_are_checked() {
        let mut d = draft();
        d.asset_type = "Business System".into();
        d.attributes.clear();
        assert_eq!(d.check().map(|a| a.asset_type), Ok(AssetType::BusinessSystem));
        d.asset_type = "server".into();
        assert_eq!(d.check().map_err(|e| e.field), Err("asset_type"));
        let mut d = draft();
        d.attributes.insert("registrar".into(), "x".into());
        let err = d.check().expect_err("registrar is not a website field");
        assert_eq!(err.field, "attributes");
        assert!(err.reason.contains("icp_filing"), "{}", err.reason);
    }

    #[test]
    fn cpe_and_purl() {
        assert!(check_cpe23("cpe:2.3:a:nginx:nginx:1.24.0:*:*:*:*:*:*:*").is_ok());
        assert!(check_cpe23("cpe:2.3:a:vendor:prod\\:uct:1:*:*:*:*:*:*:*").is_ok());
        assert!(check_cpe23("cpe:/a:nginx:nginx:1.24.0").is_err());
        assert!(check_cpe23("cpe:2.3:a:nginx:nginx:1.24.0").is_err());
        assert!(check_cpe23("cpe:2.3:x:nginx:nginx:1:*:*:*:*:*:*:*").is_err());
        assert!(check_purl("pkg:deb/debian/openssl@3.0.11?arch=amd64").is_ok());
        assert!(check_purl("pkg:npm/%40angular/core@16.0.0").is_ok());
        assert!(check_purl("npm/left-pad").is_err());
        assert!(check_purl("pkg:npm/").is_err());
    }

    #[test]
    fn components_check_dates() {
        let c = ComponentDraft { product: "BIND".into(), end_of_support: "2027-01-31".into(), ..Default::default() };
        assert_eq!(c.check().map(|c| c.end_of_support), Ok(Some("2027-01-31".into())));
        let c = ComponentDraft { product: "BIND".into(), end_of_support: "31/01/2027".into(), ..Default::default() };
        assert_eq!(c.check().map_err(|e| e.field), Err("end_of_support"));
    }
}
