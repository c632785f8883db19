//! Uploaded files, kept in the database so a file and the record that uses it
//! are committed together.

use jiff::Timestamp;
use onewindow_core::audit::sm3_hex;
use sqlx::Row;

use crate::db::micros;
use crate::{Conn, Store, StoreError};

/// A file to store. The server has checked its type by content.
#[derive(Debug, Clone)]
pub struct NewFile {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct FileInfo {
    pub id: i64,
    pub name: String,
    pub content_type: String,
    pub size: i64,
    pub sm3: String,
}

pub(crate) async fn insert_file(
    conn: &mut Conn,
    file: &NewFile,
    now: Timestamp,
) -> Result<FileInfo, StoreError> {
    let digest = sm3_hex(&file.bytes);
    let row = sqlx::query(
        "INSERT INTO files (name, content_type, size, sm3, bytes, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
    )
    .bind(&file.name)
    .bind(&file.content_type)
    .bind(file.bytes.len() as i64)
    .bind(&digest)
    .bind(&file.bytes)
    .bind(micros(now))
    .fetch_one(&mut *conn)
    .await?;
    Ok(FileInfo {
        id: row.try_get("id")?,
        name: file.name.clone(),
        content_type: file.content_type.clone(),
        size: file.bytes.len() as i64,
        sm3: digest,
    })
}

impl Store {
    pub async fn store_file(&self, file: NewFile, now: Timestamp) -> Result<FileInfo, StoreError> {
        self.write(move |conn| Box::pin(async move { insert_file(conn, &file, now).await }))
            .await
    }

    /// A file's description and bytes.
    pub async fn file(&self, id: i64) -> Result<(FileInfo, Vec<u8>), StoreError> {
        let row =
            sqlx::query("SELECT id, name, content_type, size, sm3, bytes FROM files WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await?
                .ok_or(StoreError::not_found("file"))?;
        Ok((
            FileInfo {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                content_type: row.try_get("content_type")?,
                size: row.try_get("size")?,
                sm3: row.try_get("sm3")?,
            },
            row.try_get("bytes")?,
        ))
    }
}

impl Store {
    /// The card whose answer (an explanation, rectification report or
    /// appeal) a file is attached to, if any.
    pub async fn card_of_file(&self, file_id: i64) -> Result<Option<i64>, StoreError> {
        // `attachments` is a JSON array of ids, written without spaces.
        let row = sqlx::query(
            "SELECT card_id FROM card_events WHERE attachments = $1 OR attachments LIKE $2 \
             OR attachments LIKE $3 OR attachments LIKE $4 ORDER BY id LIMIT 1",
        )
        .bind(format!("[{file_id}]"))
        .bind(format!("[{file_id},%"))
        .bind(format!("%,{file_id}]"))
        .bind(format!("%,{file_id},%"))
        .fetch_optional(self.pool())
        .await?;
        Ok(row.map(|r| r.try_get("card_id")).transpose()?)
    }

    /// The case a file was handed in with, if it is a case material.
    pub async fn case_of_file(&self, file_id: i64) -> Result<Option<i64>, StoreError> {
        let row = sqlx::query("SELECT case_id FROM case_materials WHERE file_id = $1")
            .bind(file_id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|r| r.try_get("case_id")).transpose()?)
    }
}
