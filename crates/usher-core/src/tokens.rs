//! Personal API tokens: `ush_`, then 30 base62 characters of randomness (178 bits),
//! then a 6-character base62 CRC-32 of the rest. The checksum lets secret scanners
//! find leaked tokens and lets Usher reject a mistyped token without a database
//! read; only a SHA-256 digest of the token is stored.

use chrono::{DateTime, Duration, Utc};
use rand::{Rng, distr::Alphanumeric};
use serde_json::json;
use usher_domain::{Access, FieldError, Invalid, Scope, ShortText, TokenId, UserId};

use crate::{
    Conflict, Error, RequestContext, Result, Usher,
    access::policy::{self, Operation},
    audit::{Entry, action},
    auth::Principal,
    secrets,
    store::{ApiToken, TokenAuthority, TokenFilter, User, UserStatus},
};

pub const PREFIX: &str = "ush_";
const RANDOM_LEN: usize = 30;
const CHECK_LEN: usize = 6;
const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A token's secret, shown to its creator once.
pub fn generate() -> String {
    let random: String = rand::rng().sample_iter(&Alphanumeric).take(RANDOM_LEN).map(char::from).collect();
    let body = format!("{PREFIX}{random}");
    let check = checksum(&body);
    format!("{body}{check}")
}

fn checksum(body: &str) -> String {
    let mut n = crc32fast::hash(body.as_bytes());
    let mut out = [b'0'; CHECK_LEN];
    for slot in out.iter_mut().rev() {
        *slot = BASE62[(n % 62) as usize];
        n /= 62;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a string has the shape and checksum of an Usher token (no database read).
pub fn well_formed(token: &str) -> bool {
    let Some(rest) = token.strip_prefix(PREFIX) else { return false };
    if rest.len() != RANDOM_LEN + CHECK_LEN || !rest.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return false;
    }
    let (body, check) = token.split_at(PREFIX.len() + RANDOM_LEN);
    secrets::same(&checksum(body), check)
}

/// Where a token stands now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenStatus {
    Active,
    Revoked,
    Expired,
}

impl TokenStatus {
    pub fn of(token: &ApiToken, now: DateTime<Utc>) -> Self {
        if token.revoked_at.is_some() {
            TokenStatus::Revoked
        } else if token.expires_at.is_some_and(|e| e <= now) {
            TokenStatus::Expired
        } else {
            TokenStatus::Active
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Active => "active",
            TokenStatus::Revoked => "revoked",
            TokenStatus::Expired => "expired",
        }
    }
}

/// When a token should expire, as asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// The organization's default lifetime (one year unless changed).
    Default,
    Never,
    At(DateTime<Utc>),
}

/// What a new token should be.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub description: String,
    pub client: String,
    pub scopes: Vec<String>,
    pub expires: Expiry,
}

/// A token with its secret, returned once at creation or regeneration.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub secret: String,
}

/// One page of tokens.
#[derive(Debug, Clone)]
pub struct TokenPage {
    pub items: Vec<ApiToken>,
    pub next_cursor: Option<TokenId>,
}

impl Usher {
    /// The user whose tokens the caller wants to see or manage: themselves
    /// (`None` or their own id; scope `tokens:*`), or someone in their
    /// organization when the policy lets them manage users (scope `users:*`).
    /// A User Manager cannot act on an Administrator's tokens.
    async fn token_owner(&self, actor: &Principal, user: Option<UserId>, access: Access) -> Result<User> {
        let own = |read, write| if access == Access::Read { read } else { write };
        match user {
            None => {
                policy::authorize(actor, own(Operation::ReadOwnTokens, Operation::ManageOwnTokens))?;
                Ok(actor.user.clone())
            }
            Some(id) if id == actor.user.id => {
                policy::authorize(actor, own(Operation::ReadOwnTokens, Operation::ManageOwnTokens))?;
                Ok(actor.user.clone())
            }
            Some(id) => {
                let manager = policy::authorize(actor, own(Operation::ReadUsers, Operation::ManageUsers))?;
                let owner =
                    self.store.user(id).await?.filter(|u| u.org_id == actor.user.org_id).ok_or(Error::NotFound)?;
                manager
                    .may_manage(&owner)
                    .map_err(|_| Error::Forbidden("Only an Administrator can manage an Administrator's tokens."))?;
                Ok(owner)
            }
        }
    }

