//! Usher's [`Store`] on PostgreSQL. Its schema lives in `migrations/`; it keeps
//! the SQLite store's behaviour in native types (uuid, timestamptz, bytea, jsonb).

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{
    Row,
    postgres::{PgPool, PgPoolOptions, PgRow},
};
use usher_core::{
    Cause,
    conflict::constraint,
    store::{
        ApiToken, AuditEvent, AuditQuery, AuditStore, NewUser, Organization, OrganizationStore, Profile, Session,
        SettingsStore, Store, StoreError, StoreResult, TokenFilter, TokenStore, User, UserStatus,
    },
};
use usher_domain::{OrgId, Role, TimeZone, TokenId, UserId};

/// The PostgreSQL store. Cheap to clone (a pool handle).
#[derive(Clone)]
pub struct PostgresStore {
    pool: PgPool,
    /// A few connections for bearer-token lookups only, which run with generic
    /// plans (see [`PostgresStore::connect`]).
    lookups: PgPool,
    losses: health::Losses,
}

/// A pooled connection idle longer than this is checked before it is handed out.
const IDLE_PING_AFTER: Duration = Duration::from_secs(30);

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://…`) and applies pending
    /// migrations. Several nodes may start at once: the migrator holds an
    /// advisory lock while it runs.
    pub async fn connect(url: &str) -> StoreResult<Self> {
        let losses = health::Losses::default();
        let pool = pool_options(16, &losses).connect(url).await.map_err(backend)?;
        // The token lookup is the hot path of every integration, and batched
        // (`digest = ANY($1)` with a varying number of digests): PostgreSQL
        // would plan each execution anew, which costs more than running it.
        // Its connections keep one generic plan instead.
        let lookups = pool_options(4, &losses)
            .after_connect(|conn, _| {
                Box::pin(async move {
                    sqlx::Executor::execute(conn, "SET plan_cache_mode = force_generic_plan").await?;
                    Ok(())
                })
            })
            .connect_lazy(url)
            .map_err(backend)?;
        let store = Self { pool, lookups, losses };
        store.migrate().await?;
        Ok(store)
    }

    /// Applies the migrations this build knows and the database lacks.
    pub async fn migrate(&self) -> StoreResult<()> {
        sqlx::migrate!("./migrations/postgres").run(&self.pool).await.map_err(backend)
    }

    /// The pool, for tests that read the database directly.
    pub fn pool(&self) -> &PgPool {
        &self.pool
    }
}

