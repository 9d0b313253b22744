//! Translations of the web UI (English, French, Russian) and the choice of a
//! page's language. The catalogs are `locales/{en,fr,ru}.yml`, compiled in.

use std::{borrow::Cow, fmt::Display};

use chrono::{DateTime, Utc};
use usher_domain::{FieldError, Language, PasswordPolicy, TimeZone};

#[allow(unused_imports, dead_code, missing_docs)]
mod catalog {
    // Paths are relative to this crate's Cargo.toml. English fills any gap.
    rust_i18n::i18n!("locales", fallback = "en");
}

// `i18n!` reads the catalogs without telling Cargo; these make an edit rebuild.
const _: &[u8] = include_bytes!("../../locales/en.yml");
const _: &[u8] = include_bytes!("../../locales/fr.yml");
const _: &[u8] = include_bytes!("../../locales/ru.yml");

/// The longest short text (names, company), for the "too long" message.
const SHORT_TEXT_MAX: usize = usher_domain::ShortText::MAX_LEN;

/// A translator for one language; templates call `t.get("key")`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tr(pub Language);

impl Tr {
    /// The language code, for `<html lang>`.
    pub fn code(&self) -> &'static str {
        self.0.code()
    }

    /// The message under `key`, or the key itself (logged) when no catalog has it.
    pub fn get(&self, key: &str) -> Cow<'static, str> {
        self.try_get(key).unwrap_or_else(|| {
            tracing::warn!(key, "missing translation");
            Cow::Owned(key.to_owned())
        })
    }

    /// The message under `key` in this language or English, if any.
    pub fn try_get(&self, key: &str) -> Option<Cow<'static, str>> {
        catalog::_rust_i18n_try_translate(self.0.code(), key)
    }

    /// The message under `key` with `%{name}` replaced by `value`.
    pub fn with(&self, key: &str, name: &str, value: impl Display) -> String {
        rust_i18n::replace_patterns(&self.get(key), &[name], &[value.to_string()])
    }

    /// A field error in this language: `errors.field.<field>.<code>`, else
    /// `errors.<code>`, else the service's own (English) message. Numbers in the
    /// messages (minimum length, history) come from the policy in force.
    pub fn field_error(&self, e: &FieldError, policy: Option<&PasswordPolicy>) -> String {
        let n = match e.code.as_str() {
            "min_length" => policy.map_or(0, |p| p.min_length as usize),
            "history" => policy.map_or(0, |p| p.history as usize),
            "too_long" if e.field == "user_id" => usher_domain::LoginName::MAX_LEN,
            "too_long" => SHORT_TEXT_MAX,
            _ => 0,
        };
        let specific = format!("errors.field.{}.{}", e.field, e.code);
        let generic = format!("errors.{}", e.code);
        match self.try_get(&specific).or_else(|| self.try_get(&generic)) {
            Some(msg) => rust_i18n::replace_patterns(&msg, &["n"], &[n.to_string()]),
            None => e.message.clone(),
        }
    }

    /// The rules of a password policy, as a list shown next to a password form.
    pub fn policy_rules(&self, p: &PasswordPolicy) -> Vec<String> {
        let mut rules = vec![self.with("rule.min_length", "n", p.min_length)];
        let flags = [
            (p.require_digit, "rule.require_digit"),
            (p.require_special, "rule.require_special"),
            (p.require_digit_or_special, "rule.require_digit_or_special"),
            (p.require_upper, "rule.require_upper"),
            (p.require_lower, "rule.require_lower"),
            (p.forbid_user_id, "rule.forbid_user_id"),
        ];
        rules.extend(flags.into_iter().filter(|(on, _)| *on).map(|(_, key)| self.get(key).into_owned()));
        if p.min_strength > 0 {
            rules.push(self.with("rule.min_strength", "n", p.min_strength));
        }
        if p.history > 0 {
            rules.push(self.with("rule.history", "n", p.history));
        }
        if let Some(days) = p.max_age_days {
            rules.push(self.with("rule.max_age", "n", days));
        }
        rules
    }

    /// An audit action's human name, or the action code itself when it has none.
    pub fn action(&self, action: &str) -> String {
        self.try_get(&format!("audit.actions.{action}")).map_or_else(|| action.to_owned(), Cow::into_owned)
    }
}

