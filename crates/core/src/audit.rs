//! The hash chain of the audit log. Each entry's hash is SM3 over the previous
//! entry's hash and the entry's own fields, so editing or deleting any entry
//! breaks every hash after it, and `onewindow audit verify` can name the first
//! broken one.

use sm3::{Digest, Sm3};

/// The hash before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The fields of an audit entry that its hash covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord<'a> {
    pub seq: i64,
    /// RFC 3339 instant, UTC.
    pub at: &'a str,
    /// Who acted: `staff:12`, `applicant` (identified by case number and
    /// phone, recorded in the case's timeline), `system`, `cli`.
    pub actor: &'a str,
    pub action: &'a str,
    pub object_kind: &'a str,
    pub object_id: &'a str,
    /// JSON text of the details (opinion, reasons, old and new state...).
    pub detail: &'a str,
}

/// SM3 of the previous hash and the record, as lowercase hex.
///
/// Fields are length-prefixed so that no two different records hash the same
/// bytes (e.g. moving a character from `action` to `object_kind`).
pub fn chain_hash(prev_hash: &str, record: &AuditRecord<'_>) -> String {
    let mut hasher = Sm3::new();
    let mut field = |bytes: &[u8]| {
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(prev_hash.as_bytes());
    field(&record.seq.to_be_bytes());
    field(record.at.as_bytes());
    field(record.actor.as_bytes());
    field(record.action.as_bytes());
    field(record.object_kind.as_bytes());
    field(record.object_id.as_bytes());
    field(record.detail.as_bytes());
    hex::encode(hasher.finalize())
}

/// SM3 of arbitrary bytes as lowercase hex (file digests, token digests).
pub fn sm3_hex(bytes: &[u8]) -> String {
    hex::encode(Sm3::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(detail: &str) -> AuditRecord<'_> {
        AuditRecord {
            seq: 1,
            at: "2026-11-23T01:00:00Z",
            actor: "staff:1",
            action: "accept",
            object_kind: "case",
            object_id: "7",
            detail,
        }
    }

    #[test]
    fn sm3_matches_the_standard_test_vector() {
        assert_eq!(
            sm3_hex(b"abc"),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
    }

    #[test]
    fn any_change_changes_the_hash() {
        let base = chain_hash(GENESIS_HASH, &record("{}"));
        assert_ne!(base, chain_hash(GENESIS_HASH, &record("{ }")));
        assert_ne!(base, chain_hash(&base, &record("{}")));
        assert_eq!(base, chain_hash(GENESIS_HASH, &record("{}")));
    }
}
