//! Connection set-up and the conversions between core values and columns.

use jiff::Timestamp;
use jiff::civil::Date;
use sqlx::{AnyConnection, Connection, Executor};

use crate::StoreError;

/// The connection type every query runs on.
pub type Conn = AnyConnection;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Picks the backend from the URL; makes a SQLite URL create its file.
pub(crate) fn normalize_url(url: &str) -> Result<(Backend, String), StoreError> {
    if let Some(rest) = url.strip_prefix("sqlite:") {
        if rest.contains(":memory:") {
            return Err(StoreError::Backend(
                "an in-memory SQLite database cannot be shared by the writer and the readers; give a file".into(),
            ));
        }
        let url = if rest.contains("mode=") {
            url.to_string()
        } else if rest.contains('?') {
            format!("{url}&mode=rwc")
        } else {
            format!("{url}?mode=rwc")
        };
        Ok((Backend::Sqlite, url))
    } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
        Ok((Backend::Postgres, url.to_string()))
    } else {
        Err(StoreError::Backend(format!(
            "unsupported database URL {url:?}: use sqlite:PATH or postgres://USER@HOST/DB"
        )))
    }
}

/// Per-connection settings. SQLite: WAL with synchronous=FULL, so a commit is
/// on disk when it returns and SIGKILL loses nothing acknowledged; temporary
/// tables in memory; a page cache of `cache_mib`: 64 MiB for the writer, so
/// a transaction touching a million rows (a calendar change) does not spill
/// its pages mid-way, 16 MiB for each reader (the OS page cache holds the
/// rest), which keeps a server with a million open cases well under 300 MiB.
pub(crate) async fn prepare_connection(
    backend: Backend,
    conn: &mut Conn,
    cache_mib: i64,
) -> Result<(), sqlx::Error> {
    if backend == Backend::Sqlite {
        let pragmas = format!(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; \
             PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
             PRAGMA cache_size = -{}; PRAGMA temp_store = MEMORY;",
            cache_mib * 1024
        );
        conn.execute(sqlx::AssertSqlSafe(pragmas)).await?;
    }
    Ok(())
}

/// The page cache of the writer's connection and of each reader's, in MiB.
pub(crate) const WRITER_CACHE_MIB: i64 = 64;
pub(crate) const READER_CACHE_MIB: i64 = 16;

pub(crate) async fn connect_one(backend: Backend, url: &str) -> Result<Conn, StoreError> {
    let mut conn = AnyConnection::connect(url)
        .await
        .map_err(StoreError::backend)?;
    prepare_connection(backend, &mut conn, WRITER_CACHE_MIB)
        .await
        .map_err(StoreError::backend)?;
    Ok(conn)
}

pub fn micros(at: Timestamp) -> i64 {
    at.as_microsecond()
}

pub fn from_micros(us: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_microsecond(us)
        .map_err(|e| StoreError::Backend(format!("bad instant {us}: {e}")))
}

pub fn date_text(date: Date) -> String {
    date.to_string()
}

pub fn parse_date(text: &str) -> Result<Date, StoreError> {
    text.parse()
        .map_err(|e| StoreError::Backend(format!("bad date {text:?}: {e}")))
}

pub fn parse_opt_date(text: Option<String>) -> Result<Option<Date>, StoreError> {
    text.as_deref().map(parse_date).transpose()
}

pub fn flag(value: bool) -> i64 {
    i64::from(value)
}

/// A LIKE pattern matching values that contain `text` (trimmed), with the
/// wildcards `%` and `_` and the escape character `\` taken literally; use it
/// with `LIKE $n ESCAPE '\'` (and `lower()` on both sides for the same case
/// rules on both backends: SQLite's LIKE ignores ASCII case, PostgreSQL's does
/// not). None when the text is blank.
pub fn contains_pattern(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() {
        return None;
    }
    let escaped = text
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    Some(format!("%{escaped}%"))
}

/// A JSON array parameter read as rows in a set-based statement: one
/// statement writes a whole batch (thousands of cards, messages, deadlines)
/// instead of one round trip per row.
pub(crate) struct JsonRows {
    backend: Backend,
    alias: String,
    source: String,
}

impl JsonRows {
    /// Rows of the JSON array in parameter `param` with `columns` (name,
    /// PostgreSQL type), aliased `alias`.
    pub(crate) fn new(
        backend: Backend,
        param: &str,
        alias: &str,
        columns: &[(&str, &str)],
    ) -> Self {
        let source = match backend {
            Backend::Sqlite => format!("json_each({param}) {alias}"),
            Backend::Postgres => format!(
                "json_to_recordset(CAST({param} AS json)) AS {alias}({})",
                columns
                    .iter()
                    .map(|(name, ty)| format!("{name} {ty}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        };
        JsonRows {
            backend,
            alias: alias.to_string(),
            source,
        }
    }

    /// The FROM item.
    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// The expression of column `name`.
    pub(crate) fn col(&self, name: &str) -> String {
        match self.backend {
            Backend::Sqlite => format!("{}.value->>'{name}'", self.alias),
            Backend::Postgres => format!("{}.{name}", self.alias),
        }
    }
}
