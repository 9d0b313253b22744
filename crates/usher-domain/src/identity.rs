use std::fmt;

use precis_core::profile::Profile;
use precis_profiles::{UsernameCaseMapped, UsernameCasePreserved};
use unicode_security::{RestrictionLevel, RestrictionLevelDetection};

use crate::{Invalid, text::is_bidi_control};

/// A user ID (login name): any identifier unique in its organization, compared
/// without case. Often an email address, but need not be.
///
/// IDs follow RFC 8265 (PRECIS, the UsernameCasePreserved profile): fullwidth and
/// halfwidth forms become their ordinary characters (`ａｄｍｉｎ` is `admin`), text
/// is NFC, and spaces, controls, invisible and bidi formatting characters,
/// symbols and compatibility characters are refused. Each run of letters and
/// digits must be written in one script (or the usual Japanese, Chinese and
/// Korean mixes with Latin), so `аdmin` with a Cyrillic `а` is refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LoginName(String);

impl LoginName {
    pub const MAX_LEN: usize = 200;

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Invalid::one("user_id", "required", "The user ID is required."));
        }
        if s.chars().any(|c| c.is_control() || c.is_whitespace() || is_bidi_control(c)) {
            return Err(Invalid::one("user_id", "invalid", "The user ID cannot contain spaces or control characters."));
        }
        let prepared = UsernameCasePreserved::new().enforce(s).map_err(|_| {
            Invalid::one(
                "user_id",
                "invalid",
                "The user ID may contain letters, digits and ASCII punctuation, without invisible characters or symbols.",
            )
        })?;
        if prepared.chars().count() > Self::MAX_LEN {
            return Err(Invalid::one("user_id", "too_long", "The user ID is at most 200 characters."));
        }
        if !single_script_runs(&prepared) {
            return Err(Invalid::one(
                "user_id",
                "mixed_scripts",
                "Each word of the user ID must be written in one alphabet (no Cyrillic or Greek look-alikes among Latin letters).",
            ));
        }
        Ok(Self(prepared.into_owned()))
    }

    /// The name as the user typed it (case preserved), in its PRECIS form.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key uniqueness and look-ups use: see [`identifier_key`].
    pub fn key(&self) -> String {
        identifier_key(&self.0)
    }

    /// The key to look a typed sign-in name (user ID or email) up by; `None` when
    /// no account can have it (control, bidi or invisible characters), so the
    /// caller answers as for an unknown user without asking the database. A
    /// name that is not a valid ID today (one made before these rules) is
    /// looked up by its lower case.
    pub fn lookup_key(raw: &str) -> Option<String> {
        let s = raw.trim();
        if s.is_empty() || s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
            return None;
        }
        Some(match Self::parse(s) {
            Ok(name) => name.key(),
            Err(_) => fold(s),
        })
    }
}

/// The key every user identifier (user ID, email) is unique and looked up by:
/// the RFC 8265 UsernameCaseMapped form (width-mapped, lower case, NFC), and for
/// an identifier that imitates a plain ASCII one with other characters (`admın`
/// with a dotless i, `ADMİN` with a dotted capital I, `ѕсоре` in Cyrillic), that
/// ASCII identifier, by the Unicode confusable skeletons of UTS #39. So a
/// look-alike collides with the original at the database's unique index and
/// signs in to nothing else. ASCII identifiers keep their plain lower case.
pub fn identifier_key(s: &str) -> String {
    let mapped = UsernameCaseMapped::new().enforce(s.trim()).map_or_else(|_| fold(s), |m| m.into_owned());
    ascii_twin(&mapped).unwrap_or(mapped)
}

/// The ASCII text a non-ASCII identifier looks like, character by character,
/// when every character has an ASCII skeleton.
fn ascii_twin(s: &str) -> Option<String> {
    if s.is_ascii() {
        return None;
    }
    let mut out = String::with_capacity(s.len());
    let mut prev = None;
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c);
        } else if c == '\u{307}' && matches!(prev, Some('i' | 'j')) {
            // The dot above that lower-casing `İ` leaves on an `i`.
        } else {
            let skeleton: String = unicode_security::skeleton(c.encode_utf8(&mut [0; 4])).collect();
            if !skeleton.is_ascii() {
                return None;
            }
            out.push_str(&skeleton.to_ascii_lowercase());
        }
        prev = Some(c);
    }
    Some(out)
}

/// Whether each run of letters and digits is in one script, or one of the
/// mixes UTS #39 calls highly restrictive (Latin with Han and Kana, ...).
fn single_script_runs(s: &str) -> bool {
    s.split(|c: char| !c.is_alphanumeric())
        .all(|run| run.is_empty() || run.detect_restriction_level() <= RestrictionLevel::HighlyRestrictive)
}

