use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// An organization role. App-scoped roles (App Owner, App Developer) come with apps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Administrator,
    UserManager,
    Developer,
    User,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::UserManager => "user_manager",
            Role::Developer => "developer",
            Role::User => "user",
        }
    }
}

impl FromStr for Role {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "administrator" => Ok(Role::Administrator),
            "user_manager" => Ok(Role::UserManager),
            "developer" => Ok(Role::Developer),
            "user" => Ok(Role::User),
            _ => Err(Invalid::one("roles", "unknown_role", format!("Unknown role {s:?}."))),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
