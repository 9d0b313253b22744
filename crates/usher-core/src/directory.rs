//! Listing the users of an organization (the Users page and `GET /api/v1/users`).

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use usher_domain::{Access, Invalid, Resource};

use crate::{Result, Usher, auth::Admin, store::User};

/// One page of users and the cursor of the next.
#[derive(Debug, Clone)]
pub struct UserPage {
    pub items: Vec<User>,
    pub next_cursor: Option<String>,
}

impl Usher {
    /// The organization's users in user-ID order (Administrators and User
    /// Managers, scope `users:read`). Cursors are opaque and stable under inserts.
    pub async fn list_users(&self, manager: &Admin<'_>, cursor: Option<&str>, limit: u32) -> Result<UserPage> {
        manager.principal().require(Resource::Users, Access::Read)?;
        let after = cursor
            .map(|c| {
                URL_SAFE_NO_PAD
                    .decode(c)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| Invalid::one("cursor", "invalid", "This cursor is not valid."))
            })
            .transpose()?;
        let limit = limit.clamp(1, 200);
        let items = self.store.users_page(manager.org_id(), after.as_deref(), limit).await?;
        let next_cursor = if items.len() == limit as usize {
            items.last().map(|u| URL_SAFE_NO_PAD.encode(usher_domain::fold(&u.user_id)))
        } else {
            None
        };
        Ok(UserPage { items, next_cursor })
    }
}
