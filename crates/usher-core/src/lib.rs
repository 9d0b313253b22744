//! Usher's services: every business rule lives here, so the REST API, the web UI
//! and the CLI all call the same functions. Storage is behind the [`Store`] trait.

pub mod access;
pub mod accounts;
pub mod audit;
pub mod auth;
pub mod clock;
pub mod conflict;
pub mod csv_cell;
mod cursor;
pub mod directory;
mod error;
mod hashing;
pub mod import;
pub mod invitations;
pub mod mail;
pub mod metadata;
pub mod mfa;
pub mod overview;
pub mod passwords;
pub mod protection;
pub mod reveal;
pub mod secrets;
pub mod sessions;
pub mod settings;
pub mod setup;
pub mod store;
mod token_lookup;
pub mod tokens;
pub mod users;

use std::{sync::Arc, time::Duration};

use chrono::{DateTime, Utc};
pub use clock::{Clock, SystemClock, TestClock};
pub use conflict::Conflict;
pub use error::{Cause, Chain, Error, Result};
pub use store::{Store, StoreError};

/// Tunables of the services that operators may change.
#[derive(Debug, Clone)]
pub struct CoreConfig {
    /// A session unused for this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in, however active.
    pub session_max: Duration,
    /// argon2id cost: memory in KiB, iterations, lanes.
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_lanes: u32,
    /// The address people use to reach the server, for links in emails (no trailing slash).
    pub base_url: String,
    /// How failed sign-ins slow down and lock accounts and addresses.
    pub lockout: protection::LockoutPolicy,
    /// Maximum password age of administrators, set by the operator only; `None`: never expires.
    pub admin_password_max_age_days: Option<u32>,
}

impl Default for CoreConfig {
    fn default() -> Self {
        Self {
            session_idle: Duration::from_secs(30 * 60),
            session_max: Duration::from_secs(10 * 3600),
            // OWASP's argon2id recommendation (m=19 MiB, t=2, p=1).
            argon2_memory_kib: 19_456,
            argon2_iterations: 2,
            argon2_lanes: 1,
            base_url: "http://127.0.0.1:8080".into(),
            lockout: protection::LockoutPolicy::default(),
            admin_password_max_age_days: None,
        }
    }
}

/// Bearer-token lookup queries that may run at once (see [`token_lookup`]).
const TOKEN_LOOKUP_LANES: usize = 2;

/// The services, sharing one store, one password hasher and one clock. Cheap to clone.
#[derive(Clone)]
pub struct Usher {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) hasher: hashing::Hasher,
    pub(crate) config: Arc<CoreConfig>,
    /// Wakes this node's email delivery worker when mail is queued.
    pub(crate) mail_wake: Arc<tokio::sync::Notify>,
    /// Bearer-token lookups, batched under load.
    pub(crate) token_lookup: Arc<token_lookup::TokenLookup>,
    /// The key list cursors are signed with (see [`cursor`]).
    pub(crate) cursor_key: cursor::CursorKey,
    /// Where every rule about time reads it (see [`clock`]).
    pub(crate) clock: Arc<dyn Clock>,
    /// Audit event ids, made from the events' times on this clock.
    pub(crate) event_ids: Arc<audit::EventIds>,
}

impl Usher {
    /// The services on the system's clock.
    pub fn new(store: Arc<dyn Store>, config: CoreConfig) -> Result<Self> {
        Self::with_clock(store, config, Arc::new(SystemClock))
    }

    /// The services reading the time from `clock` (tests and simulations move
    /// time with a [`TestClock`]).
    pub fn with_clock(store: Arc<dyn Store>, config: CoreConfig, clock: Arc<dyn Clock>) -> Result<Self> {
        let hasher = hashing::Hasher::new(&config)?;
        let token_lookup = Arc::new(token_lookup::TokenLookup::new(Arc::clone(&store), TOKEN_LOOKUP_LANES));
        Ok(Self {
            store,
            hasher,
            config: Arc::new(config),
            mail_wake: Arc::default(),
            token_lookup,
            cursor_key: Arc::default(),
            clock,
            event_ids: Arc::default(),
        })
    }

    /// The time by this instance's clock. Every rule about time reads it, the
    /// edges' too (e.g. whether a listed token has expired).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn config(&self) -> &CoreConfig {
        &self.config
    }

    /// Whether the database answers, for health checks.
    pub async fn ping(&self) -> Result<()> {
        Ok(self.store.ping().await?)
    }

    /// Whether the database takes writes now, for readiness checks and the
    /// start-up check (nothing is written).
    pub async fn check_writable(&self) -> Result<()> {
        Ok(self.store.check_writable().await?)
    }
}

/// Where a request came from, recorded with every audit event.
#[derive(Debug, Clone, Default)]
pub struct RequestContext {
    pub address: Option<String>,
    pub client: Option<String>,
}