    /// Whose tokens a page or list shows (see [`Usher::tokens`]): the caller
    /// (`None`) or a user they may manage; checked as a read.
    pub async fn token_holder(&self, actor: &Principal, user: Option<UserId>) -> Result<User> {
        self.token_owner(actor, user, Access::Read).await
    }

    /// Creates a token for `owner` (see [`Usher::token_owner`]).
    pub async fn create_token(
        &self,
        ctx: &RequestContext,
        actor: &Principal,
        owner: Option<UserId>,
        spec: TokenSpec,
    ) -> Result<IssuedToken> {
        let owner = &self.token_owner(actor, owner, Access::Write).await?;
        let now = self.now();
        let policy = self.token_policy(owner.org_id).await?;
        let mut errors = Vec::new();
        let description = text_field("description", &spec.description, true, &mut errors);
        let client = text_field("client", &spec.client, false, &mut errors);
        let scopes = self.check_scopes(actor, &spec.scopes, &policy.scopes, &mut errors);
        let expires_at = self.expiry(&policy, spec.expires, now, &mut errors);
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        let authority = self.authority_handed_out(actor, owner).await?;
        let secret = generate();
        let token = ApiToken {
            id: TokenId::generate(),
            owner: owner.id,
            org_id: owner.org_id,
            description,
            client,
            scopes,
            digest: secrets::digest(&secret),
            first_chars: secret[..PREFIX.len() + 4].to_owned(),
            last_chars: secret[secret.len() - 4..].to_owned(),
            created_at: now,
            expires_at,
            revoked_at: None,
            last_used_at: None,
            created_by: (actor.user.id != owner.id).then_some(actor.user.id),
            authority,
        };
        self.store.insert_token(&token).await?;
        self.audit_token(ctx, actor, owner, action::TOKEN_CREATED, &token).await?;
        Ok(IssuedToken { token, secret })
    }

    /// Lists a user's tokens, newest first.
    pub async fn tokens(
        &self,
        actor: &Principal,
        owner: Option<UserId>,
        filter: TokenFilter,
        before: Option<TokenId>,
        limit: u32,
    ) -> Result<TokenPage> {
        let owner = self.token_owner(actor, owner, Access::Read).await?;
        let limit = limit.clamp(1, 200);
        let items = self.store.tokens(owner.id, filter, self.now(), before, limit).await?;
        let next_cursor = if items.len() == limit as usize { items.last().map(|t| t.id) } else { None };
        Ok(TokenPage { items, next_cursor })
    }

    /// One token of the caller (`None`) or of a user they may manage.
    pub async fn token(&self, actor: &Principal, owner: Option<UserId>, id: TokenId) -> Result<ApiToken> {
        let owner = self.token_owner(actor, owner, Access::Read).await?;
        self.owned_token(&owner, id).await
    }

    async fn owned_token(&self, owner: &User, id: TokenId) -> Result<ApiToken> {
        self.store.token(owner.id, id).await?.ok_or(Error::NotFound)
    }

    /// Changes a token's description and/or expiry (not a revoked one's).
    pub async fn update_token(
        &self,
        ctx: &RequestContext,
        actor: &Principal,
        owner: Option<UserId>,
        id: TokenId,
        description: Option<String>,
        expires: Option<Expiry>,
    ) -> Result<ApiToken> {
        let owner = &self.token_owner(actor, owner, Access::Write).await?;
        let mut token = self.owned_token(owner, id).await?;
        if token.revoked_at.is_some() {
            return Err(Conflict::TokenRevoked.into());
        }
        let policy = self.token_policy(owner.org_id).await?;
        let mut errors = Vec::new();
        if let Some(d) = description {
            token.description = text_field("description", &d, true, &mut errors);
        }
        if let Some(e) = expires {
            token.expires_at = self.expiry(&policy, e, self.now(), &mut errors);
        }
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        self.store.update_token(&token).await?;
        self.audit_token(ctx, actor, owner, action::TOKEN_UPDATED, &token).await?;
        Ok(token)
    }

