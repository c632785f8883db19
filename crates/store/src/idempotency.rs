//! Idempotency keys: a POST repeated with the same key has the effect of one.
//!
//! Two ways to keep a key. The case handlers record it in the same job as
//! the effect ([`Store::write_once`]), so a retry that races the first request
//! is answered from the record and does nothing twice. Every other request
//! under `/api/v1` goes through a reservation: [`Store::reserve_idempotency_key`]
//! before the handler runs (a second request with the key meanwhile is told
//! the first is still running), [`Store::complete_idempotency_key`] with the
//! answer afterwards (replayed to every repeat), or
//! [`Store::release_idempotency_key`] when the request was refused, so that a
//! corrected retry runs. [`Store::purge_idempotency_keys`] forgets old keys.

use futures::future::BoxFuture;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;

use crate::db::{from_micros, micros};
use crate::{Conn, Store, StoreError};

/// How long a key is kept by default: a client retries within minutes, and
/// after a day the same key may mean something new.
pub const IDEMPOTENCY_RETENTION: SignedDuration = SignedDuration::from_hours(24);

/// The `status` of a reserved key whose request is still running.
const RESERVED: i64 = 0;

/// A key as sent by a client, scoped to the sender.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdempotencyKey {
    /// `staff:ID` or `public`.
    pub scope: String,
    pub key: String,
    /// Digest of the request (method, path, body): the same key with another
    /// request is refused.
    pub request_hash: String,
}

/// An answer recorded for a key, replayed to every repeat of its request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedAnswer {
    /// The HTTP status of the first answer.
    pub status: u16,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

/// What a reservation found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reservation {
    /// The key is new and now held for this request: run it, then complete
    /// or release the key.
    Reserved,
    /// The request ran before; this was its answer.
    Answered(RecordedAnswer),
    /// The first request with this key has not finished (or its process
    /// ended before recording how it went), reserved at `since`.
    Running { since: Timestamp },
}

fn encode_body(body: &[u8]) -> (String, &'static str) {
    match std::str::from_utf8(body) {
        Ok(text) => (text.to_string(), "text"),
        Err(_) => (hex::encode(body), "hex"),
    }
}

fn decode_body(text: String, encoding: &str) -> Result<Vec<u8>, StoreError> {
    match encoding {
        "hex" => hex::decode(text).map_err(StoreError::backend),
        _ => Ok(text.into_bytes()),
    }
}

