//! Usher's domain vocabulary: values that are valid by construction.
//!
//! Input is parsed into these types once, at the edge (API, web form, CLI, import);
//! deeper code never re-checks them. Nothing here does I/O.

mod error;
mod identity;
mod ids;
mod policy;
mod profile;
mod role;
mod scope;
pub mod text;

pub use error::{FieldError, Invalid};
pub use identity::{Email, LoginName, fold, identifier_key};
pub use ids::{AppId, EventId, GroupId, InvitationId, MailId, OrgId, SessionId, TokenId, UserId};
pub use policy::{PasswordPolicy, TokenPolicy};
pub use profile::{Language, Phone, ShortText, TimeZone};
pub use role::{AppRole, Role, RoleName};
pub use scope::{Access, Resource, Scope};
