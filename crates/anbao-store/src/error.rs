//! The store's error type: what a caller can act on (not found, conflict,
//! invalid input) kept apart from what it cannot (database down, corrupt row).

use anbao_model::validate::Invalid;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// A value the caller supplied is not acceptable; names the field.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// An upload larger than the configured limit (HTTP 413).
    #[error("the {what} is {size} bytes; at most {max} are accepted")]
    TooLarge { what: &'static str, size: u64, max: u64 },
    #[error("{what} {id} not found")]
    NotFound { what: &'static str, id: String },
    /// The change would break a uniqueness or tree rule; says which.
    #[error("{0}")]
    Conflict(String),
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("cannot connect to {url}: {cause}")]
    Connect { url: String, cause: sqlx::Error },
    #[error("migration {version} ({name}) failed: {cause}")]
    Migration { version: i64, name: &'static str, cause: sqlx::Error },
    #[error("the database schema is at version {found}, newer than this anbao knows ({known}); upgrade anbao")]
    SchemaTooNew { found: i64, known: i64 },
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error(transparent)]
    Seal(#[from] crate::seal::SealError),
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    #[error("password hashing failed: {0}")]
    Hash(String),
}

impl StoreError {
    pub(crate) fn not_found(what: &'static str, id: impl ToString) -> StoreError {
        StoreError::NotFound { what, id: id.to_string() }
    }

    /// Maps a unique-constraint violation to a conflict with `message`.
    pub(crate) fn unique_or(e: sqlx::Error, message: impl FnOnce() -> String) -> StoreError {
        match &e {
            sqlx::Error::Database(db) if db.kind() == sqlx::error::ErrorKind::UniqueViolation => {
                StoreError::Conflict(message())
            }
            _ => StoreError::Db(e),
        }
    }
}
