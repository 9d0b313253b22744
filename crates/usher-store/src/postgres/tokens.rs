//! API token queries.

use chrono::{DateTime, Duration, Utc};
use sqlx::{Row, postgres::PgRow};
use usher_core::store::{ApiToken, StoreResult, TokenAuthority, TokenFilter, User};
use usher_domain::{TokenId, UserId};

use super::{PostgresStore, map_err, user_from_row};

macro_rules! token_columns {
    () => {
        "t.id AS t_id, t.user_id AS t_user_id, t.org_id AS t_org_id, t.description, t.client, t.scopes, t.digest, \
         t.first_chars, t.last_chars, t.created_at AS t_created_at, t.expires_at AS t_expires_at, t.revoked_at, \
         t.last_used_at, t.created_by, t.authority"
    };
}

fn token_from_row(row: &PgRow) -> Result<ApiToken, sqlx::Error> {
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

impl PostgresStore {
    pub(crate) async fn insert_token_row(&self, t: &ApiToken) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_tokens (id, user_id, org_id, description, client, scopes, digest, first_chars, last_chars, \
             created_at, expires_at, revoked_at, last_used_at, created_by, authority) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(t.id)
        .bind(t.owner)
        .bind(t.org_id)
        .bind(&t.description)
        .bind(&t.client)
        .bind(t.scopes.join(" "))
        .bind(&t.digest)
        .bind(&t.first_chars)
        .bind(&t.last_chars)
        .bind(t.created_at)
        .bind(t.expires_at)
        .bind(t.revoked_at)
        .bind(t.last_used_at)
        .bind(t.created_by)
        .bind(t.authority.as_ref().map(TokenAuthority::to_text))
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    pub(crate) async fn token_rows(
        &self,
        user: UserId,
        filter: TokenFilter,
        now: DateTime<Utc>,
        before: Option<TokenId>,
        limit: u32,
    ) -> StoreResult<Vec<ApiToken>> {
        let filter = match filter {
            TokenFilter::All => 0_i32,
            TokenFilter::Active => 1,
            TokenFilter::Inactive => 2,
        };
        let rows = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    token_columns!(),
                    " FROM api_tokens t WHERE t.user_id = $1 AND ($2::uuid IS NULL OR t.id < $2) AND ($3 = 0 OR \
             ($3 = 1) = (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $4))) \
             ORDER BY t.id DESC LIMIT $5"
                ))
                .bind(user)
                .bind(before)
                .bind(filter)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows.iter().map(token_from_row).collect::<Result<_, _>>().map_err(map_err)
    }

    pub(crate) async fn token_row(&self, user: UserId, id: TokenId) -> StoreResult<Option<ApiToken>> {
        let row = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    token_columns!(),
                    " FROM api_tokens t WHERE t.user_id = $1 AND t.id = $2"
                ))
                .bind(user)
                .bind(id)
                .fetch_optional(&self.pool)
            })
            .await
            .map_err(map_err)?;
        row.as_ref().map(token_from_row).transpose().map_err(map_err)
    }

    pub(crate) async fn tokens_and_owners(&self, digests: &[&[u8]]) -> StoreResult<Vec<(ApiToken, User)>> {
        let rows = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    ", ",
                    token_columns!(),
                    " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.digest = ANY($1)"
                ))
                .bind(digests)
                .fetch_all(&self.lookups)
            })
            .await
            .map_err(map_err)?;
        rows.iter().map(|r| Ok((token_from_row(r)?, user_from_row(r)?))).collect::<Result<_, _>>().map_err(map_err)
    }

    pub(crate) async fn update_token_row(&self, t: &ApiToken) -> StoreResult<()> {
        sqlx::query(
            "UPDATE api_tokens SET description = $1, expires_at = $2, revoked_at = $3, digest = $4, first_chars = $5, \
             last_chars = $6, created_at = $7, last_used_at = $8, created_by = $11, authority = $12 \
             WHERE id = $9 AND user_id = $10",
        )
        .bind(&t.description)
        .bind(t.expires_at)
        .bind(t.revoked_at)
        .bind(&t.digest)
        .bind(&t.first_chars)
        .bind(&t.last_chars)
        .bind(t.created_at)
        .bind(t.last_used_at)
        .bind(t.id)
        .bind(t.owner)
        .bind(t.created_by)
        .bind(t.authority.as_ref().map(TokenAuthority::to_text))
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    pub(crate) async fn delete_token_row(&self, user: UserId, id: TokenId) -> StoreResult<()> {
        sqlx::query("DELETE FROM api_tokens WHERE user_id = $1 AND id = $2")
            .bind(user)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    pub(crate) async fn touch_token_row(&self, id: TokenId, at: DateTime<Utc>) -> StoreResult<()> {
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)",
        )
        .bind(at)
        .bind(id)
        .bind(at - Duration::seconds(60))
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }
}
