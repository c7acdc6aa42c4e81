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

/// The set of organisation units a principal may see: everything (the
/// principal sits at the root), or a set of subtrees.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum OrgScope {
    All,
    Units(BTreeSet<i64>),
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
        if units.iter().any(|u| u.parent_id.is_none() && visible.contains(&u.id)) {
            return OrgScope::All;
        }
        OrgScope::Units(visible)
    }

    pub fn contains(&self, id: i64) -> bool {
        match self {
            OrgScope::All => true,
            OrgScope::Units(ids) => ids.contains(&id),
        }
    }

    /// The visible units, or `None` for all of them.
    pub fn ids(&self) -> Option<Vec<i64>> {
        match self {
            OrgScope::All => None,
            OrgScope::Units(ids) => Some(ids.iter().copied().collect()),
        }
    }

    pub fn is_empty(&self) -> bool {
        matches!(self, OrgScope::Units(ids) if ids.is_empty())
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

/// The tree indexed once, for pages that name many units.
#[derive(Debug)]
pub struct OrgTree<'a> {
    by_id: HashMap<i64, &'a OrgUnit>,
}

impl<'a> OrgTree<'a> {
    pub fn new(units: &'a [OrgUnit]) -> OrgTree<'a> {
        OrgTree { by_id: units.iter().map(|u| (u.id, u)).collect() }
    }

    /// The chain of names from the root down to `id`, e.g. "集团 / 广东公司 / 网络安全部".
    pub fn path(&self, id: i64) -> String {
        let mut names = Vec::new();
        let mut cursor = Some(id);
        while let Some(c) = cursor {
            let Some(u) = self.by_id.get(&c) else { break };
            names.push(u.name.as_str());
            if names.len() > self.by_id.len() {
                break;
            }
            cursor = u.parent_id;
        }
        names.reverse();
        names.join(" / ")
    }

    pub fn get(&self, id: i64) -> Option<&'a OrgUnit> {
        self.by_id.get(&id).copied()
    }
}

/// The chain of names from the root down to `id`, e.g. "集团 / 广东公司 / 网络安全部".
pub fn path_name(units: &[OrgUnit], id: i64) -> String {
    OrgTree::new(units).path(id)
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
        assert_eq!(s.ids(), Some(vec![3, 4]));
        assert!(s.contains(4) && !s.contains(2));
        let all = OrgScope::subtrees(&tree(), &[1]);
        assert_eq!(all, OrgScope::All);
        assert!(all.contains(99));
    }

    #[test]
    fn regulator_grants_union_and_unknown_roots_are_ignored() {
        let s = OrgScope::subtrees(&tree(), &[4, 5, 99]);
        assert_eq!(s.ids(), Some(vec![4, 5]));
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