/// A pool of at most `max` connections. sqlx pings a pooled connection before
/// every use by default: a second round trip per query. These ping only
/// connections that sat idle a while, or since a connection was found closed.
fn pool_options(max: u32, losses: &health::Losses) -> PgPoolOptions {
    let losses = losses.clone();
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(move |conn, meta| {
            let suspect = meta.idle_for > IDLE_PING_AFTER || losses.idle_since_loss(meta.idle_for);
            Box::pin(async move {
                if suspect {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Cause::new(e))
}

/// Turns engine errors into store errors; PostgreSQL names the broken
/// uniqueness rule (`users_org_email_key`, `users_org_user_id_key`, …; any other
/// goes on by its name, for the log).
fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        _ if health::is_unavailable(&e) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let name = db.constraint().unwrap_or_default();
            let constraint = if name.contains("email") {
                constraint::EMAIL
            } else if name.contains("user_id") {
                constraint::USER_ID
            } else {
                name
            };
            StoreError::Conflict { constraint: constraint.to_owned() }
        }
        _ => backend(e),
    }
}

/// The columns of a user, with roles folded into one text column.
macro_rules! user_columns {
    () => {
        "u.id, u.org_id, u.user_id, u.email, u.first_name, u.last_name, u.phone, \
    u.contact_person, u.company, u.language, u.timezone, u.status, u.must_change_password, \
    u.password_changed_at, u.created_at, u.updated_at, u.last_login_at, u.metadata, \
    (SELECT string_agg(role, ',') FROM user_roles r WHERE r.user_id = u.id) AS roles"
    };
}

mod access;
mod bulk;
mod directory;
mod health;
mod invitations;
mod mail;
mod security;
mod tokens;
mod users;

fn user_from_row(row: &PgRow) -> Result<User, sqlx::Error> {
    let roles: Option<String> = row.try_get("roles")?;
    let mut roles: Vec<Role> = roles.unwrap_or_default().split(',').filter_map(|r| r.parse().ok()).collect();
    roles.sort();
    Ok(User {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        user_id: row.try_get("user_id")?,
        email: row.try_get("email")?,
        profile: Profile {
            first_name: row.try_get("first_name")?,
            last_name: row.try_get("last_name")?,
            phone: row.try_get("phone")?,
            contact_person: row.try_get("contact_person")?,
            company: row.try_get("company")?,
            language: row.try_get::<String, _>("language")?.parse().unwrap_or_default(),
            timezone: TimeZone::parse(&row.try_get::<String, _>("timezone")?).unwrap_or_default(),
        },
        status: UserStatus::from_stored(&row.try_get::<String, _>("status")?),
        roles,
        must_change_password: row.try_get("must_change_password")?,
        password_changed_at: row.try_get("password_changed_at")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        last_login_at: row.try_get("last_login_at")?,
        metadata: directory::metadata_from_row(row)?,
    })
}

fn org_from_row(row: &PgRow) -> Result<Organization, sqlx::Error> {
    Ok(Organization {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

fn audit_from_row(row: &PgRow) -> Result<AuditEvent, sqlx::Error> {
    Ok(AuditEvent {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        at: row.try_get("at")?,
        action: row.try_get("action")?,
        actor_id: row.try_get("actor_id")?,
        actor_name: row.try_get("actor_name")?,
        target_id: row.try_get("target_id")?,
        target_name: row.try_get("target_name")?,
        address: row.try_get("address")?,
        client: row.try_get("client")?,
        details: row.try_get("details")?,
    })
}

#[async_trait]
impl Store for PostgresStore {
    async fn ping(&self) -> StoreResult<()> {
        self.read(|| sqlx::query("SELECT 1").execute(&self.pool)).await.map_err(map_err).map(|_| ())
    }

    async fn check_writable(&self) -> StoreResult<()> {
        self.probe_write().await
    }
}

#[async_trait]
impl OrganizationStore for PostgresStore {
    async fn default_organization(&self) -> StoreResult<Option<Organization>> {
        let row = self
            .read(|| sqlx::query("SELECT * FROM organizations WHERE is_default").fetch_optional(&self.pool))
            .await
            .map_err(map_err)?;
        row.as_ref().map(org_from_row).transpose().map_err(map_err)
    }

    async fn organization_by_slug(&self, slug: &str) -> StoreResult<Option<Organization>> {
        let row = self
            .read(|| sqlx::query("SELECT * FROM organizations WHERE slug = $1").bind(slug).fetch_optional(&self.pool))
            .await
            .map_err(map_err)?;
        row.as_ref().map(org_from_row).transpose().map_err(map_err)
    }

    async fn insert_organization(&self, org: &Organization) -> StoreResult<()> {
        // Two first inserts racing both see an empty table; the partial unique
        // index on is_default turns the loser into a conflict.
        sqlx::query(
            "INSERT INTO organizations (id, slug, name, is_default, created_at) \
             VALUES ($1, $2, $3, NOT EXISTS (SELECT 1 FROM organizations), $4)",
        )
        .bind(org.id)
        .bind(&org.slug)
        .bind(&org.name)
        .bind(org.created_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn organization(&self, org_id: OrgId) -> StoreResult<Option<Organization>> {
        let row = sqlx::query(
            "SELECT id AS o_id, slug AS o_slug, name AS o_name, created_at AS o_created_at FROM organizations WHERE id = $1",
        )
        .bind(org_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(map_err)?;
        row.as_ref().map(invitations::org_from_row).transpose().map_err(map_err)
    }

    async fn insert_setup_token(&self, digest: &[u8], org_id: OrgId, expires_at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO setup_tokens (digest, org_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (digest) DO UPDATE SET used_at = NULL, expires_at = excluded.expires_at",
        )
        .bind(digest)
        .bind(org_id)
        .bind(expires_at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn setup_token_org(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<OrgId>> {
        self.read(|| {
            sqlx::query_scalar(
                "SELECT org_id FROM setup_tokens WHERE digest = $1 AND used_at IS NULL AND expires_at > $2",
            )
            .bind(digest)
            .bind(now)
            .fetch_optional(&self.pool)
        })
        .await
        .map_err(map_err)
    }

    async fn take_setup_token(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<OrgId>> {
        // One statement: of two concurrent takers, only one sees the row unused.
        self.read(|| {
            sqlx::query_scalar(
                "UPDATE setup_tokens SET used_at = $2 WHERE digest = $1 AND used_at IS NULL AND expires_at > $2 \
             RETURNING org_id",
            )
            .bind(digest)
            .bind(now)
            .fetch_optional(&self.pool)
        })
        .await
        .map_err(map_err)
    }
}

#[async_trait]
impl SettingsStore for PostgresStore {
    async fn setting(&self, org_id: OrgId, key: &str) -> StoreResult<Option<serde_json::Value>> {
        self.read(|| {
            sqlx::query_scalar("SELECT value FROM settings WHERE org_id = $1 AND key = $2")
                .bind(org_id)
                .bind(key)
                .fetch_optional(&self.pool)
        })
        .await
        .map_err(map_err)
    }

    async fn put_setting(
        &self,
        org_id: OrgId,
        key: &str,
        value: &serde_json::Value,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO settings (org_id, key, value, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (org_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(org_id)
        .bind(key)
        .bind(value)
        .bind(at)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn server_secret(&self, name: &str, candidate: &[u8]) -> StoreResult<Vec<u8>> {
        sqlx::query("INSERT INTO server_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
            .bind(name)
            .bind(candidate)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(&self.pool)
            .await
            .map_err(map_err)
    }

    async fn password_policies(&self) -> StoreResult<Vec<(OrgId, serde_json::Value)>> {
        let rows = sqlx::query("SELECT org_id, value FROM settings WHERE key = 'password_policy'")
            .fetch_all(&self.pool)
            .await
            .map_err(map_err)?;
        rows.iter()
            .map(|r| Ok((r.try_get("org_id")?, r.try_get("value")?)))
            .collect::<Result<_, sqlx::Error>>()
            .map_err(map_err)
    }
}

#[async_trait]
impl AuditStore for PostgresStore {
    async fn append_audit(&self, e: &AuditEvent) -> StoreResult<()> {
        append_audit_on(&self.pool, e).await
    }

    async fn audit_events(&self, org_id: OrgId, q: &AuditQuery) -> StoreResult<Vec<AuditEvent>> {
        // Ids are UUIDv7, so id order is time order; `before` is an id cursor.
        let rows = self
            .read(|| {
                sqlx::query(
                    "SELECT * FROM audit_events WHERE org_id = $1 \
             AND ($2::text IS NULL OR action = $2) AND ($3::uuid IS NULL OR actor_id = $3) \
             AND ($4::uuid IS NULL OR target_id = $4) AND ($5::uuid IS NULL OR id < $5) \
             ORDER BY id DESC LIMIT $6",
                )
                .bind(org_id)
                .bind(&q.action)
                .bind(q.actor_id)
                .bind(q.target_id)
                .bind(q.before)
                .bind(i64::from(q.limit))
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows.iter().map(audit_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    async fn events_about(&self, user: UserId, action: &str, limit: u32) -> StoreResult<Vec<AuditEvent>> {
        let rows =
            sqlx::query("SELECT * FROM audit_events WHERE target_id = $1 AND action = $2 ORDER BY id DESC LIMIT $3")
                .bind(user)
                .bind(action)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
                .await
                .map_err(map_err)?;
        rows.iter().map(audit_from_row).collect::<Result<_, _>>().map_err(map_err)
    }
}

#[async_trait]
impl TokenStore for PostgresStore {
    async fn insert_token(&self, token: &ApiToken) -> StoreResult<()> {
        self.insert_token_row(token).await
    }

    async fn tokens(
        &self,
        user: UserId,
        filter: TokenFilter,
        now: DateTime<Utc>,
        before: Option<TokenId>,
        limit: u32,
    ) -> StoreResult<Vec<ApiToken>> {
        self.token_rows(user, filter, now, before, limit).await
    }

    async fn token(&self, user: UserId, id: TokenId) -> StoreResult<Option<ApiToken>> {
        self.token_row(user, id).await
    }

    async fn tokens_by_digests(&self, digests: &[&[u8]]) -> StoreResult<Vec<(ApiToken, User)>> {
        self.tokens_and_owners(digests).await
    }

    async fn update_token(&self, token: &ApiToken) -> StoreResult<()> {
        self.update_token_row(token).await
    }

    async fn delete_token(&self, user: UserId, id: TokenId) -> StoreResult<()> {
        self.delete_token_row(user, id).await
    }

    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> StoreResult<()> {
        self.touch_token_row(id, at).await
    }
}

const UPDATE_LAST_LOGIN: &str = "UPDATE users SET last_login_at = $1 WHERE id = $2";

async fn insert_session_on<'e>(
    exec: impl sqlx::Executor<'e, Database = sqlx::Postgres>,
    s: &Session,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO sessions (id, user_id, secret_digest, created_at, last_active_at, expires_at, address, client) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(s.id)
    .bind(s.user)
    .bind(&s.secret_digest)
    .bind(s.created_at)
    .bind(s.last_active_at)
    .bind(s.expires_at)
    .bind(&s.address)
    .bind(&s.client)
    .execute(exec)
    .await
    .map_err(map_err)?;
    Ok(())
}

pub(crate) async fn append_audit_on<'e>(
    exec: impl sqlx::Executor<'e, Database = sqlx::Postgres>,
    e: &AuditEvent,
) -> StoreResult<()> {
    sqlx::query(
            "INSERT INTO audit_events (id, org_id, at, action, actor_id, actor_name, target_id, target_name, address, client, details) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
        )
        .bind(e.id)
        .bind(e.org_id)
        .bind(e.at)
        .bind(&e.action)
        .bind(e.actor_id)
        .bind(&e.actor_name)
        .bind(e.target_id)
        .bind(&e.target_name)
        .bind(&e.address)
        .bind(&e.client)
        .bind(&e.details)
        .execute(exec)
        .await
        .map_err(map_err)?;
    Ok(())
}

/// Saves a user's profile (names, phone, language, zone and their sort keys),
/// in a transaction or on the pool.
pub(crate) async fn write_profile<'e>(
    executor: impl sqlx::Executor<'e, Database = sqlx::Postgres>,
    id: UserId,
    p: &Profile,
    at: DateTime<Utc>,
) -> StoreResult<()> {
    let done = sqlx::query(
        "UPDATE users SET first_name = $1, last_name = $2, phone = $3, contact_person = $4, company = $5, \
         language = $6, timezone = $7, updated_at = $8, first_name_key = $10, last_name_key = $11 WHERE id = $9",
    )
    .bind(&p.first_name)
    .bind(&p.last_name)
    .bind(&p.phone)
    .bind(&p.contact_person)
    .bind(&p.company)
    .bind(p.language.code())
    .bind(p.timezone.name())
    .bind(at)
    .bind(id)
    .bind(usher_domain::fold(p.first_name.as_deref().unwrap_or("")))
    .bind(usher_domain::fold(p.last_name.as_deref().unwrap_or("")))
    .execute(executor)
    .await
    .map_err(map_err)?;
    if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
}

/// Inserts a user with their roles, inside a transaction.
pub(crate) async fn insert_user_on(tx: &mut sqlx::Transaction<'_, sqlx::Postgres>, u: &NewUser) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO users (id, org_id, user_id, user_id_key, email, email_key, first_name, last_name, phone, \
         contact_person, company, language, timezone, status, password_hash, password_changed_at, created_at, updated_at, \
         first_name_key, last_name_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18, $19)",
    )
    .bind(u.id)
    .bind(u.org_id)
    .bind(&u.user_id)
    .bind(&u.user_id_key)
    .bind(&u.email)
    .bind(&u.email_key)
    .bind(&u.profile.first_name)
    .bind(&u.profile.last_name)
    .bind(&u.profile.phone)
    .bind(&u.profile.contact_person)
    .bind(&u.profile.company)
    .bind(u.profile.language.code())
    .bind(u.profile.timezone.name())
    .bind(u.status.as_str())
    .bind(&u.password_hash)
    .bind(u.password_hash.as_ref().map(|_| u.created_at))
    .bind(u.created_at)
    .bind(usher_domain::fold(u.profile.first_name.as_deref().unwrap_or("")))
    .bind(usher_domain::fold(u.profile.last_name.as_deref().unwrap_or("")))
    .execute(&mut **tx)
    .await
    .map_err(map_err)?;
    for role in &u.roles {
        sqlx::query("INSERT INTO user_roles (user_id, role) VALUES ($1, $2)")
            .bind(u.id)
            .bind(role.as_str())
            .execute(&mut **tx)
            .await
            .map_err(map_err)?;
    }
    Ok(())
}
