//! Personal API tokens.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use usher_domain::{TokenId, UserId};

use super::{ApiToken, StoreResult, TokenFilter, User};

#[async_trait]
pub trait TokenStore: Send + Sync {
    async fn insert_token(&self, token: &ApiToken) -> StoreResult<()>;
    /// A user's tokens, newest first, older than the `before` id when given.
    async fn tokens(
        &self,
        owner: UserId,
        filter: TokenFilter,
        now: DateTime<Utc>,
        before: Option<TokenId>,
        limit: u32,
    ) -> StoreResult<Vec<ApiToken>>;
    async fn token(&self, owner: UserId, id: TokenId) -> StoreResult<Option<ApiToken>>;
    /// The tokens with these digests and their owners, whatever their state, in
    /// any order; digests no token has are left out (one query for all).
    async fn tokens_by_digests(&self, digests: &[&[u8]]) -> StoreResult<Vec<(ApiToken, User)>>;
    /// Saves description, expiry, revocation and secret fields of an existing token.
    async fn update_token(&self, token: &ApiToken) -> StoreResult<()>;
    async fn delete_token(&self, owner: UserId, id: TokenId) -> StoreResult<()>;
    /// Records use, unless it was recorded less than a minute before `at`.
    async fn touch_token(&self, id: TokenId, at: DateTime<Utc>) -> StoreResult<()>;
}
