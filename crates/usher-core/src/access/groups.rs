//! Groups: named sets of users that apps give access to. Administrators and
//! User Managers manage them; names are unique per organization, ignoring case.

use serde_json::json;
use usher_domain::{GroupId, Invalid, LoginName, UserId, fold};

use super::{
    Group, Page, SetChange, decode_cursor, page_of, parse_description, parse_name,
    policy::{self, Operation, Standing},
};
use crate::{Error, RequestContext, Result, Usher, audit::action, auth::Principal, store::User};

/// A group's fields as asked: on create `name` is required; on edit absent
/// fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct GroupInput {
    pub name: Option<String>,
    pub description: Option<String>,
}

impl Usher {
    /// The organization's groups in name order, with their member counts.
    pub async fn groups(&self, p: &Principal, cursor: Option<&str>, limit: u32) -> Result<Page<Group>> {
        let standing = self.list_groups_standing(p).await?;
        policy::check(p, Operation::ListGroups, standing)?;
        let after = decode_cursor(cursor)?;
        let limit = limit.clamp(1, 200);
        let items = self.store.groups_page(p.user.org_id, after.as_deref(), limit).await?;
        Ok(page_of(items, limit, |g| fold(&g.name)))
    }

    /// Every group of the organization (up to 1000), for pickers.
    pub async fn all_groups(&self, p: &Principal) -> Result<Vec<Group>> {
        let standing = self.list_groups_standing(p).await?;
        policy::check(p, Operation::ListGroups, standing)?;
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        for _ in 0..5 {
            let page = self.store.groups_page(p.user.org_id, after.as_deref(), 200).await?;
            let full = page.len() == 200;
            after = page.last().map(|g| fold(&g.name));
            out.extend(page);
            if !full {
                break;
            }
        }
        Ok(out)
    }

    /// Only those who may list groups need to know whether they own an app.
    async fn list_groups_standing(&self, p: &Principal) -> Result<Standing> {
        if policy::allows(&p.user.roles, Standing::default(), Operation::ListGroups) {
            Ok(Standing::default())
        } else {
            self.standing_anywhere(p).await
        }
    }

    /// One group of the caller's organization.
    pub async fn group(&self, p: &Principal, id: GroupId) -> Result<Group> {
        let standing = self.list_groups_standing(p).await?;
        policy::check(p, Operation::ListGroups, standing)?;
        self.store.group(p.user.org_id, id).await?.ok_or(Error::NotFound)
    }

    /// Creates a group (Administrators, User Managers).
    pub async fn create_group(&self, ctx: &RequestContext, p: &Principal, input: GroupInput) -> Result<Group> {
        policy::check(p, Operation::ManageGroups, Standing::default())?;
        let mut errors = Vec::new();
        let name = parse_name(input.name.as_deref().unwrap_or(""), &mut errors);
        let description = parse_description(input.description.as_deref().unwrap_or(""), &mut errors);
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        let now = self.now();
        let group = Group {
            id: GroupId::generate(),
            org_id: p.user.org_id,
            name,
            description,
            created_at: now,
            updated_at: now,
            member_count: 0,
        };
        self.store.insert_group(&group, &fold(&group.name)).await?;
        let details = json!({ "group_id": group.id, "name": group.name, "description": group.description });
        self.audit_access(ctx, p, action::GROUP_CREATED, None, details).await?;
        Ok(group)
    }

    /// Renames a group or changes its description.
    pub async fn update_group(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        id: GroupId,
        input: GroupInput,
    ) -> Result<Group> {
        policy::check(p, Operation::ManageGroups, Standing::default())?;
        let before = self.store.group(p.user.org_id, id).await?.ok_or(Error::NotFound)?;
        let mut group = before.clone();
        let mut errors = Vec::new();
        if let Some(name) = input.name {
            group.name = parse_name(&name, &mut errors);
        }
        if let Some(description) = input.description {
            group.description = parse_description(&description, &mut errors);
        }
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        if group == before {
            return Ok(group);
        }
        group.updated_at = self.now();
        self.store.update_group(&group, &fold(&group.name)).await?;
        let details = json!({
            "group_id": group.id,
            "before": { "name": before.name, "description": before.description },
            "after": { "name": group.name, "description": group.description },
        });
        self.audit_access(ctx, p, action::GROUP_UPDATED, None, details).await?;
        Ok(group)
    }

