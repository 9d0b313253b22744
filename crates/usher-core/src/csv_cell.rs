//! CSV cells safe to open in a spreadsheet (OWASP "CSV injection"): a cell that
//! starts with `=`, `+`, `-`, `@`, a tab or a carriage return would be read as a
//! formula, so exports write it after a single quote `'`, which spreadsheets
//! show as text. Imports read that quote back off, so an export imports back
//! to the same values. Every CSV Usher writes goes through [`escape`].
//!
//! The rule, both ways: a cell is written with one more leading `'` when it
//! starts with one of those characters, or when it is itself such a quoted cell
//! (`'=x`, `''x`); on reading, one leading `'` is dropped when what follows starts
//! with one of those characters or with `'`. Any other `'` (as in `'t Hooft`)
//! is kept as it is.

use std::borrow::Cow;

/// The first characters a spreadsheet reads as the start of a formula.
const FORMULA_START: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

fn starts_a_formula(s: &str) -> bool {
    s.starts_with(FORMULA_START)
}

/// The cell as an export writes it.
pub fn escape(cell: &str) -> Cow<'_, str> {
    if starts_a_formula(cell) || unescape(cell).len() != cell.len() {
        Cow::Owned(format!("'{cell}"))
    } else {
        Cow::Borrowed(cell)
    }
}

/// The value an escaped cell stands for, as an import reads it.
pub fn unescape(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if starts_a_formula(rest) || rest.starts_with('\'') => rest,
        _ => cell,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_quoted_and_read_back() {
        for (value, written) in [
            ("=HYPERLINK(\"http://x\")", "'=HYPERLINK(\"http://x\")"),
            ("+33612345678", "'+33612345678"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("'=1", "''=1"),
            ("''x", "'''x"),
            ("'t Hooft", "'t Hooft"),
            ("Ada", "Ada"),
            ("", ""),
            ("a=b", "a=b"),
        ] {
            assert_eq!(escape(value), written, "{value:?}");
            assert_eq!(unescape(written), value, "{written:?}");
        }
    }
}
