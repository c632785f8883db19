//! The audit log: append inside a write job, verify the whole chain.

use jiff::Timestamp;
use onewindow_core::audit::{AuditRecord, GENESIS_HASH, chain_hash};
use sqlx::Row;

use crate::{Conn, Store, StoreError};

/// What to append.
pub struct Entry<'a> {
    pub actor: &'a str,
    pub action: &'a str,
    pub object_kind: &'a str,
    pub object_id: &'a str,
    pub detail: &'a serde_json::Value,
}

/// The audit detail of a case transition: the event's detail with the states
/// it went from and to, and the absent A the B acted for.
pub(crate) fn case_detail(
    transition: &onewindow_core::case::Transition,
    on_behalf_of: Option<i64>,
) -> serde_json::Value {
    let mut detail = transition.detail.clone();
    if let Some(map) = detail.as_object_mut() {
        map.insert("from".into(), transition.from.key().into());
        map.insert("to".into(), transition.facts.state.key().into());
        if let Some(a) = on_behalf_of {
            map.insert("on_behalf_of".into(), a.into());
        }
    }
    detail
}

/// Appends an entry to the chain. Must run inside a write job.
pub async fn append(conn: &mut Conn, at: Timestamp, entry: Entry<'_>) -> Result<i64, StoreError> {
    Ok(append_head(conn, at, entry).await?.0)
}

/// [`append`], returning the chain's new head (seq, hash).
pub(crate) async fn append_head(
    conn: &mut Conn,
    at: Timestamp,
    entry: Entry<'_>,
) -> Result<(i64, String), StoreError> {
    // Updating the head first locks it (PostgreSQL row lock; SQLite's writer
    // lock is already held), so two nodes never chain onto the same entry.
    let head = sqlx::query("UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash")
        .fetch_one(&mut *conn)
        .await?;
    let seq: i64 = head.try_get("seq")?;
    let prev_hash: String = head.try_get("hash")?;
    let at = at.to_string();
    let detail = entry.detail.to_string();
    let record = AuditRecord {
        seq,
        at: &at,
        actor: entry.actor,
        action: entry.action,
        object_kind: entry.object_kind,
        object_id: entry.object_id,
        detail: &detail,
    };
    let hash = chain_hash(&prev_hash, &record);
    // The trigger audit_head_follows sets the head's hash to this entry's.
    sqlx::query(
        "INSERT INTO audit_log (seq, at, actor, action, object_kind, object_id, detail, prev_hash, hash) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(seq)
    .bind(&at)
    .bind(entry.actor)
    .bind(entry.action)
    .bind(entry.object_kind)
    .bind(entry.object_id)
    .bind(&detail)
    .bind(&prev_hash)
    .bind(&hash)
    .execute(&mut *conn)
    .await?;
    Ok((seq, hash))
}

/// The result of checking the chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verification {
    Intact {
        entries: i64,
    },
    /// The first entry whose stored hash or link does not match.
    Broken {
        seq: i64,
        reason: String,
    },
}

/// One stored entry, for listings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct StoredEntry {
    pub seq: i64,
    pub at: String,
    pub actor: String,
    pub action: String,
    pub object_kind: String,
    pub object_id: String,
    pub detail: String,
    pub hash: String,
}

