use std::fmt;

use crate::Invalid;

/// A user ID (login name): any identifier unique in its organization, compared
/// case-insensitively. Often an email address, but need not be.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginName(String);

impl LoginName {
    pub const MAX_LEN: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Invalid::one("user_id", "required", "The user ID is required."));
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(Invalid::one("user_id", "too_long", "The user ID is at most 200 characters."));
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace()) {
            return Err(Invalid::one("user_id", "invalid", "The user ID cannot contain spaces or control characters."));
        }
        Ok(Self(s.to_owned()))
    }

    /// The name as the user typed it (case preserved).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key uniqueness and look-ups use: Unicode lowercase.
    pub fn key(&self) -> String {
        fold(&self.0)
    }
}

impl fmt::Display for LoginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, syntactically valid, compared case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Invalid::one("email", "required", "The email address is required."));
        }
        let ok = s.len() <= 254
            && email_address::EmailAddress::parse_with_options(
                s,
                email_address::Options::default().without_display_text(),
            )
            .is_ok_and(|e| e.domain().contains('.') && !e.domain().starts_with('['));
        if !ok {
            return Err(Invalid::one("email", "invalid", "This is not a valid email address."));
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key uniqueness and look-ups use: Unicode lowercase.
    pub fn key(&self) -> String {
        fold(&self.0)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Case folding used for every case-insensitive identifier (Latin, Cyrillic, ...).
pub fn fold(s: &str) -> String {
    s.trim().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_names_compare_without_case_in_any_script() {
        assert_eq!(LoginName::parse("Ivan").unwrap().key(), "ivan");
        assert_eq!(LoginName::parse("ИВАН").unwrap().key(), LoginName::parse("иван").unwrap().key());
        assert!(LoginName::parse("two words").is_err());
        assert!(LoginName::parse("  ").is_err());
    }

    #[test]
    fn emails_are_checked() {
        assert!(Email::parse("Ann@Example.org").is_ok());
        assert_eq!(Email::parse("Ann@Example.org").unwrap().key(), "ann@example.org");
        for bad in ["ann", "ann@", "@example.org", "ann@localhost", "a b@example.org", "Ann <ann@example.org>"] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }
}
