//! Idempotency keys: a POST repeated with the same key has the effect of one.
//!
//! The key is recorded in the same job as the effect, so a retry that races
//! the first request is answered from the record and does nothing twice.

use futures::future::BoxFuture;
use jiff::Timestamp;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::Row;

use crate::db::micros;
use crate::{Conn, Store, StoreError};

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

impl Store {
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
    ) -> Result<T, StoreError>
    where
        T: Serialize + DeserializeOwned + Send + 'static,
        F: for<'c> FnOnce(&'c mut Conn) -> BoxFuture<'c, Result<T, StoreError>> + Send + 'static,
    {
        let Some(key) = key else {
            return self.write(job).await;
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
                    return serde_json::from_str(&response).map_err(StoreError::backend);
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
                Ok(result)
            })
        })
        .await
    }
}
