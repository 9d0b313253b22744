//! Running queries, and the records several aggregates read from rows.

use sqlx::Row;
use usher_core::{
    Cause,
    metadata::Metadata,
    store::{
        ApiToken, AuditEvent, Organization, Profile, Session, StoreError, StoreResult, TokenAuthority, User, UserStatus,
    },
};
use usher_domain::{Role, TimeZone};

use super::{Db, DbRow, Engine, RULES, broken_rule, health};

pub(super) type Read<T> = Result<T, sqlx::Error>;

/// The row a transaction serializes on (see each engine's `lock`).
#[derive(Debug, Clone, Copy)]
pub(super) enum Lock {
    Organization,
    Group,
    App,
}

pub(super) fn backend(e: impl std::error::Error + Send + Sync + 'static) -> StoreError {
    StoreError::Backend(Cause::new(e))
}

/// Turns engine errors into store errors: a broken uniqueness rule by the
/// engine's `RULES`, "not now" states by its `health` module.
pub(super) fn map_err(e: sqlx::Error) -> StoreError {
    match &e {
        sqlx::Error::RowNotFound => StoreError::NotFound,
        _ if health::is_unavailable(&e) => StoreError::Unavailable(e.to_string()),
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            let broken = broken_rule(&**db);
            let name = RULES.iter().find(|(rule, _)| broken.contains(rule)).map_or(broken, |(_, name)| name);
            StoreError::Conflict { constraint: name.to_owned() }
        }
        _ => backend(e),
    }
}

/// A query with its parameters bound.
pub(super) type Query = sqlx::query::Query<'static, Engine, <Engine as sqlx::Database>::Arguments>;

impl Db {
    /// Every row `query` reads, each read with `read`. `query` builds the
    /// query again when the read must run again (see `Db::read`).
    pub(super) async fn all<T>(&self, query: impl Fn() -> Query, read: fn(&DbRow) -> Read<T>) -> StoreResult<Vec<T>> {
        all(self.read(|| query().fetch_all(&self.pool)).await.map_err(map_err)?, read)
    }

    /// The row `query` reads, if any, read with `read`.
    pub(super) async fn one<T>(
        &self,
        query: impl Fn() -> Query,
        read: fn(&DbRow) -> Read<T>,
    ) -> StoreResult<Option<T>> {
        one(self.read(|| query().fetch_optional(&self.pool)).await.map_err(map_err)?, read)
    }
}

/// Runs a write on the pool or in a transaction; how many rows it changed.
pub(super) async fn run<'e>(exec: impl sqlx::Executor<'e, Database = Engine>, query: Query) -> StoreResult<u64> {
    Ok(query.execute(exec).await.map_err(map_err)?.rows_affected())
}

/// The first column of a row.
pub(super) fn first<T>(row: &DbRow) -> Read<T>
where
    T: for<'r> sqlx::Decode<'r, Engine> + sqlx::Type<Engine>,
{
    row.try_get(0)
}

/// Every row read with `read`.
pub(super) fn all<T>(rows: Vec<DbRow>, read: fn(&DbRow) -> Read<T>) -> StoreResult<Vec<T>> {
    rows.iter().map(read).collect::<Result<_, _>>().map_err(map_err)
}

/// The row, if any, read with `read`.
pub(super) fn one<T>(row: Option<DbRow>, read: fn(&DbRow) -> Read<T>) -> StoreResult<Option<T>> {
    row.as_ref().map(read).transpose().map_err(map_err)
}

/// A count as stored (never negative) as a number of things.
pub(super) fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(super) fn user(row: &DbRow) -> Read<User> {
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
        metadata: metadata(row)?,
    })
}

/// The `metadata` column of a user row (an empty object when absent).
pub(super) fn metadata(row: &DbRow) -> Read<Metadata> {
    match row.try_get::<Option<serde_json::Value>, _>("metadata").ok().flatten() {
        Some(serde_json::Value::Object(map)) => Ok(map),
        _ => Ok(Metadata::new()),
    }
}

pub(super) fn organization(row: &DbRow) -> Read<Organization> {
    Ok(Organization {
        id: row.try_get("id")?,
        slug: row.try_get("slug")?,
        name: row.try_get("name")?,
        created_at: row.try_get("created_at")?,
    })
}

pub(super) fn audit_event(row: &DbRow) -> Read<AuditEvent> {
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
        details: row.try_get::<Option<serde_json::Value>, _>("details")?.unwrap_or(serde_json::Value::Null),
    })
}

/// A session selected with `session_columns!()`.
pub(super) fn session(row: &DbRow) -> Read<Session> {
    Ok(Session {
        id: row.try_get("s_id")?,
        user: row.try_get("s_user_id")?,
        secret_digest: row.try_get("secret_digest")?,
        created_at: row.try_get("s_created_at")?,
        last_active_at: row.try_get("last_active_at")?,
        expires_at: row.try_get("s_expires_at")?,
        address: row.try_get("address")?,
        client: row.try_get("client")?,
        forced_change_proof: row.try_get("forced_change_proof_at")?,
    })
}

/// A token selected with `token_columns!()`.
pub(super) fn token(row: &DbRow) -> Read<ApiToken> {
    let scopes: String = row.try_get("scopes")?;
    Ok(ApiToken {
        id: row.try_get("t_id")?,
        owner: row.try_get("t_user_id")?,
        org_id: row.try_get("t_org_id")?,
        description: row.try_get("description")?,
        client: row.try_get("client")?,
        scopes: scopes.split_whitespace().map(str::to_owned).collect(),
        digest: row.try_get("digest")?,
        first_chars: row.try_get("first_chars")?,
        last_chars: row.try_get("last_chars")?,
        created_at: row.try_get("t_created_at")?,
        expires_at: row.try_get("t_expires_at")?,
        revoked_at: row.try_get("revoked_at")?,
        last_used_at: row.try_get("last_used_at")?,
        created_by: row.try_get("created_by")?,
        authority: row.try_get::<Option<String>, _>("authority")?.as_deref().map(TokenAuthority::parse),
    })
}