impl Store {
    /// Holds `key` for a request about to run, or says what became of the
    /// request that used it first. A key used for a different request is
    /// refused with [`StoreError::IdempotencyMismatch`].
    pub async fn reserve_idempotency_key(
        &self,
        key: &IdempotencyKey,
        now: Timestamp,
    ) -> Result<Reservation, StoreError> {
        let key = key.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let inserted = sqlx::query(
                    "INSERT INTO idempotency_keys (scope, key, request_hash, status, response, created_at) \
                     VALUES ($1, $2, $3, $4, '', $5) ON CONFLICT (scope, key) DO NOTHING",
                )
                .bind(&key.scope)
                .bind(&key.key)
                .bind(&key.request_hash)
                .bind(RESERVED)
                .bind(micros(now))
                .execute(&mut *conn)
                .await?
                .rows_affected();
                if inserted == 1 {
                    return Ok(Reservation::Reserved);
                }
                let row = sqlx::query(
                    "SELECT request_hash, status, response, content_type, body_encoding, created_at \
                     FROM idempotency_keys WHERE scope = $1 AND key = $2",
                )
                .bind(&key.scope)
                .bind(&key.key)
                .fetch_one(&mut *conn)
                .await?;
                let request_hash: String = row.try_get("request_hash")?;
                if request_hash != key.request_hash {
                    return Err(StoreError::IdempotencyMismatch);
                }
                let status: i64 = row.try_get("status")?;
                if status == RESERVED {
                    return Ok(Reservation::Running {
                        since: from_micros(row.try_get("created_at")?)?,
                    });
                }
                let encoding: String = row.try_get("body_encoding")?;
                Ok(Reservation::Answered(RecordedAnswer {
                    status: u16::try_from(status).map_err(StoreError::backend)?,
                    content_type: row.try_get("content_type")?,
                    body: decode_body(row.try_get("response")?, &encoding)?,
                }))
            })
        })
        .await
    }

    /// Records the answer to the request that reserved `key`.
    pub async fn complete_idempotency_key(
        &self,
        key: &IdempotencyKey,
        answer: RecordedAnswer,
    ) -> Result<(), StoreError> {
        let key = key.clone();
        self.write(move |conn| {
            Box::pin(async move {
                let (body, encoding) = encode_body(&answer.body);
                sqlx::query(
                    "UPDATE idempotency_keys SET status = $1, response = $2, content_type = $3, \
                     body_encoding = $4 WHERE scope = $5 AND key = $6 AND request_hash = $7 AND status = $8",
                )
                .bind(i64::from(answer.status))
                .bind(body)
                .bind(answer.content_type)
                .bind(encoding)
                .bind(&key.scope)
                .bind(&key.key)
                .bind(&key.request_hash)
                .bind(RESERVED)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Lets go of a reserved key whose request was refused, so that the
    /// corrected request can use it.
    pub async fn release_idempotency_key(&self, key: &IdempotencyKey) -> Result<(), StoreError> {
        let key = key.clone();
        self.write(move |conn| {
            Box::pin(async move {
                sqlx::query(
                    "DELETE FROM idempotency_keys \
                     WHERE scope = $1 AND key = $2 AND request_hash = $3 AND status = $4",
                )
                .bind(&key.scope)
                .bind(&key.key)
                .bind(&key.request_hash)
                .bind(RESERVED)
                .execute(&mut *conn)
                .await?;
                Ok(())
            })
        })
        .await
    }

    /// Forgets the keys first used before `cutoff` (normally now minus
    /// [`IDEMPOTENCY_RETENTION`]); a repeat after that runs as a new request.
    /// Returns how many keys were deleted.
    pub async fn purge_idempotency_keys(&self, cutoff: Timestamp) -> Result<u64, StoreError> {
        self.write(move |conn| {
            Box::pin(async move {
                Ok(
                    sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
                        .bind(micros(cutoff))
                        .execute(&mut *conn)
                        .await?
                        .rows_affected(),
                )
            })
        })
        .await
    }

    /// The answer recorded for `key`, if the key was used before; a key used
    /// for a different request is refused.
    pub async fn idempotent_answer<T: DeserializeOwned>(
        &self,
        key: &IdempotencyKey,
    ) -> Result<Option<T>, StoreError> {
        let seen = sqlx::query(
            "SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = $2",
        )
        .bind(&key.scope)
        .bind(&key.key)
        .fetch_optional(self.pool())
        .await?;
        let Some(row) = seen else { return Ok(None) };
        let request_hash: String = row.try_get("request_hash")?;
        if request_hash != key.request_hash {
            return Err(StoreError::IdempotencyMismatch);
        }
        let response: String = row.try_get("response")?;
        serde_json::from_str(&response)
            .map(Some)
            .map_err(StoreError::backend)
    }

    /// Like [`Store::write`], but when `key` was seen before returns the first
    /// result again instead of running `job`.
    pub async fn write_once<T, F>(
        &self,
        key: Option<IdempotencyKey>,
        now: Timestamp,
        job: F,
    ) -> Result<Once<T>, StoreError>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let Some(key) = key else {
            return Ok(Once {
                value: self.write(job).await?,
                replayed: false,
            });
        };
        self.write(move |conn| {
            Box::pin(async move {
                let seen = sqlx::query("SELECT request_hash, response FROM idempotency_keys WHERE scope = $1 AND key = $2")
                    .bind(&key.scope)
                    .bind(&key.key)
                    .fetch_optional(&mut *conn)
                    .await?;
                if let Some(row) = seen {
                    let request_hash: String = row.try_get("request_hash")?;
                    if request_hash != key.request_hash {
                        return Err(StoreError::IdempotencyMismatch);
                    }
                    let response: String = row.try_get("response")?;
                    return serde_json::from_str(&response)
                        .map(|value| Once {
                            value,
                            replayed: true,
                        })
                        .map_err(StoreError::backend);
                }
                let result = job(conn).await?;
                let response = serde_json::to_string(&result).map_err(StoreError::backend)?;
                sqlx::query(
                    "INSERT INTO idempotency_keys (scope, key, request_hash, status, response, created_at) \
                     VALUES ($1, $2, $3, 200, $4, $5)",
                )
                .bind(&key.scope)
                .bind(&key.key)
                .bind(&key.request_hash)
                .bind(&response)
                .bind(micros(now))
                .execute(&mut *conn)
                .await?;
                Ok(Once {
                    value: result,
                    replayed: false,
                })
            })
        })
        .await
    }
}

/// What [`Store::write_once`] answers.
#[derive(Debug)]
pub struct Once<T> {
    pub value: T,
    /// The first request's result given again: `job` did not run.
    pub replayed: bool,
}
