//! Administration of users: create, details, edit, disable/enable, delete,
//! temporary-password reset, failed sign-ins (issue 4).

use async_trait::async_trait;

/// Storage for this area; part of [`crate::Store`].
#[async_trait]
pub trait UserAdminStore: Send + Sync {}
