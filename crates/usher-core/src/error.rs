use usher_domain::Invalid;

use crate::store::StoreError;

/// What a service call can fail with; the server maps each variant to one HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] Invalid),
    #[error("sign-in failed")]
    BadCredentials,
    #[error("authentication required")]
    Unauthenticated,
    /// Too many failed sign-ins: the account or the client address is locked for
    /// this many more seconds (the same answer whether the account exists or not).
    #[error("sign-in locked for {retry_after_secs} s")]
    Locked { retry_after_secs: u64 },
    /// A wrong or already used second-step code (the sign-in ticket still works).
    #[error("wrong second-step code")]
    BadCode,
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    #[error("not found")]
    NotFound,
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot take the request now (disk full, read-only, busy,
    /// connection lost); the server answers 503 with `Retry-After`. The text is for the log.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound,
            StoreError::Conflict { constraint } => Error::Conflict(constraint),
            StoreError::Unavailable(msg) => Error::Unavailable(msg),
            StoreError::Backend(msg) => Error::Internal(msg),
        }
    }
}
