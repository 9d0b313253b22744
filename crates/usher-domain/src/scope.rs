use std::{fmt, str::FromStr};

use crate::Invalid;

/// What a scope is about. Umbrella scopes (`read`, `write`) cover every resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Resource {
    Profile,
    Users,
    Tokens,
    Settings,
    Audit,
}

impl Resource {
    pub const ALL: [Resource; 5] =
        [Resource::Profile, Resource::Users, Resource::Tokens, Resource::Settings, Resource::Audit];

    pub fn as_str(self) -> &'static str {
        match self {
            Resource::Profile => "profile",
            Resource::Users => "users",
            Resource::Tokens => "tokens",
            Resource::Settings => "settings",
            Resource::Audit => "audit",
        }
    }
}

/// Reading or changing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Access {
    Read,
    Write,
}

/// One API token scope: `read`, `write`, or `resource:read|write`.
/// `write` includes `read`, as a user who may change a thing may look at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope {
    pub resource: Option<Resource>,
    pub access: Access,
}

impl Scope {
    pub const fn new(resource: Resource, access: Access) -> Self {
        Self { resource: Some(resource), access }
    }

    /// Every scope Usher knows, umbrella first.
    pub fn all() -> Vec<Scope> {
        let mut out =
            vec![Scope { resource: None, access: Access::Read }, Scope { resource: None, access: Access::Write }];
        for r in Resource::ALL {
            out.push(Scope::new(r, Access::Read));
            if r != Resource::Audit {
                out.push(Scope::new(r, Access::Write));
            }
        }
        out
    }

    /// Whether this scope lets a token do `access` on `resource`.
    pub fn grants(self, resource: Resource, access: Access) -> bool {
        self.resource.is_none_or(|r| r == resource) && (self.access == access || self.access == Access::Write)
    }
}

impl FromStr for Scope {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        let bad = || Invalid::one("scopes", "unknown_scope", format!("Unknown scope {s:?}."));
        let access = |a: &str| match a {
            "read" => Ok(Access::Read),
            "write" => Ok(Access::Write),
            _ => Err(bad()),
        };
        let scope = match s.split_once(':') {
            None => Scope { resource: None, access: access(s)? },
            Some((r, a)) => {
                let resource = Resource::ALL.into_iter().find(|x| x.as_str() == r).ok_or_else(bad)?;
                Scope::new(resource, access(a)?)
            }
        };
        if Scope::all().contains(&scope) { Ok(scope) } else { Err(bad()) }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let a = match self.access {
            Access::Read => "read",
            Access::Write => "write",
        };
        match self.resource {
            None => f.write_str(a),
            Some(r) => write!(f, "{}:{a}", r.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_parse_and_grant() {
        let read: Scope = "read".parse().unwrap();
        let users_write: Scope = "users:write".parse().unwrap();
        assert!(read.grants(Resource::Users, Access::Read));
        assert!(!read.grants(Resource::Users, Access::Write));
        assert!(users_write.grants(Resource::Users, Access::Read));
        assert!(users_write.grants(Resource::Users, Access::Write));
        assert!(!users_write.grants(Resource::Profile, Access::Read));
        assert_eq!(users_write.to_string(), "users:write");
        for bad in ["admin", "users:delete", "audit:write", "", "users"] {
            assert!(bad.parse::<Scope>().is_err(), "{bad}");
        }
        assert!(Scope::all().iter().all(|s| s.to_string().parse::<Scope>().unwrap() == *s));
    }
}
