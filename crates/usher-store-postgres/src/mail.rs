//! MailStore queries.

use async_trait::async_trait;
use usher_core::mail::MailStore;

use super::PostgresStore;

#[async_trait]
impl MailStore for PostgresStore {}
