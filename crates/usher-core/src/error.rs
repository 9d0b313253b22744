use std::{fmt, sync::Arc};

use usher_domain::Invalid;

use crate::{conflict::Conflict, store::StoreError};

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
    /// The change conflicts with the current state; the kind says how.
    #[error("conflict: {0}")]
    Conflict(#[from] Conflict),
    /// The database cannot take the request now (disk full, read-only, busy,
    /// connection lost); the server answers 503 with `Retry-After`. The text is for the log.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// A failure on the server's side. The cause, with its chain of sources, is
    /// for the log ([`Chain`]); clients learn only that something went wrong.
    #[error(transparent)]
    Internal(Cause),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// An internal error with this cause (an error, or a description).
    pub fn internal(cause: impl Into<Cause>) -> Self {
        Error::Internal(cause.into())
    }
}

/// The one place a store's error becomes a service error: a broken rule gets
/// its meaning ([`Conflict::of_constraint`]), an engine failure stays whole as
/// the cause of an internal error.
impl From<StoreError> for Error {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => Error::NotFound,
            StoreError::Conflict { constraint } => Error::Conflict(Conflict::of_constraint(&constraint)),
            StoreError::Unavailable(msg) => Error::Unavailable(msg),
            StoreError::Backend(cause) => Error::Internal(cause),
        }
    }
}

/// The cause of a failure on the server's side, kept whole with its own chain
/// of sources (it shows as the error it wraps), and cheap to clone.
#[derive(Clone)]
pub struct Cause(Arc<dyn std::error::Error + Send + Sync>);

impl Cause {
    pub fn new(e: impl std::error::Error + Send + Sync + 'static) -> Self {
        Self(Arc::new(e))
    }
}

impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl std::error::Error for Cause {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}

/// A cause known only by its description.
#[derive(Debug)]
struct Described(String);

impl fmt::Display for Described {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Described {}

impl From<String> for Cause {
    fn from(text: String) -> Self {
        Self::new(Described(text))
    }
}

impl From<&str> for Cause {
    fn from(text: &str) -> Self {
        Self::new(Described(text.to_owned()))
    }
}

/// Shows an error followed by each of its sources (`a: b: c`), for the log.
pub struct Chain<'a>(pub &'a (dyn std::error::Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut next = self.0.source();
        while let Some(e) = next {
            write!(f, ": {e}")?;
            next = e.source();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("outer")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn an_engine_failure_keeps_its_chain_for_the_log() {
        let engine = Outer(std::io::Error::other("disk on fire"));
        let e = Error::from(StoreError::Backend(Cause::new(engine)));
        assert!(matches!(e, Error::Internal(_)));
        assert_eq!(Chain(&e).to_string(), "outer: disk on fire");
        assert_eq!(Chain(&Error::internal("no hashing threads")).to_string(), "no hashing threads");
    }

    #[test]
    fn a_broken_rule_becomes_its_conflict_without_its_name() {
        let e = Error::from(StoreError::Conflict { constraint: "users_email".into() });
        assert!(matches!(e, Error::Conflict(Conflict::EmailTaken)), "{e:?}");
        let e = Error::from(StoreError::Conflict { constraint: "organizations_slug_key".into() });
        assert!(matches!(e, Error::Conflict(Conflict::Exists)), "{e:?}");
        assert!(!e.to_string().contains("slug"), "{e}");
    }
}
