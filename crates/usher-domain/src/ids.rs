//! Identifiers, one type per kind of thing, so that passing a user's id where a
//! token's is expected does not compile. Each wraps a UUID and shows as one.

use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)+) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        #[cfg_attr(feature = "sqlx", derive(sqlx::Type), sqlx(transparent))]
        pub struct $name(Uuid);

        impl $name {
            /// A new id, ordered by creation time (UUID v7).
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            pub const fn uuid(self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(id: Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                s.parse().map(Self)
            }
        }
    )+};
}

ids! {
    /// An organization.
    OrgId;
    /// A user (not their user ID, the name they sign in with).
    UserId;
    /// A signed-in session.
    SessionId;
    /// A personal API token.
    TokenId;
    /// A group of users.
    GroupId;
    /// An app people get access to.
    AppId;
    /// An invitation.
    InvitationId;
    /// An entry of the audit log.
    EventId;
    /// A message in the email outbox.
    MailId;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_and_reads_as_its_uuid() {
        let id = UserId::generate();
        assert_eq!(id.to_string(), id.uuid().to_string());
        assert_eq!(id.to_string().parse::<UserId>().unwrap(), id);
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{id}\""));
        assert!("not-a-uuid".parse::<UserId>().is_err());
    }

    #[test]
    fn new_ids_follow_creation_order() {
        let first = TokenId::generate();
        let second = TokenId::generate();
        assert!(first < second);
    }
}
