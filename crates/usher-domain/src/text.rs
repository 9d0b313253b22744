//! The one rule for every text that reaches storage: no control characters.
//!
//! A NUL byte is refused by PostgreSQL (and ends a C string elsewhere), other C0
//! and C1 controls garble logs, terminals and CSV files. One-line fields refuse
//! every control character; multi-line fields (descriptions, email bodies) allow
//! line feed, carriage return and tab. Bidi controls (U+202A–U+202E,
//! U+2066–U+2069, the marks U+200E, U+200F, U+061C) are not controls, but they
//! reorder what a reader sees, so names drop them ([`strip_bidi`]) and
//! identifiers refuse them ([`crate::LoginName`]).

use crate::Invalid;

/// Whether `c` is a C0 or C1 control character or DEL.
pub fn is_control(c: char) -> bool {
    c.is_control()
}

/// Whether the text has a control character (any, line breaks included).
pub fn has_control(s: &str) -> bool {
    s.chars().any(is_control)
}

/// Refuses a one-line text with any control character.
pub fn check_line(field: &str, s: &str) -> Result<(), Invalid> {
    if has_control(s) {
        return Err(Invalid::one(field, "invalid", "Control characters are not allowed."));
    }
    Ok(())
}

/// Refuses a multi-line text with a control character other than a line break or tab.
pub fn check_multiline(field: &str, s: &str) -> Result<(), Invalid> {
    if s.chars().any(|c| is_control(c) && !matches!(c, '\n' | '\r' | '\t')) {
        return Err(Invalid::one(field, "invalid", "Control characters other than line breaks are not allowed."));
    }
    Ok(())
}

/// Whether `c` is a bidirectional formatting character (embedding, override,
/// isolate, or mark).
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The text without bidi formatting characters.
pub fn strip_bidi(s: &str) -> String {
    s.chars().filter(|c| !is_bidi_control(*c)).collect()
}

/// Text quoted from untrusted input, made safe to store and show (audit
/// details): every control character and bidi control becomes U+FFFD, so the
/// record still shows that something was there.
pub fn printable(s: &str) -> String {
    s.chars().map(|c| if is_control(c) || is_bidi_control(c) { '\u{fffd}' } else { c }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_texts_refuse_every_control() {
        for bad in ["a\u{0}b", "a\u{1}", "\u{1b}[31m", "a\u{7f}", "a\u{85}b", "a\nb", "a\tb"] {
            assert!(check_line("f", bad).is_err(), "{bad:?}");
        }
        assert!(check_line("f", "Ivan Petrov, ООО «Ромашка» 日本").is_ok());
    }

    #[test]
    fn multi_line_texts_allow_line_breaks_and_tabs_only() {
        assert!(check_multiline("f", "Hello\r\n\tworld").is_ok());
        for bad in ["a\u{0}b", "a\u{1}", "\u{1b}[31m", "a\u{7f}", "a\u{85}b"] {
            assert!(check_multiline("f", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn bidi_controls_are_stripped_and_controls_made_visible() {
        assert_eq!(strip_bidi("\u{202e}nimda\u{202c} \u{2066}x\u{2069}"), "nimda x");
        assert_eq!(printable("ad\u{0}min\u{202e}"), "ad\u{fffd}min\u{fffd}");
    }
}
