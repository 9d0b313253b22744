//! Personal API tokens.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use usher_core::store::{ApiToken, StoreResult, TokenAuthority, TokenFilter, TokenStore, User};
use usher_domain::{TokenId, UserId};

use super::{Db, id_list, map_err, rows};

#[async_trait]
impl TokenStore for Db {
    async fn insert_token(&self, t: &ApiToken) -> StoreResult<()> {
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

    async fn tokens(
        &self,
        owner: UserId,
        filter: TokenFilter,
        now: DateTime<Utc>,
        before: Option<TokenId>,
        limit: u32,
    ) -> StoreResult<Vec<ApiToken>> {
        let filter: i32 = match filter {
            TokenFilter::All => 0,
            TokenFilter::Active => 1,
            TokenFilter::Inactive => 2,
        };
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    token_columns!(),
                    " FROM api_tokens t WHERE t.user_id = $1 AND ($2 IS NULL OR t.id < $2) AND ($3 = 0 OR \
                     ($3 = 1) = (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $4))) \
                     ORDER BY t.id DESC LIMIT $5"
                ))
                .bind(owner)
                .bind(before)
                .bind(filter)
                .bind(now)
                .bind(i64::from(limit))
                .fetch_all(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::all(found, rows::token)
    }

    async fn token(&self, owner: UserId, id: TokenId) -> StoreResult<Option<ApiToken>> {
        let found = self
            .read(|| {
                sqlx::query(concat!("SELECT ", token_columns!(), " FROM api_tokens t WHERE t.user_id = $1 AND t.id = $2"))
                    .bind(owner)
                    .bind(id)
                    .fetch_optional(&self.pool)
            })
            .await
            .map_err(map_err)?;
        rows::one(found, rows::token)
    }

    async fn tokens_by_digests(&self, digests: &[&[u8]]) -> StoreResult<Vec<(ApiToken, User)>> {
        if digests.is_empty() {
            return Ok(Vec::new());
        }
        let list = id_list(digests.iter().copied());
        let found = self
            .read(|| {
                sqlx::query(concat!(
                    "SELECT ",
                    user_columns!(),
                    ", ",
                    token_columns!(),
                    " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.digest ",
                    in_ids!("$1")
                ))
                .bind(&list)
                .fetch_all(self.lookups())
            })
            .await
            .map_err(map_err)?;
        found.iter().map(|r| Ok((rows::token(r)?, rows::user(r)?))).collect::<Result<_, sqlx::Error>>().map_err(map_err)
    }

    async fn update_token(&self, t: &ApiToken) -> StoreResult<()> {
        sqlx::query(
            "UPDATE api_tokens SET description = $1, expires_at = $2, revoked_at = $3, digest = $4, first_chars = $5, \
             last_chars = $6, created_at = $7, last_used_at = $8, created_by = $9, authority = $10 \
             WHERE id = $11 AND user_id = $12",
        )
        .bind(&t.description)
        .bind(t.expires_at)
        .bind(t.revoked_at)
        .bind(&t.digest)
        .bind(&t.first_chars)
        .bind(&t.last_chars)
        .bind(t.created_at)
        .bind(t.last_used_at)
        .bind(t.created_by)
        .bind(t.authority.as_ref().map(TokenAuthority::to_text))
        .bind(t.id)
        .bind(t.owner)
        .execute(&self.pool)
        .await
        .map_err(map_err)?;
        Ok(())
    }

    async fn delete_token(&self, owner: UserId, id: TokenId) -> StoreResult<()> {
        sqlx::query("DELETE FROM api_tokens WHERE user_id = $1 AND id = $2")
            .bind(owner)
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(map_err)?;
        Ok(())
    }

    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> StoreResult<()> {
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
