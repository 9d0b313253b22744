//! The password policy: every rule, checked at once. Hashing is in `hashing`.

use usher_domain::{FieldError, PasswordPolicy};

/// Who the password belongs to, for the "does not contain the user ID" and
/// strength rules.
pub struct PasswordOwner<'a> {
    pub user_id: &'a str,
    pub email: Option<&'a str>,
    pub names: [Option<&'a str>; 2],
}

/// Checks every rule of the policy except history, reporting each failed rule
/// by name (`code`) under `field`.
pub fn check_policy(
    policy: &PasswordPolicy,
    password: &str,
    owner: &PasswordOwner<'_>,
    field: &str,
) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let mut fail = |code: &str, msg: String| errors.push(FieldError::new(field, code, msg));
    let len = password.chars().count();
    if len < policy.min_length as usize {
        fail("min_length", format!("Use at least {} characters.", policy.min_length));
    }
    if len > 1024 {
        fail("max_length", "Use at most 1024 characters.".into());
    }
    // Anything printable, in any script, but no control character (a NUL, an
    // escape): RFC 8265's OpaqueString refuses them too, and they cannot be typed.
    if usher_domain::text::has_control(password) {
        fail("control_character", "A password cannot contain control characters.".into());
    }
    let digit = password.chars().any(|c| c.is_numeric());
    let special = password.chars().any(|c| !c.is_alphanumeric());
    if policy.require_digit && !digit {
        fail("require_digit", "Include at least one digit.".into());
    }
    if policy.require_special && !special {
        fail("require_special", "Include at least one special character (not a letter or digit).".into());
    }
    if policy.require_digit_or_special && !digit && !special {
        fail("require_digit_or_special", "Include at least one digit or special character.".into());
    }
    if policy.require_upper && !password.chars().any(char::is_uppercase) {
        fail("require_upper", "Include at least one upper-case letter.".into());
    }
    if policy.require_lower && !password.chars().any(char::is_lowercase) {
        fail("require_lower", "Include at least one lower-case letter.".into());
    }
    if policy.forbid_user_id {
        let lower = password.to_lowercase();
        let mut ids = vec![owner.user_id.to_lowercase()];
        if let Some(email) = owner.email {
            let email = email.to_lowercase();
            if let Some((local, _)) = email.split_once('@')
                && local.chars().count() >= 3
            {
                ids.push(local.to_owned());
            }
            ids.push(email);
        }
        if ids.iter().any(|id| !id.is_empty() && lower.contains(id.as_str())) {
            fail("forbid_user_id", "The password cannot contain your user ID or email address.".into());
        }
    }
    if policy.min_strength > 0 && !password.is_empty() && len <= 256 {
        let mut inputs: Vec<&str> = vec![owner.user_id];
        inputs.extend(owner.email);
        inputs.extend(owner.names.iter().flatten());
        let score = u8::from(zxcvbn::zxcvbn(password, &inputs).score());
        if score < policy.min_strength {
            fail(
                "min_strength",
                "This password is too easy to guess (common words, names, sequences or dates). Make it longer or less predictable.".into(),
            );
        }
    }
    errors
}

#[cfg(test)]
mod tests {
    use super::*;

    fn owner() -> PasswordOwner<'static> {
        PasswordOwner { user_id: "ivan", email: Some("ivan.petrov@example.org"), names: [Some("Ivan"), None] }
    }

    fn codes(policy: &PasswordPolicy, pw: &str) -> Vec<String> {
        check_policy(policy, pw, &owner(), "password").into_iter().map(|e| e.code).collect()
    }

    #[test]
    fn every_failed_rule_is_reported_at_once() {
        let strict = PasswordPolicy::presets().into_iter().find(|(n, _)| *n == "strict").unwrap().1;
        let got = codes(&strict, "ivan");
        for rule in
            ["min_length", "require_digit", "require_special", "require_upper", "forbid_user_id", "min_strength"]
        {
            assert!(got.contains(&rule.to_string()), "{rule} missing in {got:?}");
        }
        assert!(!got.contains(&"require_lower".to_string()));
    }

    #[test]
    fn cyrillic_letters_have_case() {
        let policy = PasswordPolicy { require_upper: true, require_lower: true, min_strength: 0, ..Default::default() };
        assert!(codes(&policy, "Пароль-надёжный").is_empty());
        assert_eq!(codes(&policy, "пароль-надёжный"), vec!["require_upper"]);
    }

    #[test]
    fn digit_or_special() {
        let policy =
            PasswordPolicy { require_digit_or_special: true, min_strength: 0, min_length: 6, ..Default::default() };
        assert!(codes(&policy, "abcdef1").is_empty());
        assert!(codes(&policy, "abcdef!").is_empty());
        assert_eq!(codes(&policy, "abcdefg"), vec!["require_digit_or_special"]);
    }

    #[test]
    fn user_id_and_email_are_forbidden() {
        let policy = PasswordPolicy { min_strength: 0, ..Default::default() };
        assert_eq!(codes(&policy, "xxIVANxx"), vec!["forbid_user_id"]);
        assert_eq!(codes(&policy, "my-ivan.petrov-pw"), vec!["forbid_user_id"]);
    }

    #[test]
    fn common_passwords_are_weak() {
        let policy = PasswordPolicy::default();
        assert!(codes(&policy, "password1").contains(&"min_strength".to_string()));
        assert!(codes(&policy, "correct horse battery staple").is_empty());
    }
}
