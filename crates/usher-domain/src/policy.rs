use serde::{Deserialize, Serialize};

use crate::Invalid;

/// An organization's password rules. Checking a password against it lives in
/// `usher-core` (it needs the strength estimator); this is the data and its bounds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PasswordPolicy {
    pub min_length: u32,
    pub require_digit: bool,
    pub require_special: bool,
    pub require_digit_or_special: bool,
    pub require_upper: bool,
    pub require_lower: bool,
    pub forbid_user_id: bool,
    /// zxcvbn score the password must reach, 0 (anything) to 4 (very strong).
    pub min_strength: u8,
    /// How many previous passwords may not be reused (0: no history check).
    pub history: u32,
    /// Maximum password age in days for non-administrators; `None`: never expires.
    pub max_age_days: Option<u32>,
}

impl Default for PasswordPolicy {
    /// Usher's own default: NIST SP 800-63B style (length and a strength estimate
    /// rather than composition rules), no reuse of the last 5.
    fn default() -> Self {
        Self {
            min_length: 8,
            require_digit: false,
            require_special: false,
            require_digit_or_special: false,
            require_upper: false,
            require_lower: false,
            forbid_user_id: true,
            min_strength: 2,
            history: 5,
            max_age_days: None,
        }
    }
}

impl PasswordPolicy {
    /// Named presets matching the reference products' documented rules.
    pub fn presets() -> Vec<(&'static str, PasswordPolicy)> {
        let base = PasswordPolicy {
            min_length: 6,
            require_digit: false,
            require_special: false,
            require_digit_or_special: false,
            require_upper: false,
            require_lower: false,
            forbid_user_id: false,
            min_strength: 0,
            history: 0,
            max_age_days: None,
        };
        vec![
            ("usher", PasswordPolicy::default()),
            // Ivanti incapptic Connect: at least six characters, a digit or special character.
            ("ivanti", PasswordPolicy { require_digit_or_special: true, ..base.clone() }),
            // Acure: at least six characters, digits, upper and lower case (Latin or Cyrillic).
            ("acure", PasswordPolicy { require_digit: true, require_upper: true, require_lower: true, ..base.clone() }),
            // Strict: long, every character class, strong, no reuse of the last 10, 90 days.
            (
                "strict",
                PasswordPolicy {
                    min_length: 12,
                    require_digit: true,
                    require_special: true,
                    require_upper: true,
                    require_lower: true,
                    forbid_user_id: true,
                    min_strength: 3,
                    history: 10,
                    max_age_days: Some(90),
                    ..base
                },
            ),
        ]
    }

    /// Bounds on the policy itself, so an administrator cannot lock everyone out.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut errors = Vec::new();
        if !(1..=128).contains(&self.min_length) {
            errors.push(crate::FieldError::new("min_length", "out_of_range", "Must be between 1 and 128."));
        }
        if self.min_strength > 4 {
            errors.push(crate::FieldError::new("min_strength", "out_of_range", "Must be between 0 and 4."));
        }
        if self.history > 24 {
            errors.push(crate::FieldError::new("history", "out_of_range", "Must be between 0 and 24."));
        }
        if self.max_age_days.is_some_and(|d| d == 0 || d > 3650) {
            errors.push(crate::FieldError::new("max_age_days", "out_of_range", "Must be between 1 and 3650, or null."));
        }
        if errors.is_empty() { Ok(()) } else { Err(Invalid(errors)) }
    }
}

/// An organization's rules for personal API tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenPolicy {
    /// Lifetime given when the creator names no expiry.
    pub default_lifetime_days: u32,
    /// Longest lifetime allowed; `None`: no cap.
    pub max_lifetime_days: Option<u32>,
    /// Whether tokens may never expire (only when there is no cap).
    pub allow_never_expiring: bool,
    /// The scopes tokens may be given (`read`, `write`, `users:read`, ...).
    pub scopes: Vec<String>,
}

impl Default for TokenPolicy {
    /// One year by default, no cap, no never-expiring tokens, every scope.
    fn default() -> Self {
        Self {
            default_lifetime_days: 365,
            max_lifetime_days: None,
            allow_never_expiring: false,
            scopes: crate::Scope::all().iter().map(ToString::to_string).collect(),
        }
    }
}

impl TokenPolicy {
    /// Whether a token may be created without an expiry: allowed, and no cap.
    pub fn allows_never_expiring(&self) -> bool {
        self.allow_never_expiring && self.max_lifetime_days.is_none()
    }

    pub fn validate(&self) -> Result<(), Invalid> {
        let mut errors = Vec::new();
        if !(1..=3650).contains(&self.default_lifetime_days) {
            errors.push(crate::FieldError::new("default_lifetime_days", "out_of_range", "Must be between 1 and 3650."));
        }
        if let Some(max) = self.max_lifetime_days {
            if !(1..=3650).contains(&max) {
                errors.push(crate::FieldError::new(
                    "max_lifetime_days",
                    "out_of_range",
                    "Must be between 1 and 3650, or null.",
                ));
            } else if self.default_lifetime_days > max {
                errors.push(crate::FieldError::new(
                    "default_lifetime_days",
                    "above_max",
                    "The default lifetime cannot be longer than the maximum.",
                ));
            }
            if self.allow_never_expiring {
                errors.push(crate::FieldError::new(
                    "allow_never_expiring",
                    "conflicts_with_max",
                    "Never-expiring tokens cannot be allowed when lifetime is capped.",
                ));
            }
        }
        if self.scopes.is_empty() {
            errors.push(crate::FieldError::new("scopes", "required", "Allow at least one scope."));
        }
        for s in &self.scopes {
            if s.parse::<crate::Scope>().is_err() {
                errors.push(crate::FieldError::new("scopes", "unknown_scope", format!("Unknown scope {s:?}.")));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(Invalid(errors)) }
    }
}