    /// Revokes a token: it stops working on the next request, on every node.
    pub async fn revoke_token(
        &self,
        ctx: &RequestContext,
        actor: &Principal,
        owner: Option<UserId>,
        id: TokenId,
    ) -> Result<ApiToken> {
        let owner = &self.token_owner(actor, owner, Access::Write).await?;
        let mut token = self.owned_token(owner, id).await?;
        if token.revoked_at.is_none() {
            token.revoked_at = Some(self.now());
            self.store.update_token(&token).await?;
            self.audit_token(ctx, actor, owner, action::TOKEN_REVOKED, &token).await?;
        }
        Ok(token)
    }

    /// Deletes a token for good. Any token can be deleted; an active one stops at once.
    pub async fn delete_token(
        &self,
        ctx: &RequestContext,
        actor: &Principal,
        owner: Option<UserId>,
        id: TokenId,
    ) -> Result<()> {
        let owner = &self.token_owner(actor, owner, Access::Write).await?;
        let token = self.owned_token(owner, id).await?;
        self.store.delete_token(owner.id, id).await?;
        self.audit_token(ctx, actor, owner, action::TOKEN_DELETED, &token).await
    }

    /// A new secret for the same settings; the old secret is dead at once. The
    /// token keeps its lifetime, counted from now (within today's policy).
    pub async fn regenerate_token(
        &self,
        ctx: &RequestContext,
        actor: &Principal,
        owner: Option<UserId>,
        id: TokenId,
    ) -> Result<IssuedToken> {
        let owner = &self.token_owner(actor, owner, Access::Write).await?;
        let mut token = self.owned_token(owner, id).await?;
        if token.revoked_at.is_some() {
            return Err(Conflict::TokenRevoked.into());
        }
        let now = self.now();
        let policy = self.token_policy(owner.org_id).await?;
        let expires = match token.expires_at {
            None => Expiry::Never,
            Some(at) => Expiry::At(now + (at - token.created_at).max(Duration::days(1))),
        };
        let mut errors = Vec::new();
        let expires_at = self.expiry(&policy, expires, now, &mut errors);
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        // Whoever sees the new secret decides what the token may become: its owner
        // takes it back; an administrator's copy is held to the owner's roles of today.
        token.authority = self.authority_handed_out(actor, owner).await?;
        token.created_by = (actor.user.id != owner.id).then_some(actor.user.id);
        let secret = generate();
        token.digest = secrets::digest(&secret);
        token.first_chars = secret[..PREFIX.len() + 4].to_owned();
        token.last_chars = secret[secret.len() - 4..].to_owned();
        token.created_at = now;
        token.expires_at = expires_at;
        token.last_used_at = None;
        self.store.update_token(&token).await?;
        self.audit_token(ctx, actor, owner, action::TOKEN_REGENERATED, &token).await?;
        Ok(IssuedToken { token, secret })
    }

