//! Invitations and password-reset links.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::{Row, Transaction};
use usher_core::{
    invitations::{Invitation, NewInvitation},
    store::{InvitationStore, Organization, Profile, StoreResult},
};
use usher_domain::{InvitationId, OrgId, Role, UserId};

use super::{
    Db, DbRow, Engine, map_err,
    rows::{self, Read, run},
};

/// The columns of an invitation, unqualified so `RETURNING` can list them too.
macro_rules! invitation_columns {
    () => {
        "id, org_id, email, email_key, user_id, roles, invited_by, invited_by_name, \
         digest, created_at, expires_at, accepted_at, accepted_user_id, withdrawn_at"
    };
}

const PAGE: &str = concat!(
    "SELECT ",
    invitation_columns!(),
    " FROM invitations WHERE org_id = $1 AND ($2 IS NULL OR id < $2) ORDER BY id DESC LIMIT $3"
);
const ONE: &str = concat!("SELECT ", invitation_columns!(), " FROM invitations WHERE org_id = $1 AND id = $2");
const BY_DIGEST: &str = concat!(
    "SELECT ",
    invitation_columns!(),
    ", o_id, o_slug, o_name, o_created_at FROM invitations JOIN (SELECT id AS o_id, slug AS o_slug, \
     name AS o_name, created_at AS o_created_at FROM organizations) o ON o.o_id = invitations.org_id \
     WHERE digest = $1"
);

const WITHDRAW: &str = "UPDATE invitations SET withdrawn_at = $1, closed_at = COALESCE(closed_at, $1) \
    WHERE org_id = $2 AND id = $3 AND accepted_at IS NULL AND withdrawn_at IS NULL";
const RENEW: &str = "UPDATE invitations SET digest = $1, expires_at = $2, closed_at = NULL, roles = $3 \
    WHERE org_id = $4 AND id = $5 AND accepted_at IS NULL AND withdrawn_at IS NULL";
const TAKE: &str = concat!(
    "UPDATE invitations SET accepted_at = $1, closed_at = $1 \
     WHERE digest = $2 AND closed_at IS NULL AND expires_at > $1 RETURNING ",
    invitation_columns!()
);

/// $1..$3 name and phone, $4 password hash, $5 now, $6, $7 name keys, $8 user.
const ACTIVATE: &str = "UPDATE users SET first_name = $1, last_name = $2, phone = $3, password_hash = $4, \
    password_changed_at = $5, must_change_password = false, status = 'active', updated_at = $5, first_name_key = $6, \
    last_name_key = $7 WHERE id = $8 AND status = 'invited'";
const TAKE_RESET: &str = "UPDATE password_resets SET used_at = $1 WHERE digest = $2 AND used_at IS NULL \
    AND expires_at > $1 RETURNING user_id";

/// $1 now, $2 organization, $3 email key, $4 replace pending.
const CLOSE_EARLIER: &str = "UPDATE invitations SET closed_at = $1, \
    withdrawn_at = CASE WHEN expires_at > $1 THEN $1 ELSE withdrawn_at END \
    WHERE org_id = $2 AND email_key = $3 AND closed_at IS NULL AND (expires_at <= $1 OR $4)";
const INSERT: &str = "INSERT INTO invitations (id, org_id, email, email_key, user_id, roles, invited_by, \
    invited_by_name, digest, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";

fn invitation(row: &DbRow) -> Read<Invitation> {
    let roles: String = row.try_get("roles")?;
    Ok(Invitation {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        email: row.try_get("email")?,
        email_key: row.try_get("email_key")?,
        user: row.try_get("user_id")?,
        roles: roles.split_whitespace().filter_map(|r| r.parse().ok()).collect(),
        invited_by: row.try_get("invited_by")?,
        invited_by_name: row.try_get("invited_by_name")?,
        digest: row.try_get("digest")?,
        created_at: row.try_get("created_at")?,
        expires_at: row.try_get("expires_at")?,
        accepted_at: row.try_get("accepted_at")?,
        accepted_user: row.try_get("accepted_user_id")?,
        withdrawn_at: row.try_get("withdrawn_at")?,
    })
}

/// An organization selected with `o_` names beside an invitation's columns.
fn organization(row: &DbRow) -> Read<Organization> {
    Ok(Organization {
        id: row.try_get("o_id")?,
        slug: row.try_get("o_slug")?,
        name: row.try_get("o_name")?,
        created_at: row.try_get("o_created_at")?,
    })
}

fn role_text(roles: &[Role]) -> String {
    roles.iter().map(|r| r.as_str()).collect::<Vec<_>>().join(" ")
}

#[async_trait]
impl InvitationStore for Db {
    async fn insert_invitation(&self, new: &NewInvitation<'_>) -> StoreResult<()> {
        // Two invitations of one address: the second insert waits for the first
        // (SQLite: for its write lock, taken up front) and then hits the pending index.
        let mut tx = self.write().await?;
        insert_invitation_on(&mut tx, new).await?;
        tx.commit().await.map_err(map_err)
    }

    async fn invitations_page(
        &self,
        org_id: OrgId,
        before: Option<InvitationId>,
        limit: u32,
    ) -> StoreResult<Vec<Invitation>> {
        self.all(|| sqlx::query(PAGE).bind(org_id).bind(before).bind(i64::from(limit)), invitation).await
    }

