//! Personal API tokens.

use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use usher_core::store::{ApiToken, StoreResult, TokenAuthority, TokenFilter, TokenStore, User};
use usher_domain::{TokenId, UserId};

use super::{Db, id_list, rows, rows::run};

const INSERT: &str = "INSERT INTO api_tokens (id, user_id, org_id, description, client, scopes, digest, first_chars, \
    last_chars, created_at, expires_at, revoked_at, last_used_at, created_by, authority) \
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)";

/// $1 owner, $2 before (cursor), $3 filter (0 all, 1 active, 2 inactive), $4 now, $5 limit.
const LIST: &str = concat!(
    "SELECT ",
    token_columns!(),
    " FROM api_tokens t WHERE t.user_id = $1 AND ($2 IS NULL OR t.id < $2) AND ($3 = 0 OR \
     ($3 = 1) = (t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > $4))) ORDER BY t.id DESC LIMIT $5"
);

const ONE: &str = concat!("SELECT ", token_columns!(), " FROM api_tokens t WHERE t.user_id = $1 AND t.id = $2");

const BY_DIGESTS: &str = concat!(
    "SELECT ",
    user_columns!(),
    ", ",
    token_columns!(),
    " FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.digest ",
    in_ids!("$1")
);

const UPDATE: &str = "UPDATE api_tokens SET description = $1, expires_at = $2, revoked_at = $3, digest = $4, \
    first_chars = $5, last_chars = $6, created_at = $7, last_used_at = $8, created_by = $9, authority = $10 \
    WHERE id = $11 AND user_id = $12";

#[async_trait]
impl TokenStore for Db {
    async fn insert_token(&self, t: &ApiToken) -> StoreResult<()> {
        let query = sqlx::query(INSERT).bind(t.id).bind(t.owner).bind(t.org_id).bind(&t.description).bind(&t.client);
        let query = query.bind(t.scopes.join(" ")).bind(&t.digest).bind(&t.first_chars).bind(&t.last_chars);
        let query = query.bind(t.created_at).bind(t.expires_at).bind(t.revoked_at).bind(t.last_used_at);
        run(&self.pool, query.bind(t.created_by).bind(t.authority.as_ref().map(TokenAuthority::to_text))).await?;
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
        let query = || sqlx::query(LIST).bind(owner).bind(before).bind(filter).bind(now).bind(i64::from(limit));
        self.all(query, rows::token).await
    }

    async fn token(&self, owner: UserId, id: TokenId) -> StoreResult<Option<ApiToken>> {
        self.one(|| sqlx::query(ONE).bind(owner).bind(id), rows::token).await
    }

    async fn tokens_by_digests(&self, digests: &[&[u8]]) -> StoreResult<Vec<(ApiToken, User)>> {
        if digests.is_empty() {
            return Ok(Vec::new());
        }
        let list = id_list(digests.iter().copied());
        let found = self.read(|| sqlx::query(BY_DIGESTS).bind(&list).fetch_all(self.lookups())).await;
        rows::all(found.map_err(super::map_err)?, |r| Ok((rows::token(r)?, rows::user(r)?)))
    }

    async fn update_token(&self, t: &ApiToken) -> StoreResult<()> {
        let query = sqlx::query(UPDATE).bind(&t.description).bind(t.expires_at).bind(t.revoked_at).bind(&t.digest);
        let query = query.bind(&t.first_chars).bind(&t.last_chars).bind(t.created_at).bind(t.last_used_at);
        let query = query.bind(t.created_by).bind(t.authority.as_ref().map(TokenAuthority::to_text));
        run(&self.pool, query.bind(t.id).bind(t.owner)).await?;
        Ok(())
    }

    async fn delete_token(&self, owner: UserId, id: TokenId) -> StoreResult<()> {
        run(&self.pool, sqlx::query("DELETE FROM api_tokens WHERE user_id = $1 AND id = $2").bind(owner).bind(id))
            .await?;
        Ok(())
    }

    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> StoreResult<()> {
        let sql =
            "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)";
        run(&self.pool, sqlx::query(sql).bind(at).bind(id).bind(at - Duration::seconds(60))).await?;
        Ok(())
    }
}
