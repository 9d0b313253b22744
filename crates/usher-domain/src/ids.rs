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

impl EventId {
    /// The smallest id of an event at `at` or later. Event ids are UUIDv7,
    /// made from the event's time, whose first 48 bits are that time in Unix
    /// milliseconds: a time range of the log is a range of ids, which the
    /// indexes that end with the id serve.
    pub fn first_at(at: chrono::DateTime<chrono::Utc>) -> Self {
        const LAST_MILLI: u64 = (1 << 48) - 1;
        let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0).min(LAST_MILLI);
        Self(uuid::Builder::from_unix_timestamp_millis(millis, &[0; 10]).into_uuid())
    }
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
    fn the_first_event_id_of_a_time_comes_before_every_id_made_then_or_later() {
        use chrono::{TimeZone as _, Utc};
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 12, 0, 0).unwrap();
        let first = EventId::first_at(at);
        assert_eq!(first.to_string(), "019ca945-0a00-7000-8000-000000000000");
        assert_eq!(first.uuid().get_version_num(), 7);
        let made = |at: chrono::DateTime<Utc>| {
            let ts = uuid::Timestamp::from_unix_time(at.timestamp() as u64, at.timestamp_subsec_nanos(), 0, 0);
            EventId::from_uuid(Uuid::new_v7(ts))
        };
        assert!(first <= made(at));
        assert!(made(at - chrono::Duration::milliseconds(1)) < first);
        assert!(first < EventId::first_at(at + chrono::Duration::milliseconds(1)));
        assert_eq!(EventId::first_at(Utc.timestamp_opt(-5, 0).unwrap()).uuid().as_bytes()[..6], [0; 6]);
    }

    #[test]
    fn new_ids_follow_creation_order() {
        let first = TokenId::generate();
        let second = TokenId::generate();
        assert!(first < second);
    }
}