    /// The caller behind a bearer token, if it is well formed, known, active, and
    /// its owner active. Malformed tokens are rejected without a database read.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Option<Principal>> {
        if !well_formed(secret) {
            return Ok(None);
        }
        let Some((token, user)) = self.token_lookup.find(secrets::digest(secret)).await? else {
            return Ok(None);
        };
        let now = self.now();
        if TokenStatus::of(&token, now) != TokenStatus::Active || user.status != UserStatus::Active {
            return Ok(None);
        }
        if token.last_used_at.is_none_or(|t| now - t >= Duration::seconds(60)) {
            self.store.touch_token(token.id, now).await?;
        }
        let scopes = token.scopes.iter().filter_map(|s| s.parse::<Scope>().ok()).collect();
        let mut user = user;
        if let Some(authority) = &token.authority {
            user.roles.retain(|r| authority.roles.contains(r));
        }
        Ok(Some(Principal {
            user,
            session_id: None,
            csrf_token: None,
            token_id: Some(token.id),
            scopes: Some(scopes),
            authority: token.authority,
            forced_change_proof: None,
        }))
    }

    /// What a token whose secret `actor` is about to see may do at most: nothing
    /// is capped when the owner sees it; otherwise the owner's roles of now.
    async fn authority_handed_out(&self, actor: &Principal, owner: &User) -> Result<Option<TokenAuthority>> {
        if actor.user.id == owner.id {
            return Ok(None);
        }
        let apps = self.store.app_roles_of(owner.id).await?.into_iter().map(|a| (a.role, a.app_id)).collect();
        Ok(Some(TokenAuthority { roles: owner.roles.clone(), apps }))
    }

    fn check_scopes(
        &self,
        actor: &Principal,
        asked: &[String],
        allowed: &[String],
        errors: &mut Vec<FieldError>,
    ) -> Vec<String> {
        let mut scopes = Vec::new();
        if asked.is_empty() {
            errors.push(FieldError::new("scopes", "required", "Choose at least one scope."));
        }
        for raw in asked {
            match raw.trim().parse::<Scope>() {
                Err(e) => errors.extend(e.0),
                Ok(s) if !allowed.contains(&s.to_string()) => errors.push(FieldError::new(
                    "scopes",
                    "not_allowed",
                    format!("Your organization does not allow the scope {s}."),
                )),
                Ok(s) if !actor.covers(s) => errors.push(FieldError::new(
                    "scopes",
                    "exceeds_caller",
                    format!("A token cannot create a token with the scope {s}, which it does not have itself."),
                )),
                Ok(s) => scopes.push(s),
            }
        }
        scopes.sort();
        scopes.dedup();
        scopes.iter().map(ToString::to_string).collect()
    }

    fn expiry(
        &self,
        policy: &usher_domain::TokenPolicy,
        asked: Expiry,
        now: DateTime<Utc>,
        errors: &mut Vec<FieldError>,
    ) -> Option<DateTime<Utc>> {
        let max = policy.max_lifetime_days.map(|d| now + Duration::days(i64::from(d)));
        match asked {
            Expiry::Default => {
                let default = now + Duration::days(i64::from(policy.default_lifetime_days));
                Some(max.map_or(default, |m| default.min(m)))
            }
            Expiry::Never if policy.allows_never_expiring() => None,
            Expiry::Never => {
                errors.push(FieldError::new(
                    "expires_at",
                    "never_not_allowed",
                    "Your organization does not allow tokens that never expire.",
                ));
                None
            }
            Expiry::At(at) if at <= now => {
                errors.push(FieldError::new("expires_at", "in_past", "The expiry must be in the future."));
                None
            }
            Expiry::At(at) if max.is_some_and(|m| at > m + Duration::minutes(1)) => {
                errors.push(FieldError::new(
                    "expires_at",
                    "above_max",
                    format!("Tokens may live at most {} days.", policy.max_lifetime_days.unwrap_or_default()),
                ));
                None
            }
            Expiry::At(at) => Some(at),
        }
    }

    async fn audit_token(
        &self,
        ctx: &RequestContext,
        actor: &Principal,
        owner: &User,
        action: &'static str,
        t: &ApiToken,
    ) -> Result<()> {
        let details = json!({
            "token_id": t.id, "description": t.description, "client": t.client, "scopes": t.scopes,
            "expires_at": t.expires_at, "via_token": actor.token_id,
        });
        self.audit(ctx, Entry { org_id: owner.org_id, action, actor: Some(&actor.user), target: Some(owner), details })
            .await
    }
}

fn text_field(field: &str, raw: &str, required: bool, errors: &mut Vec<FieldError>) -> String {
    match ShortText::parse(field, raw) {
        Ok(Some(t)) => t.into_string(),
        Ok(None) if required => {
            errors.push(FieldError::new(field, "required", "This field is required."));
            String::new()
        }
        Ok(None) => String::new(),
        Err(e) => {
            errors.extend(e.0);
            String::new()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_have_the_documented_shape_and_a_checksum() {
        let t = generate();
        assert_eq!(t.len(), 40);
        assert!(t.starts_with("ush_"));
        assert!(well_formed(&t));
        assert_ne!(generate(), t);
        // One changed character anywhere breaks the checksum.
        for i in PREFIX.len()..t.len() {
            let mut bytes = t.clone().into_bytes();
            bytes[i] = if bytes[i] == b'a' { b'b' } else { b'a' };
            assert!(!well_formed(&String::from_utf8(bytes).unwrap()), "position {i}");
        }
        assert!(!well_formed("ush_short"));
        assert!(!well_formed(&t.replace("ush_", "usr_")));
        assert!(!well_formed(&format!("{t}x")));
    }
}
