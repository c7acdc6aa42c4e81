//! Organisation units (group company → provincial company → department) and
//! the data scope they give a user (requirement S3): a user sees its own
//! unit's subtree; a regulator sees the subtrees it is granted.

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrgKind {
    /// 集团公司
    Group,
    /// 省级公司
    Province,
    /// 地市公司
    City,
    /// 部门
    Department,
    Other,
}

impl OrgKind {
    pub const ALL: [OrgKind; 5] =
        [OrgKind::Group, OrgKind::Province, OrgKind::City, OrgKind::Department, OrgKind::Other];
    pub fn as_str(self) -> &'static str {
        match self {
            OrgKind::Group => "group",
            OrgKind::Province => "province",
            OrgKind::City => "city",
            OrgKind::Department => "department",
            OrgKind::Other => "other",
        }
    }
}

impl fmt::Display for OrgKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for OrgKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        OrgKind::ALL.into_iter().find(|k| k.as_str() == s).ok_or_else(|| {
            format!("unknown organisation kind {s:?}; expected group, province, city, department or other")
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OrgUnit {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub kind: OrgKind,
    pub code: String,
}

/// The set of organisation units a principal may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OrgScope {
    visible: BTreeSet<i64>,
}

impl OrgScope {
    /// Every unit under (and including) each of `roots`.
    pub fn subtrees(units: &[OrgUnit], roots: &[i64]) -> OrgScope {
        let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
        for u in units {
            if let Some(p) = u.parent_id {
                children.entry(p).or_default().push(u.id);
            }
        }
        let mut visible = BTreeSet::new();
        let mut stack: Vec<i64> = roots.iter().copied().filter(|r| units.iter().any(|u| u.id == *r)).collect();
        while let Some(id) = stack.pop() {
            if visible.insert(id) {
                stack.extend(children.get(&id).into_iter().flatten().copied());
            }
        }
        OrgScope { visible }
    }

    pub fn contains(&self, id: i64) -> bool {
        self.visible.contains(&id)
    }

    pub fn ids(&self) -> impl Iterator<Item = i64> + '_ {
        self.visible.iter().copied()
    }

    pub fn is_empty(&self) -> bool {
        self.visible.is_empty()
    }
}

/// Whether moving `unit` under `new_parent` would make the tree a cycle.
pub fn would_create_cycle(units: &[OrgUnit], unit: i64, new_parent: i64) -> bool {
    let parent_of: HashMap<i64, Option<i64>> = units.iter().map(|u| (u.id, u.parent_id)).collect();
    let mut cursor = Some(new_parent);
    let mut steps = 0;
    while let Some(id) = cursor {
        if id == unit {
            return true;
        }
        steps += 1;
        if steps > units.len() {
            // Already cyclic data; refuse rather than loop.
            return true;
        }
        cursor = parent_of.get(&id).copied().flatten();
    }
    false
}

/// The chain of names from the root down to `id`, e.g. "集团 / 广东公司 / 网络安全部".
pub fn path_name(units: &[OrgUnit], id: i64) -> String {
    let by_id: HashMap<i64, &OrgUnit> = units.iter().map(|u| (u.id, u)).collect();
    let mut names = Vec::new();
    let mut cursor = Some(id);
    while let Some(c) = cursor {
        let Some(u) = by_id.get(&c) else { break };
        names.push(u.name.as_str());
        if names.len() > units.len() {
            break;
        }
        cursor = u.parent_id;
    }
    names.reverse();
    names.join(" / ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit(id: i64, parent: Option<i64>, name: &str) -> OrgUnit {
        OrgUnit { id, parent_id: parent, name: name.into(), kind: OrgKind::Other, code: String::new() }
    }

    fn tree() -> Vec<OrgUnit> {
        vec![
            unit(1, None, "Group"),
            unit(2, Some(1), "Beijing"),
            unit(3, Some(1), "Guangdong"),
            unit(4, Some(3), "Security"),
            unit(5, Some(2), "Ops"),
        ]
    }

    #[test]
    fn scope_is_the_subtree() {
        let s = OrgScope::subtrees(&tree(), &[3]);
        assert_eq!(s.ids().collect::<Vec<_>>(), vec![3, 4]);
        let all = OrgScope::subtrees(&tree(), &[1]);
        assert_eq!(all.ids().count(), 5);
    }

    #[test]
    fn regulator_grants_union_and_unknown_roots_are_ignored() {
        let s = OrgScope::subtrees(&tree(), &[4, 5, 99]);
        assert_eq!(s.ids().collect::<Vec<_>>(), vec![4, 5]);
        assert!(OrgScope::subtrees(&tree(), &[]).is_empty());
    }

    #[test]
    fn moving_a_unit_under_its_descendant_is_a_cycle() {
        assert!(would_create_cycle(&tree(), 3, 4));
        assert!(would_create_cycle(&tree(), 3, 3));
        assert!(!would_create_cycle(&tree(), 4, 2));
    }

    #[test]
    fn path_names_the_chain() {
        assert_eq!(path_name(&tree(), 4), "Group / Guangdong / Security");
    }
}