    /// Deletes a group: its members lose the access it gave; they stay users.
    pub async fn delete_group(&self, ctx: &RequestContext, p: &Principal, id: GroupId) -> Result<()> {
        policy::check(p, Operation::ManageGroups, Standing::default())?;
        let group = self.store.group(p.user.org_id, id).await?.ok_or(Error::NotFound)?;
        self.store.delete_group(p.user.org_id, id).await?;
        let details = json!({ "group_id": group.id, "name": group.name, "member_count": group.member_count });
        self.audit_access(ctx, p, action::GROUP_DELETED, None, details).await
    }

    /// A group's members in user-ID order (Administrators, User Managers).
    pub async fn group_members(
        &self,
        p: &Principal,
        id: GroupId,
        cursor: Option<&str>,
        limit: u32,
    ) -> Result<Page<User>> {
        policy::check(p, Operation::ReadGroupMembers, Standing::default())?;
        let group = self.store.group(p.user.org_id, id).await?.ok_or(Error::NotFound)?;
        let after = decode_cursor(cursor)?;
        let limit = limit.clamp(1, 500);
        let items = self.store.group_members(group.id, after.as_deref(), limit).await?;
        Ok(page_of(items, limit, |u| fold(&u.user_id)))
    }

    /// Makes a group's members exactly `user_ids` (all of the organization).
    pub async fn set_group_members(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        id: GroupId,
        user_ids: &[UserId],
    ) -> Result<SetChange<UserId>> {
        policy::check(p, Operation::ManageGroups, Standing::default())?;
        if user_ids.len() > 10_000 {
            return Err(Invalid::one("user_ids", "too_many", "At most 10000 members at once.").into());
        }
        let group = self.store.group(p.user.org_id, id).await?.ok_or(Error::NotFound)?;
        let users = self.known_users(p.user.org_id, user_ids, "user_ids").await?;
        let ids: Vec<UserId> = users.iter().map(|u| u.id).collect();
        let change = self.store.set_group_members(group.id, &ids, self.now()).await?;
        self.audit_members(ctx, p, &group, &change).await?;
        Ok(change)
    }

    /// Adds one member (no change when they already are one).
    pub async fn add_group_member(&self, ctx: &RequestContext, p: &Principal, id: GroupId, user: UserId) -> Result<()> {
        policy::check(p, Operation::ManageGroups, Standing::default())?;
        let group = self.store.group(p.user.org_id, id).await?.ok_or(Error::NotFound)?;
        self.known_users(p.user.org_id, &[user], "user_id").await?;
        if self.store.add_group_member(group.id, user, self.now()).await? {
            let change = SetChange { added: vec![user], removed: vec![] };
            self.audit_members(ctx, p, &group, &change).await?;
        }
        Ok(())
    }

    /// Removes one member; not found when they were not one.
    pub async fn remove_group_member(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        id: GroupId,
        user: UserId,
    ) -> Result<()> {
        policy::check(p, Operation::ManageGroups, Standing::default())?;
        let group = self.store.group(p.user.org_id, id).await?.ok_or(Error::NotFound)?;
        if !self.store.remove_group_member(group.id, user).await? {
            return Err(Error::NotFound);
        }
        let change = SetChange { added: vec![], removed: vec![user] };
        self.audit_members(ctx, p, &group, &change).await
    }

    async fn audit_members(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        group: &Group,
        change: &SetChange<UserId>,
    ) -> Result<()> {
        if change.is_empty() {
            return Ok(());
        }
        let details = json!({
            "group_id": group.id, "name": group.name, "added": change.added, "removed": change.removed,
        });
        self.audit_access(ctx, p, action::GROUP_MEMBERS_CHANGED, None, details).await
    }
}

impl Usher {
    /// The user of the caller's organization with this user ID or email, for
    /// forms where people are named rather than picked by id; unknown names are
    /// a field error on `field`.
    pub async fn user_by_name(&self, p: &Principal, field: &str, login: &str) -> Result<User> {
        let found = match LoginName::lookup_key(login) {
            Some(key) => self.store.user_by_login(p.user.org_id, &key).await?,
            None => None,
        };
        found.map(|(user, _)| user).ok_or_else(|| {
            Invalid::one(field, "unknown_user", "There is no user with this user ID or email address.").into()
        })
    }

    /// Adds the member named by user ID or email (the web form's way).
    pub async fn add_group_member_by_name(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        id: GroupId,
        login: &str,
    ) -> Result<()> {
        policy::check(p, Operation::ManageGroups, Standing::default())?;
        let user = self.user_by_name(p, "user", login).await?;
        self.add_group_member(ctx, p, id, user.id).await
    }
}