impl fmt::Display for LoginName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, syntactically valid, compared case-insensitively.
///
/// Written in its RFC 8265 form first: fullwidth characters become ordinary ones
/// (`ａｎｎ＠ｅｘａｍｐｌｅ．ｏｒｇ` is `ann@example.org`, the address the person
/// meant), and invisible, bidi and control characters are refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(Invalid::one("email", "required", "The email address is required."));
        }
        let bad = || Invalid::one("email", "invalid", "This is not a valid email address.");
        if s.chars().any(|c| c.is_control() || is_bidi_control(c)) {
            return Err(bad());
        }
        let s = UsernameCasePreserved::new().enforce(s).map_err(|_| bad())?;
        let ok = s.len() <= 254
            && email_address::EmailAddress::parse_with_options(
                &s,
                email_address::Options::default().without_display_text(),
            )
            .is_ok_and(|e| e.domain().contains('.') && !e.domain().starts_with('['));
        if !ok {
            return Err(bad());
        }
        Ok(Self(s.into_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The key uniqueness and look-ups use: see [`identifier_key`] (an email can
    /// be typed where a user ID is, so both have keys of one kind).
    pub fn key(&self) -> String {
        identifier_key(&self.0)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Case folding for case-insensitive names and searches (Latin, Cyrillic, ...);
/// user identifiers use [`identifier_key`].
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

    #[test]
    fn emails_are_written_in_ordinary_characters() {
        let wide = Email::parse("ＡＮＮ＠ｅｘａｍｐｌｅ．ｏｒｇ").unwrap();
        assert_eq!(wide.as_str(), "ANN@example.org");
        assert_eq!(wide.key(), "ann@example.org");
        for bad in ["ann\u{200b}@example.org", "\u{202e}ann@example.org", "ann@exa\u{0}mple.org", "a\u{85}@example.org"]
        {
            assert!(Email::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(Email::parse("иван@пример.рф").unwrap().key(), "иван@пример.рф");
    }

    #[test]
    fn user_ids_follow_precis_and_refuse_invisible_characters() {
        assert_eq!(LoginName::parse("ＡＤＭＩＮ").unwrap().as_str(), "ADMIN");
        assert_eq!(LoginName::parse("ａｄｍｉｎ").unwrap().key(), "admin");
        for bad in
            ["admin\u{200b}", "\u{202e}admin", "ad\u{ad}min", "ad\u{0}min", "ad\u{85}min", "a\u{2066}b", "ﬁle", "☃"]
        {
            assert!(LoginName::parse(bad).is_err(), "{bad:?}");
        }
        // NFC: a decomposed é is the composed one.
        assert_eq!(LoginName::parse("jose\u{301}").unwrap().key(), "jos\u{e9}");
        assert!(LoginName::parse("jean.dupont@example.org").is_ok());
        assert!(LoginName::parse("user+tag_1-x@example.org").is_ok());
    }

    #[test]
    fn look_alikes_of_an_ascii_id_have_its_key() {
        for look_alike in ["admın", "ADMİN", "ａｄｍｉｎ", "Admin"] {
            assert_eq!(LoginName::parse(look_alike).unwrap().key(), "admin", "{look_alike}");
        }
        assert_eq!(LoginName::parse("ѕсоре").unwrap().key(), "scope");
        // Genuine non-Latin names keep their own key; distinct ASCII ids stay distinct.
        assert_eq!(LoginName::parse("ИВАН").unwrap().key(), "иван");
        assert_eq!(LoginName::parse("josé").unwrap().key(), "josé");
        assert_eq!(LoginName::parse("日本").unwrap().key(), "日本");
        assert_ne!(LoginName::parse("user1").unwrap().key(), LoginName::parse("userl").unwrap().key());
    }

    #[test]
    fn mixed_scripts_in_one_word_are_refused() {
        assert!(LoginName::parse("\u{430}dmin").is_err(), "Cyrillic а among Latin");
        assert!(LoginName::parse("ivan@пример.рф").is_ok(), "one script per word");
        assert!(LoginName::parse("tanaka東京").is_ok(), "Latin with Han");
    }

    #[test]
    fn sign_in_names_with_controls_find_nobody() {
        assert_eq!(LoginName::lookup_key("ad\u{0}min"), None);
        assert_eq!(LoginName::lookup_key("\u{202e}admin"), None);
        assert_eq!(LoginName::lookup_key("  "), None);
        assert_eq!(LoginName::lookup_key("ａｄｍｉｎ").as_deref(), Some("admin"));
        assert_eq!(LoginName::lookup_key("Ann@Example.org").as_deref(), Some("ann@example.org"));
        // An ID from before these rules is still found by its lower case.
        assert_eq!(LoginName::lookup_key("Snow☃").as_deref(), Some("snow☃"));
    }
}