/// The language of a page nobody is signed in to: `?lang=`, then the
/// `usher_lang` cookie, then `Accept-Language`, then English.
pub fn negotiate(query: Option<&str>, cookie: Option<&str>, accept: Option<&str>) -> Language {
    query
        .and_then(|q| q.parse().ok())
        .or_else(|| cookie.and_then(|c| c.parse().ok()))
        .or_else(|| accept.and_then(Language::from_accept_language))
        .unwrap_or_default()
}

/// A time as its reader sees it: local date and time, and the zone's name.
pub fn local_time(at: DateTime<Utc>, tz: TimeZone) -> String {
    format!("{} ({})", local_time_short(at, tz), tz.name())
}

/// A local date and time without the zone (the zone is shown once, elsewhere).
pub fn local_time_short(at: DateTime<Utc>, tz: TimeZone) -> String {
    at.with_timezone(&tz.tz()).format("%Y-%m-%d %H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn the_query_wins_then_the_cookie_then_the_browser() {
        assert_eq!(negotiate(Some("ru"), Some("fr"), Some("en")), Language::Ru);
        assert_eq!(negotiate(Some("xx"), Some("fr"), Some("ru")), Language::Fr);
        assert_eq!(negotiate(None, Some("bad"), Some("de-DE,ru;q=0.8,en;q=0.5")), Language::Ru);
        assert_eq!(negotiate(None, None, Some("fr-CA,fr;q=0.9")), Language::Fr);
        assert_eq!(negotiate(None, None, Some("de, ja")), Language::En);
        assert_eq!(negotiate(None, None, None), Language::En);
    }

    #[test]
    fn every_catalog_has_every_key() {
        let backend = catalog::_rust_i18n_backend();
        let keys = |lang: &str| -> BTreeSet<String> {
            backend.messages_for_locale(lang).unwrap_or_default().into_iter().map(|(k, _)| k.into_owned()).collect()
        };
        let en = keys("en");
        assert!(en.len() > 100, "the English catalog is loaded");
        for lang in ["fr", "ru"] {
            let other = keys(lang);
            let missing: Vec<_> = en.difference(&other).collect();
            let extra: Vec<_> = other.difference(&en).collect();
            assert!(missing.is_empty(), "{lang} lacks {missing:?}");
            assert!(extra.is_empty(), "{lang} has keys English lacks: {extra:?}");
        }
    }

    #[test]
    fn every_key_the_templates_use_exists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let mut used = Vec::new();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for part in text.split("t.get(\"").skip(1) {
                used.push(part.split('"').next().unwrap().to_owned());
            }
        }
        assert!(used.len() > 50, "found the template keys");
        for key in used {
            assert!(Tr(Language::En).try_get(&key).is_some(), "missing key {key}");
        }
    }

    #[test]
    fn messages_are_translated_with_their_numbers() {
        let policy = PasswordPolicy { min_length: 11, history: 4, ..Default::default() };
        let e = FieldError::new("new_password", "min_length", "Use at least 11 characters.");
        assert_eq!(Tr(Language::En).field_error(&e, Some(&policy)), "Use at least 11 characters.");
        assert!(Tr(Language::Fr).field_error(&e, Some(&policy)).contains("11"));
        assert!(Tr(Language::Ru).field_error(&e, Some(&policy)).contains("11"));
        let phone = FieldError::new("phone", "invalid", "x");
        assert!(Tr(Language::Fr).field_error(&phone, None).contains("téléphone"));
        let unknown = FieldError::new("thing", "strange_code", "Service message.");
        assert_eq!(Tr(Language::Ru).field_error(&unknown, None), "Service message.");
        let rules = Tr(Language::En).policy_rules(&policy);
        assert_eq!(rules[0], "At least 11 characters");
        assert!(rules.iter().any(|r| r.contains('4')));
    }

    #[test]
    fn times_show_in_the_readers_zone() {
        let at = Utc.with_ymd_and_hms(2026, 11, 24, 8, 15, 0).unwrap();
        let paris = TimeZone::parse("Europe/Paris").unwrap();
        assert_eq!(local_time(at, paris), "2026-11-24 09:15 (Europe/Paris)");
        assert_eq!(local_time_short(at, TimeZone::default()), "2026-11-24 08:15");
    }

    #[test]
    fn actions_have_names_or_show_their_code() {
        assert_eq!(Tr(Language::En).action("auth.login.failed"), "Sign-in failed");
        assert_eq!(Tr(Language::En).action("future.thing"), "future.thing");
    }
}
