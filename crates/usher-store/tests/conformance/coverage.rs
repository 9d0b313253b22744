//! Every store method has a test: each method declared in a trait of
//! `usher-core/src/store/` must be called (`.name(`) in a test module of this
//! suite. Runs without a database.

use std::collections::{BTreeMap, BTreeSet};

/// Files as (name, text), read at compile time from `$dir`.
macro_rules! sources {
    ($dir:literal: $($file:literal),+ $(,)?) => {
        &[$(($file, include_str!(concat!($dir, $file)))),+]
    };
}

/// The store traits, one file per aggregate.
const TRAITS: &[(&str, &str)] = sources!("../../../usher-core/src/store/":
    "mod.rs", "access.rs", "audit.rs", "directory.rs", "import.rs", "invitations.rs", "lockout.rs", "mail.rs",
    "organizations.rs", "sessions.rs", "settings.rs", "tokens.rs", "two_step.rs", "users.rs",
);

/// The suite's test modules (its support, harness and this file call no
/// method on behalf of a test).
const TESTS: &[(&str, &str)] = sources!("./":
    "access.rs", "apps.rs", "audit.rs", "cascades.rs", "concurrency.rs", "cursors.rs", "directory.rs",
    "import.rs", "invitations.rs", "lockout.rs", "mail.rs", "organizations.rs", "sessions.rs", "settings.rs",
    "store.rs", "tokens.rs", "two_step.rs", "users.rs",
);

/// The suite's files that are not test modules.
const NOT_TESTS: [&str; 4] = ["main.rs", "harness.rs", "support.rs", "coverage.rs"];

/// Source text with comments blanked and string and character literals
/// emptied, so only code is searched. Lengths and lines are kept.
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(if chars[i] == '\n' { '\n' } else { ' ' });
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !is_ident(chars.get(i.wrapping_sub(1)).copied())
        {
            // A raw string: r"..." or r#"..."#, closed by a quote and as many hashes.
            let mut j = i + 1;
            while chars.get(j) == Some(&'#') {
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            let hashes = j - i - 1;
            out.push_str("\"\"");
            j += 1;
            while j < chars.len() && !(chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#'))) {
                j += 1;
            }
            i = j + 1 + hashes;
        } else if c == '"' {
            out.push_str("\"\"");
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' && (next == Some('\\') || chars.get(i + 2) == Some(&'\'')) {
            // A character literal (a lifetime has no closing quote).
            out.push_str("' '");
            // Past the opening quote and the first character (or escape's backslash and letter).
            i += if next == Some('\\') { 3 } else { 2 };
            while i < chars.len() && chars[i] != '\'' {
                i += 1;
            }
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn is_ident(c: Option<char>) -> bool {
    c.is_some_and(|c| c.is_alphanumeric() || c == '_')
}

/// The identifier at the start of `text`.
fn ident(text: &str) -> &str {
    let end = text.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(text.len());
    &text[..end]
}

/// Every trait declared in `code` with the methods (`fn`) declared directly in its body.
fn traits(code: &str) -> BTreeMap<String, BTreeSet<String>> {
    let mut found = BTreeMap::new();
    let mut rest = code;
    while let Some(at) = rest.find("trait ") {
        let preceded_by_ident = at > 0 && is_ident(rest[..at].chars().last());
        rest = &rest[at + "trait ".len()..];
        if preceded_by_ident {
            continue;
        }
        let name = ident(rest.trim_start()).to_owned();
        let Some(open) = rest.find('{') else { break };
        let body = &rest[open + 1..];
        let mut depth = 1;
        let mut end = body.len();
        let mut methods = BTreeSet::new();
        for (i, c) in body.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth -= 1;
                    if depth == 0 {
                        end = i;
                        break;
                    }
                }
                'f' if depth == 1 && body[i..].starts_with("fn ") && !is_ident(body[..i].chars().last()) => {
                    methods.insert(ident(body[i + 3..].trim_start()).to_owned());
                }
                _ => {}
            }
        }
        found.insert(name, methods);
        rest = &body[end..];
    }
    found
}