impl Store {
    /// Recomputes every hash from the first entry up to the head and checks
    /// the head.
    ///
    /// The head is read first and only the entries up to it are checked: every
    /// append writes its entry and the head in one transaction, so the entries
    /// up to a committed head are all there, while entries appended during the
    /// check (past the head read) are left for the next one. Reading the head
    /// last instead reported a live system's fresh appends as missing entries.
    pub async fn verify_audit(&self) -> Result<Verification, StoreError> {
        let mut conn = self.pool().acquire().await?;
        let head = sqlx::query("SELECT seq, hash FROM audit_head WHERE id = 1")
            .fetch_one(&mut *conn)
            .await?;
        let head_seq: i64 = head.try_get("seq")?;
        let head_hash: String = head.try_get("hash")?;
        let mut prev = GENESIS_HASH.to_string();
        let mut expected_seq = 1i64;
        let page = 5000i64;
        loop {
            let rows = sqlx::query(
                "SELECT seq, at, actor, action, object_kind, object_id, detail, prev_hash, hash \
                 FROM audit_log WHERE seq >= $1 AND seq <= $3 ORDER BY seq LIMIT $2",
            )
            .bind(expected_seq)
            .bind(page)
            .bind(head_seq)
            .fetch_all(&mut *conn)
            .await?;
            let fetched = rows.len() as i64;
            for row in rows {
                let seq: i64 = row.try_get("seq")?;
                if seq != expected_seq {
                    return Ok(Verification::Broken {
                        seq: expected_seq,
                        reason: format!("第{expected_seq}条记录缺失（下一条为第{seq}条）"),
                    });
                }
                let stored_prev: String = row.try_get("prev_hash")?;
                let stored_hash: String = row.try_get("hash")?;
                let (at, actor, action, kind, id, detail): (
                    String,
                    String,
                    String,
                    String,
                    String,
                    String,
                ) = (
                    row.try_get("at")?,
                    row.try_get("actor")?,
                    row.try_get("action")?,
                    row.try_get("object_kind")?,
                    row.try_get("object_id")?,
                    row.try_get("detail")?,
                );
                if stored_prev != prev {
                    return Ok(Verification::Broken {
                        seq,
                        reason: format!(
                            "第{seq}条记录的前序哈希与第{}条记录不符（记录被删除或替换）",
                            seq - 1
                        ),
                    });
                }
                let record = AuditRecord {
                    seq,
                    at: &at,
                    actor: &actor,
                    action: &action,
                    object_kind: &kind,
                    object_id: &id,
                    detail: &detail,
                };
                let computed = chain_hash(&prev, &record);
                if computed != stored_hash {
                    return Ok(Verification::Broken {
                        seq,
                        reason: format!("第{seq}条记录的内容被修改（哈希不符）"),
                    });
                }
                prev = stored_hash;
                expected_seq += 1;
            }
            if fetched < page {
                break;
            }
        }
        if head_seq != expected_seq - 1 {
            return Ok(Verification::Broken {
                seq: expected_seq,
                reason: format!(
                    "日志末尾缺失记录：链头为第{head_seq}条，实际只有{}条",
                    expected_seq - 1
                ),
            });
        }
        if head_hash != prev {
            return Ok(Verification::Broken {
                seq: head_seq,
                reason: format!("第{head_seq}条记录与链头哈希不符（记录被修改或替换）"),
            });
        }
        Ok(Verification::Intact {
            entries: expected_seq - 1,
        })
    }

    /// The latest entries about one object, newest first.
    pub async fn audit_entries(
        &self,
        object_kind: &str,
        object_id: &str,
        limit: i64,
    ) -> Result<Vec<StoredEntry>, StoreError> {
        let rows = sqlx::query(
            "SELECT seq, at, actor, action, object_kind, object_id, detail, hash FROM audit_log \
             WHERE object_kind = $1 AND object_id = $2 ORDER BY seq DESC LIMIT $3",
        )
        .bind(object_kind)
        .bind(object_id)
        .bind(limit)
        .fetch_all(self.pool())
        .await?;
        rows.into_iter()
            .map(|row| {
                Ok(StoredEntry {
                    seq: row.try_get("seq")?,
                    at: row.try_get("at")?,
                    actor: row.try_get("actor")?,
                    action: row.try_get("action")?,
                    object_kind: row.try_get("object_kind")?,
                    object_id: row.try_get("object_id")?,
                    detail: row.try_get("detail")?,
                    hash: row.try_get("hash")?,
                })
            })
            .collect()
    }
}
