//! Store errors. Domain refusals pass through unchanged so the server can show
//! the rule that refused; backend errors keep their detail for the log only.

use onewindow_core::DomainError;

#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    #[error("{what} not found")]
    NotFound { what: &'static str },
    /// Someone else changed the object first (optimistic version check), or a
    /// unique value is taken.
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// Authorization refused inside a job (the object belongs to someone else).
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The same Idempotency-Key was used for a different request.
    #[error("idempotency key reused for a different request")]
    IdempotencyMismatch,
    #[error("database error: {0}")]
    Backend(String),
}

impl StoreError {
    pub fn backend(e: impl std::fmt::Display) -> Self {
        StoreError::Backend(e.to_string())
    }

    pub fn not_found(what: &'static str) -> Self {
        StoreError::NotFound { what }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        match &e {
            sqlx::Error::RowNotFound => StoreError::NotFound { what: "row" },
            sqlx::Error::Database(db) if db.is_unique_violation() => {
                StoreError::Conflict(db.constraint().unwrap_or("unique").to_string())
            }
            _ => StoreError::Backend(e.to_string()),
        }
    }
}

/// Which constraint a failed write broke, for mapping it to bad input that
/// names the field (a taken code, a missing department) instead of a backend
/// error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Violation {
    Unique,
    ForeignKey,
}

pub(crate) fn violation(e: &sqlx::Error) -> Option<Violation> {
    match e {
        sqlx::Error::Database(db) if db.is_unique_violation() => Some(Violation::Unique),
        sqlx::Error::Database(db) if db.is_foreign_key_violation() => Some(Violation::ForeignKey),
        _ => None,
    }
}

/// Maps a failed write to bad input naming a field: `on_unique` (field,
/// message) for a unique violation, `on_foreign_key` for a reference to a
/// missing row; any other error as usual.
pub(crate) fn input_error(
    e: sqlx::Error,
    on_unique: Option<(&str, &str)>,
    on_foreign_key: Option<(&str, &str)>,
) -> StoreError {
    let named = match violation(&e) {
        Some(Violation::Unique) => on_unique,
        Some(Violation::ForeignKey) => on_foreign_key,
        None => None,
    };
    match named {
        Some((field, message)) => StoreError::Domain(DomainError::invalid(field, message)),
        None => StoreError::from(e),
    }
}
