use std::{fmt, str::FromStr};

use serde::{Deserialize, Serialize};

use crate::Invalid;

/// A phone number, validated and kept in E.164 form (`+33612345678`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Phone(String);

impl Phone {
    /// Parses a number written with its country code; spaces, dots, dashes and
    /// brackets are allowed.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let bad = || {
            Invalid::one(
                "phone",
                "invalid",
                "This is not a valid phone number. Write it with its country code, e.g. +33 6 12 34 56 78.",
            )
        };
        let s = raw.trim();
        if s.len() > 40 || crate::text::has_control(s) {
            return Err(bad());
        }
        let number = phonenumber::parse(None, s).map_err(|_| bad())?;
        if !phonenumber::is_valid(&number) {
            return Err(bad());
        }
        Ok(Self(number.format().mode(phonenumber::Mode::E164).to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The interface languages Usher is translated into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Language {
    #[default]
    En,
    Fr,
    Ru,
}

impl Language {
    pub const ALL: [Language; 3] = [Language::En, Language::Fr, Language::Ru];

    pub fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Fr => "fr",
            Language::Ru => "ru",
        }
    }

    /// The language's own name, as a language menu shows it.
    pub fn native_name(self) -> &'static str {
        match self {
            Language::En => "English",
            Language::Fr => "Français",
            Language::Ru => "Русский",
        }
    }

    /// Picks the first supported language of an `Accept-Language` header.
    pub fn from_accept_language(header: &str) -> Option<Self> {
        header
            .split(',')
            .filter_map(|part| part.split(';').next())
            .filter_map(|tag| tag.trim().get(..2))
            .find_map(|code| code.parse().ok())
    }
}

impl FromStr for Language {
    type Err = Invalid;

    fn from_str(s: &str) -> Result<Self, Invalid> {
        match s.trim().to_ascii_lowercase().as_str() {
            "en" => Ok(Language::En),
            "fr" => Ok(Language::Fr),
            "ru" => Ok(Language::Ru),
            _ => Err(Invalid::one("language", "unsupported", "The language must be one of en, fr, ru.")),
        }
    }
}

impl fmt::Display for Language {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An IANA time zone such as `Europe/Paris`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        raw.trim()
            .parse::<chrono_tz::Tz>()
            .map(Self)
            .map_err(|_| Invalid::one("timezone", "invalid", "This is not a known IANA time zone, e.g. Europe/Paris."))
    }

    pub fn tz(self) -> chrono_tz::Tz {
        self.0
    }

    pub fn name(self) -> &'static str {
        self.0.name()
    }
}

impl Default for TimeZone {
    fn default() -> Self {
        Self(chrono_tz::UTC)
    }
}

/// Free text of bounded length (names, company, contact person); empty means
/// "none". Control characters are refused; bidi formatting characters, which
/// can make a name read backwards, are taken out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortText(String);

impl ShortText {
    pub const MAX_LEN: usize = 200;

    /// `None` when the text is blank.
    pub fn parse(field: &str, raw: &str) -> Result<Option<Self>, Invalid> {
        let s = crate::text::strip_bidi(raw);
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        if s.chars().count() > Self::MAX_LEN {
            return Err(Invalid::one(field, "too_long", format!("At most {} characters.", Self::MAX_LEN)));
        }
        crate::text::check_line(field, s)?;
        Ok(Some(Self(s.to_owned())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_are_stored_e164() {
        assert_eq!(Phone::parse("+33 6 12 34 56 78").unwrap().as_str(), "+33612345678");
        assert_eq!(Phone::parse("+1 (415) 555-2671").unwrap().as_str(), "+14155552671");
        assert!(Phone::parse("12345").is_err());
        assert!(Phone::parse("+33 1").is_err());
        assert!(Phone::parse("hello").is_err());
    }

    #[test]
    fn short_texts_refuse_controls_and_drop_bidi_controls() {
        for bad in ["Ann\u{0}", "A\u{1b}[31m", "A\u{85}b", "a\nb"] {
            assert!(ShortText::parse("first_name", bad).is_err(), "{bad:?}");
        }
        let name = ShortText::parse("last_name", "\u{202e}Петров\u{202c}").unwrap().unwrap();
        assert_eq!(name.as_str(), "Петров");
        assert_eq!(ShortText::parse("last_name", "\u{202e}\u{202c}").unwrap(), None);
        assert!(Phone::parse("+33 6 12 34 56 78\u{0}").is_err());
    }

    #[test]
    fn languages_and_zones() {
        assert_eq!("FR".parse::<Language>().unwrap(), Language::Fr);
        assert!("de".parse::<Language>().is_err());
        assert_eq!(Language::from_accept_language("de-DE,ru;q=0.8,en;q=0.5"), Some(Language::Ru));
        assert_eq!(TimeZone::parse("Europe/Paris").unwrap().name(), "Europe/Paris");
        assert!(TimeZone::parse("Mars/Olympus").is_err());
    }
}
