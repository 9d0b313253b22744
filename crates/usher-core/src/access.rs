//! Roles, groups and apps, and the one authorization policy (issue 4).

use async_trait::async_trait;

/// Storage for this area; part of [`crate::Store`].
#[async_trait]
pub trait AccessStore: Send + Sync {}
