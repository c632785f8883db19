//! The outbox of alerts: messages written in the transaction that issued
//! their card, claimed by a sender under a lease (so two nodes do not send
//! the same message at once, and a sender that dies leaves it to the next),
//! retried with growing delays, and after the last attempt left as failed
//! for someone to re-send from the admin pages. Delivery is at least once;
//! the message id lets receivers drop repeats.

use jiff::{SignedDuration, Timestamp};
use onewindow_core::supervision::Channel;
use serde::{Deserialize, Serialize};
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::audit::{self, Entry};
use crate::cases::Who;
use crate::db::{from_micros, micros};
use crate::{Store, StoreError};

/// Attempts before a message is left as failed.
pub const MAX_ATTEMPTS: i64 = 8;

/// The delay before attempt `attempts + 1`: 30 s, doubling, at most 1 h.
pub fn backoff(attempts: i64) -> SignedDuration {
    let exponent = attempts.clamp(1, 8) - 1;
    SignedDuration::from_secs((30i64 << exponent).min(3600))
}

/// A message in the outbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub message_id: String,
    pub channel: Channel,
    pub card_id: Option<i64>,
    pub staff_id: Option<i64>,
    pub address: String,
    pub subject: String,
    pub body: String,
    pub payload: serde_json::Value,
    pub state: String,
    pub attempts: i64,
    pub next_attempt_at: Timestamp,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub sent_at: Option<Timestamp>,
}

const COLUMNS: &str = "id, message_id, channel, card_id, staff_id, address, subject, body, payload, \
    state, attempts, next_attempt_at, last_error, created_at, sent_at";

fn message_from(row: &AnyRow) -> Result<OutboxMessage, StoreError> {
    let channel: String = row.try_get("channel")?;
    let payload: String = row.try_get("payload")?;
    Ok(OutboxMessage {
        id: row.try_get("id")?,
        message_id: row.try_get("message_id")?,
        channel: Channel::parse(&channel)
            .ok_or_else(|| StoreError::Backend(format!("bad channel {channel:?} in outbox")))?,
        card_id: row.try_get("card_id")?,
        staff_id: row.try_get("staff_id")?,
        address: row.try_get("address")?,
        subject: row.try_get("subject")?,
        body: row.try_get("body")?,
        payload: serde_json::from_str(&payload).unwrap_or(serde_json::Value::Null),
        state: row.try_get("state")?,
        attempts: row.try_get("attempts")?,
        next_attempt_at: from_micros(row.try_get("next_attempt_at")?)?,
        last_error: row.try_get("last_error")?,
        created_at: from_micros(row.try_get("created_at")?)?,
        sent_at: row
            .try_get::<Option<i64>, _>("sent_at")?
            .map(from_micros)
            .transpose()?,
    })
}

impl Store {
    /// Claims up to `limit` pending messages due at `now` for `lease`: no
    /// other sender takes them until the lease ends.
    pub async fn claim_messages(
        &self,
        now: Timestamp,
        limit: i64,
        lease: SignedDuration,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let until = micros(now + lease);
        self.write(move |conn| {
            Box::pin(async move {
                let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE outbox SET lease_until = $1, attempts = attempts + 1 \
                     WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_attempt_at <= $2 \
                     AND (lease_until IS NULL OR lease_until <= $2) ORDER BY next_attempt_at, id LIMIT $3) \
                     AND state = 'pending' AND (lease_until IS NULL OR lease_until <= $2) \
                     RETURNING {COLUMNS}"
                )))
                .bind(until)
                .bind(micros(now))
                .bind(limit)
                .fetch_all(&mut *conn)
                .await?;
                rows.iter().map(message_from).collect()
            })
        })
        .await
    }

    /// Records a delivery; the card of the message counts as notified.
    pub async fn message_sent(&self, id: i64, now: Timestamp) -> Result<(), StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let row = sqlx::query(
                    "UPDATE outbox SET state = 'sent', sent_at = $1, lease_until = NULL, last_error = NULL \
                     WHERE id = $2 RETURNING card_id, channel",
                )
                .bind(micros(now))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::not_found("message"))?;
                if let Some(card_id) = row.try_get::<Option<i64>, _>("card_id")? {
                    let channel: String = row.try_get("channel")?;
                    let how = format!(
                        "{}已送达",
                        Channel::parse(&channel).map_or("消息", |c| c.label())
                    );
                    crate::cards::mark_notified(conn, card_id, None, &how, now).await?;
                }
                Ok(())
            })
        })
        .await
    }

    /// Records a failed attempt: retried after [`backoff`], or left as
    /// failed after [`MAX_ATTEMPTS`].
    pub async fn message_failed(
        &self,
        id: i64,
        error: &str,
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let error: String = error.chars().take(1000).collect();
        self.write(move |conn| {
            Box::pin(async move {
                let attempts: i64 = sqlx::query("SELECT attempts FROM outbox WHERE id = $1")
                    .bind(id)
                    .fetch_optional(&mut *conn)
                    .await?
                    .ok_or(StoreError::not_found("message"))?
                    .try_get("attempts")?;
                let state = if attempts >= MAX_ATTEMPTS {
                    "failed"
                } else {
                    "pending"
                };
                sqlx::query(
                    "UPDATE outbox SET state = $1, last_error = $2, lease_until = NULL, \
                     next_attempt_at = $3 WHERE id = $4",
                )
                .bind(state)
                .bind(&error)
                .bind(micros(now + backoff(attempts)))
                .bind(id)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Puts a failed message back in the queue with fresh attempts (an
    /// admin's re-send), audited.
    pub async fn resend_message(
        &self,
        actor: i64,
        id: i64,
        now: Timestamp,
    ) -> Result<OutboxMessage, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                    "UPDATE outbox SET state = 'pending', attempts = 0, next_attempt_at = $1, \
                     lease_until = NULL WHERE id = $2 AND state = 'failed' RETURNING {COLUMNS}"
                )))
                .bind(micros(now))
                .bind(id)
                .fetch_optional(&mut *conn)
                .await?;
                let Some(row) = row else {
                    let exists = sqlx::query("SELECT state FROM outbox WHERE id = $1")
                        .bind(id)
                        .fetch_optional(&mut *conn)
                        .await?;
                    return Err(match exists {
                        None => StoreError::not_found("message"),
                        Some(_) => StoreError::Domain(onewindow_core::DomainError::invalid(
                            "id",
                            "只有发送失败的消息才能重新发送",
                        )),
                    });
                };
                let message = message_from(&row)?;
                audit::append(
                    conn,
                    now,
                    Entry {
                        actor: &Who::Staff(actor).audit_actor(),
                        action: "outbox.resend",
                        object_kind: "outbox",
                        object_id: &message.message_id,
                        detail: &serde_json::json!({ "id": id }),
                    },
                )
                .await?;
                Ok(message)
            })
        })
        .await
    }

    /// Messages in `state` (all when none), newest first.
    pub async fn messages(
        &self,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<OutboxMessage>, StoreError> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE ($1 IS NULL OR state = $1) ORDER BY id DESC LIMIT $2"
        )))
        .bind(state)
        .bind(limit.clamp(1, 1000))
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(message_from).collect()
    }
}