/// The names of the traits `Store` is the sum of.
fn store_parts(code: &str) -> Vec<String> {
    let start = code.find("trait Store:").expect("the Store trait") + "trait Store:".len();
    let bounds = &code[start..start + code[start..].find('{').expect("its body")];
    bounds.split('+').map(str::trim).filter(|b| b.ends_with("Store")).map(str::to_owned).collect()
}

/// The `.rs` files of a directory of this workspace.
fn files_in(dir: &str) -> BTreeSet<String> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(dir);
    std::fs::read_dir(&path)
        .unwrap_or_else(|e| panic!("read {}: {e}", path.display()))
        .map(|entry| entry.expect("a directory entry").file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".rs"))
        .collect()
}

#[test]
fn every_store_method_is_called_by_a_test() {
    let listed: BTreeSet<String> = TRAITS.iter().map(|(name, _)| (*name).to_owned()).collect();
    assert_eq!(listed, files_in("../usher-core/src/store"), "list every file of usher-core/src/store in TRAITS");
    let mut suite: BTreeSet<String> = TESTS.iter().map(|(name, _)| (*name).to_owned()).collect();
    suite.extend(NOT_TESTS.iter().map(|name| (*name).to_owned()));
    assert_eq!(suite, files_in("tests/conformance"), "list every test module of the suite in TESTS");

    let mut all = BTreeMap::new();
    for (file, text) in TRAITS {
        for (name, methods) in traits(&code_only(text)) {
            assert!(all.insert(name.clone(), methods).is_none(), "{file}: trait {name} declared twice");
        }
    }
    let root = code_only(TRAITS[0].1);
    let parts = store_parts(&root);
    assert!(parts.len() >= 10, "Store's parts were read: {parts:?}");
    for part in parts.iter().chain([&"Store".to_owned()]) {
        let methods = all.get(part).unwrap_or_else(|| panic!("trait {part} of Store was not found"));
        assert!(!methods.is_empty(), "trait {part} declares no method");
    }

    let tests: String = TESTS.iter().map(|(_, text)| code_only(text)).collect::<Vec<_>>().join("\n");
    let mut untested = Vec::new();
    let mut count = 0;
    for part in parts.iter().chain([&"Store".to_owned()]) {
        for method in &all[part] {
            count += 1;
            if !tests.contains(&format!(".{method}(")) {
                untested.push(format!("{part}::{method}"));
            }
        }
    }
    assert!(count > 100, "the store's methods were read ({count})");
    assert!(untested.is_empty(), "store methods without a test (call them in a test module): {}", untested.join(", "));
}

#[test]
fn the_reader_sees_code_only() {
    let text = concat!(
        "let a = x.seen(1); // y.commented(2)\n/* z.blocked(3) /* nested */ */ let b = \"w.quoted(4)\"; ",
        "let c = r#\"v.raw(\"5\")\"#; let d = '\"'; let e = '\\''; u.after(6) ",
    );
    let code = code_only(text);
    for hidden in [".commented(", ".blocked(", ".quoted(", ".raw("] {
        assert!(!code.contains(hidden), "{hidden} in {code:?}");
    }
    for seen in [".seen(", ".after("] {
        assert!(code.contains(seen), "{seen} missing from {code:?}");
    }
    let found = traits("pub trait A: Send { async fn one(&self); fn two(&self) -> X { fn inner() {} } }\ntrait B { }");
    assert_eq!(found["A"], BTreeSet::from(["one".to_owned(), "two".to_owned()]));
    assert!(found["B"].is_empty());
    assert_eq!(store_parts("pub trait Store:\n    AStore\n    + BStore\n    + Send\n{"), ["AStore", "BStore"]);
}