    async fn invitation(&self, org_id: OrgId, id: InvitationId) -> StoreResult<Option<Invitation>> {
        self.one(|| sqlx::query(ONE).bind(org_id).bind(id), invitation).await
    }

    async fn invitation_by_digest(&self, digest: &[u8]) -> StoreResult<Option<(Invitation, Organization)>> {
        self.one(|| sqlx::query(BY_DIGEST).bind(digest), |r| Ok((invitation(r)?, organization(r)?))).await
    }

    async fn withdraw_invitation(&self, org_id: OrgId, id: InvitationId, at: DateTime<Utc>) -> StoreResult<bool> {
        Ok(run(&self.pool, sqlx::query(WITHDRAW).bind(at).bind(org_id).bind(id)).await? == 1)
    }

    async fn renew_invitation(
        &self,
        org_id: OrgId,
        id: InvitationId,
        digest: &[u8],
        expires_at: DateTime<Utc>,
        roles: &[Role],
    ) -> StoreResult<bool> {
        let query = sqlx::query(RENEW).bind(digest).bind(expires_at).bind(role_text(roles)).bind(org_id).bind(id);
        Ok(run(&self.pool, query).await? == 1)
    }

    async fn take_invitation(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<Invitation>> {
        let taken = sqlx::query(TAKE).bind(now).bind(digest).fetch_optional(&self.pool).await.map_err(map_err)?;
        rows::one(taken, invitation)
    }

    async fn release_invitation(&self, id: InvitationId) -> StoreResult<()> {
        let sql = "UPDATE invitations SET accepted_at = NULL, closed_at = NULL WHERE id = $1 AND withdrawn_at IS NULL";
        run(&self.pool, sqlx::query(sql).bind(id)).await?;
        Ok(())
    }

    async fn set_invitation_user(&self, id: InvitationId, user: UserId) -> StoreResult<()> {
        let sql = "UPDATE invitations SET accepted_user_id = $1 WHERE id = $2";
        run(&self.pool, sqlx::query(sql).bind(user).bind(id)).await?;
        Ok(())
    }

    async fn activate_invited_user(
        &self,
        user: UserId,
        p: &Profile,
        password_hash: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let query = sqlx::query(ACTIVATE).bind(&p.first_name).bind(&p.last_name).bind(&p.phone).bind(password_hash);
        let query = query.bind(at).bind(usher_domain::fold(p.first_name.as_deref().unwrap_or("")));
        let query = query.bind(usher_domain::fold(p.last_name.as_deref().unwrap_or(""))).bind(user);
        Ok(run(&self.pool, query).await? == 1)
    }

    async fn insert_password_reset(
        &self,
        digest: &[u8],
        user: UserId,
        created_at: DateTime<Utc>,
        expires_at: DateTime<Utc>,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO password_resets (digest, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)";
        run(&self.pool, sqlx::query(sql).bind(digest).bind(user).bind(created_at).bind(expires_at)).await?;
        Ok(())
    }

    async fn count_password_resets(&self, user: UserId, since: DateTime<Utc>) -> StoreResult<u64> {
        let sql = "SELECT count(*) FROM password_resets WHERE user_id = $1 AND created_at >= $2";
        Ok(rows::count(self.one(|| sqlx::query(sql).bind(user).bind(since), rows::first::<i64>).await?.unwrap_or(0)))
    }

    async fn password_reset_user(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<UserId>> {
        let sql = "SELECT user_id FROM password_resets WHERE digest = $1 AND used_at IS NULL AND expires_at > $2";
        self.one(|| sqlx::query(sql).bind(digest).bind(now), rows::first::<UserId>).await
    }

    async fn take_password_reset(&self, digest: &[u8], now: DateTime<Utc>) -> StoreResult<Option<UserId>> {
        let mut tx = self.write().await?;
        let taken = sqlx::query(TAKE_RESET).bind(now).bind(digest).fetch_optional(&mut *tx).await.map_err(map_err)?;
        let user = rows::one(taken, rows::first::<UserId>)?;
        if let Some(user) = user {
            let sql = "UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL";
            run(&mut *tx, sqlx::query(sql).bind(now).bind(user)).await?;
        }
        tx.commit().await.map_err(map_err)?;
        Ok(user)
    }
}

/// Inserts an invitation with its audit entry and email inside a writing
/// transaction (see `InvitationStore::insert_invitation`); creating a user
/// with an invitation writes it in the user's transaction.
pub(super) async fn insert_invitation_on(tx: &mut Transaction<'_, Engine>, new: &NewInvitation<'_>) -> StoreResult<()> {
    let i = new.invitation;
    // Earlier invitations of the address stop counting as pending when they
    // expired, or (`replace_pending`) whatever their state; one still pending
    // makes the insert below fail on the pending index.
    let query = sqlx::query(CLOSE_EARLIER).bind(new.now).bind(i.org_id).bind(&i.email_key).bind(new.replace_pending);
    run(&mut **tx, query).await?;
    let query = sqlx::query(INSERT).bind(i.id).bind(i.org_id).bind(&i.email).bind(&i.email_key).bind(i.user);
    let query = query.bind(role_text(&i.roles)).bind(i.invited_by).bind(&i.invited_by_name).bind(&i.digest);
    run(&mut **tx, query.bind(i.created_at).bind(i.expires_at)).await?;
    super::audit::append_audit_on(&mut **tx, new.event).await?;
    if let Some(mail) = new.mail {
        super::mail::insert_mail_on(&mut **tx, mail).await?;
    }
    Ok(())
}
