//! The audit chain (requirements S1, R5.3): every entry's hash covers its own
//! fields and the previous entry's hash, so editing, inserting or deleting a
//! stored row breaks the chain at a place the verifier can name.
//!
//! The hash is plain SHA-256 over a length-prefixed encoding, so anyone with
//! a copy of the table (an auditor, the regulator) can check it without a key.
//! Truncating the tail is only visible against a head recorded elsewhere;
//! `ChainVerifier::head` gives the value to record.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of one audit entry that the hash covers, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuditFields {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub actor_role: String,
    pub channel: String,
    pub source_ip: String,
    pub action: String,
    pub object_type: String,
    pub object_id: String,
    pub org_unit_id: Option<i64>,
    /// JSON text of the object before the change, or empty.
    pub before: String,
    /// JSON text of the object after the change, or empty.
    pub after: String,
}

/// The hash of an entry given the previous entry's hash.
pub fn chain_hash(prev_hash: &str, f: &AuditFields) -> String {
    let mut h = Sha256::new();
    h.update(b"anbao-audit-v1\n");
    let org = f.org_unit_id.map(|v| v.to_string()).unwrap_or_default();
    let seq = f.seq.to_string();
    for part in [
        prev_hash,
        seq.as_str(),
        &f.at,
        &f.actor,
        &f.actor_role,
        &f.channel,
        &f.source_ip,
        &f.action,
        &f.object_type,
        &f.object_id,
        org.as_str(),
        &f.before,
        &f.after,
    ] {
        h.update((part.len() as u64).to_le_bytes());
        h.update(part.as_bytes());
    }
    hex::encode(h.finalize())
}

/// One stored entry as the verifier sees it.
#[derive(Debug, Clone)]
pub struct StoredEntry {
    pub fields: AuditFields,
    pub prev_hash: String,
    pub hash: String,
}

/// Where and how the chain is broken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChainBreak {
    #[error("entry {seq} was altered: its stored hash does not match its contents")]
    Altered { seq: i64 },
    #[error("{} deleted: the sequence jumps from {prev} to {found}", deleted_range(*prev, *found))]
    Deleted { prev: i64, found: i64 },
    #[error("entry {seq} was inserted: it repeats or precedes sequence number {expected}")]
    Inserted { seq: i64, expected: i64 },
    #[error(
        "entry {seq} does not follow entry {prev}: entry {prev} was altered and re-hashed, or entry {seq} was inserted in its place"
    )]
    Relinked { seq: i64, prev: i64 },
}

fn deleted_range(prev: i64, found: i64) -> String {
    if found - prev == 2 {
        format!("entry {} was", prev + 1)
    } else {
        format!("entries {} to {} were", prev + 1, found - 1)
    }
}

/// Walks entries in sequence order and stops at the first break.
#[derive(Debug)]
pub struct ChainVerifier {
    last_seq: i64,
    last_hash: String,
    checked: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier { last_seq: 0, last_hash: GENESIS.to_owned(), checked: 0 }
    }
}

impl ChainVerifier {
    pub fn push(&mut self, e: &StoredEntry) -> Result<(), ChainBreak> {
        let seq = e.fields.seq;
        let expected = self.last_seq + 1;
        if seq > expected {
            return Err(ChainBreak::Deleted { prev: self.last_seq, found: seq });
        }
        if seq < expected {
            return Err(ChainBreak::Inserted { seq, expected });
        }
        if chain_hash(&e.prev_hash, &e.fields) != e.hash {
            return Err(ChainBreak::Altered { seq });
        }
        if e.prev_hash != self.last_hash {
            return Err(ChainBreak::Relinked { seq, prev: self.last_seq });
        }
        self.last_seq = seq;
        self.last_hash = e.hash.clone();
        self.checked += 1;
        Ok(())
    }

    /// Entries checked so far.
    pub fn checked(&self) -> u64 {
        self.checked
    }

    /// The last good entry's sequence number and hash; record it outside
    /// the database to detect a truncated tail later.
    pub fn head(&self) -> (i64, &str) {
        (self.last_seq, &self.last_hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chain(n: i64) -> Vec<StoredEntry> {
        let mut prev = GENESIS.to_owned();
        (1..=n)
            .map(|seq| {
                let fields = AuditFields {
                    seq,
                    at: format!("2026-11-25T10:00:{seq:02}.000Z"),
                    actor: "admin".into(),
                    actor_role: "admin".into(),
                    channel: "api".into(),
                    source_ip: "127.0.0.1".into(),
                    action: "user.create".into(),
                    object_type: "user".into(),
                    object_id: seq.to_string(),
                    org_unit_id: Some(1),
                    before: String::new(),
                    after: format!("{{\"id\":{seq}}}"),
                };
                let hash = chain_hash(&prev, &fields);
                let e = StoredEntry { fields, prev_hash: prev.clone(), hash: hash.clone() };
                prev = hash;
                e
            })
            .collect()
    }

    fn verify(entries: &[StoredEntry]) -> Result<u64, ChainBreak> {
        let mut v = ChainVerifier::default();
        for e in entries {
            v.push(e)?;
        }
        Ok(v.checked())
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify(&chain(5)), Ok(5));
    }

    #[test]
    fn altered_field_is_named() {
        let mut c = chain(5);
        c[2].fields.after = "{\"id\":99}".into();
        assert_eq!(verify(&c), Err(ChainBreak::Altered { seq: 3 }));
    }

    #[test]
    fn rehashed_alteration_is_caught_at_the_next_link() {
        let mut c = chain(5);
        c[2].fields.actor = "mallory".into();
        c[2].hash = chain_hash(&c[2].prev_hash, &c[2].fields);
        assert_eq!(verify(&c), Err(ChainBreak::Relinked { seq: 4, prev: 3 }));
    }

    #[test]
    fn deletion_is_named() {
        let mut c = chain(5);
        c.remove(1);
        assert_eq!(verify(&c), Err(ChainBreak::Deleted { prev: 1, found: 3 }));
    }

    #[test]
    fn insertion_is_named() {
        let mut c = chain(5);
        let dup = c[1].clone();
        c.insert(2, dup);
        assert_eq!(verify(&c), Err(ChainBreak::Inserted { seq: 2, expected: 3 }));
    }

    #[test]
    fn every_field_is_covered_by_the_hash() {
        let base = chain(1).remove(0);
        let mutations: Vec<fn(&mut AuditFields)> = vec![
            |f| f.at.push('x'),
            |f| f.actor.push('x'),
            |f| f.actor_role.push('x'),
            |f| f.channel.push('x'),
            |f| f.source_ip.push('x'),
            |f| f.action.push('x'),
            |f| f.object_type.push('x'),
            |f| f.object_id.push('x'),
            |f| f.org_unit_id = None,
            |f| f.before.push('x'),
            |f| f.after.push('x'),
        ];
        for m in mutations {
            let mut f = base.fields.clone();
            m(&mut f);
            assert_ne!(chain_hash(&base.prev_hash, &f), base.hash);
        }
    }

    #[test]
    fn field_boundaries_cannot_be_shifted() {
        let mut a = chain(1).remove(0).fields;
        let mut b = a.clone();
        a.actor = "ab".into();
        a.actor_role = "c".into();
        b.actor = "a".into();
        b.actor_role = "bc".into();
        assert_ne!(chain_hash(GENESIS, &a), chain_hash(GENESIS, &b));
    }
}
