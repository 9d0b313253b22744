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

/// A role scoped to one app: its owners manage it (details, developers, groups
/// with access); its developers work on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AppRole {
    #[serde(rename = "app_owner")]
    Owner,
    #[serde(rename = "app_developer")]
    Developer,
}

impl AppRole {
    pub const ALL: [AppRole; 2] = [AppRole::Owner, AppRole::Developer];

    /// The stable name integrators use: `app_owner`, `app_developer`.
    pub fn as_str(self) -> &'static str {
        match self {
            AppRole::Owner => "app_owner",
            AppRole::Developer => "app_developer",
        }
    }
}

impl FromStr for AppRole {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s {
            "app_owner" => Ok(AppRole::Owner),
            "app_developer" => Ok(AppRole::Developer),
            _ => Err(Invalid::one("roles", "unknown_role", format!("Unknown app role {s:?}."))),
        }
    }
}

impl fmt::Display for AppRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Any role name a role assignment may carry: an organization role or an app
/// role (which then needs the app it is about).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RoleName {
    Org(Role),
    App(AppRole),
}

impl RoleName {
    /// Every role name, organization roles first.
    pub const ALL: [RoleName; 6] = [
        RoleName::Org(Role::Administrator),
        RoleName::Org(Role::UserManager),
        RoleName::Org(Role::Developer),
        RoleName::Org(Role::User),
        RoleName::App(AppRole::Owner),
        RoleName::App(AppRole::Developer),
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RoleName::Org(r) => r.as_str(),
            RoleName::App(r) => r.as_str(),
        }
    }
}

impl FromStr for RoleName {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        let s = s.trim();
        s.parse::<Role>()
            .map(RoleName::Org)
            .or_else(|_| s.parse::<AppRole>().map(RoleName::App))
            .map_err(|_| Invalid::one("roles", "unknown_role", format!("Unknown role {s:?}.")))
    }
}

impl fmt::Display for RoleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_role_name_parses_back() {
        for r in RoleName::ALL {
            assert_eq!(r.as_str().parse::<RoleName>().unwrap(), r);
        }
        assert_eq!(" app_owner ".parse::<RoleName>().unwrap(), RoleName::App(AppRole::Owner));
        for bad in ["", "admin", "App_Owner", "owner", "app_user"] {
            assert_eq!(bad.parse::<RoleName>().unwrap_err().0[0].code, "unknown_role", "{bad}");
        }
    }
}
