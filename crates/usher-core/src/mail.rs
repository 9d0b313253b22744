//! Email: a durable outbox in the database, delivered over SMTP by the server's
//! delivery worker (issue 4). Services queue mail with [`Usher::queue_mail`].

use async_trait::async_trait;

/// Storage for this area; part of [`crate::Store`].
#[async_trait]
pub trait MailStore: Send + Sync {}
