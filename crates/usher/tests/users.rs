//! `usher users import|export` on the real binary: the error report names line
//! and field and imports nothing, a dry run writes nothing, a second import
//! changes nothing, and exports read back.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_usher");

fn usher(dir: &std::path::Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(dir)
        .env("NO_COLOR", "1")
        .env_remove("USHER_DATABASE_URL")
        .output()
        .expect("usher runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn import_reports_dry_runs_is_idempotent_and_exports() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let good = dir.path().join("users.jsonl");
    std::fs::write(
        &good,
        "{\"user_id\":\"ada\",\"email\":\"ada@example.org\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\"roles\":[\"developer\"]}\n\
         {\"user_id\":\"charles\",\"first_name\":\"Charles\",\"last_name\":\"Babbage\",\"groups\":[\"Engines\"]}\n",
    )
    .unwrap();
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "user_id,email,roles\nok,ok@example.org,user\nno one,not-an-email,king\n").unwrap();

    let out = usher(&data, &["users", "import", bad.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("line 3: user_id:"), "{err}");
    assert!(err.contains("line 3: email:"), "{err}");
    assert!(err.contains("line 3: roles: Unknown role \"king\""), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");

    let out = usher(&data, &["users", "import", "--dry-run", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("Dry run, nothing written: would create 2 user(s)"), "{}", text(&out.stdout));
    let out = usher(&data, &["users", "export", "--format", "jsonl"]);
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "", "the dry run wrote nothing");

    let out = usher(&data, &["users", "import", good.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("Imported: created 2 user(s), update 0, leave 0 unchanged"), "{stdout}");
    assert!(stdout.contains("New groups: Engines"), "{stdout}");
    let out = usher(&data, &["users", "import", good.to_str().unwrap()]);
    assert!(text(&out.stdout).contains("created 0 user(s), update 0, leave 2 unchanged"), "{}", text(&out.stdout));

    let csv = dir.path().join("out.csv");
    let out = usher(&data, &["users", "export", "--output", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&csv).unwrap();
    let mut lines = written.lines();
    assert_eq!(lines.next(), Some("user_id,email,first_name,last_name,phone,roles,groups,metadata,password_hash"));
    assert_eq!(lines.next(), Some("ada,ada@example.org,Ada,Lovelace,,developer,,,"));
    assert_eq!(lines.next(), Some("charles,,Charles,Babbage,,user,Engines,,"));
    // The export imports back unchanged.
    let out = usher(&data, &["users", "import", csv.to_str().unwrap()]);
    assert!(text(&out.stdout).contains("leave 2 unchanged"), "{}", text(&out.stdout));
    let out = usher(&data, &["users", "import", "--format", "xml", csv.to_str().unwrap()]);
    assert!(!out.status.success() && text(&out.stderr).contains("unknown format"));
}

#[test]
fn csv_exports_quote_formulas_and_import_back_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let users = dir.path().join("users.jsonl");
    std::fs::write(
        &users,
        "{\"user_id\":\"mallory\",\"first_name\":\"=HYPERLINK(\\\"http://evil.example\\\",\\\"x\\\")\",\"last_name\":\"@SUM(A1)\",\"phone\":\"+33 6 12 34 56 78\",\"groups\":[\"-ops\"]}\n\
         {\"user_id\":\"gerard\",\"first_name\":\"'=1\",\"last_name\":\"'t Hooft\"}\n",
    )
    .unwrap();
    let out = usher(&data, &["users", "import", users.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));

    let csv = dir.path().join("out.csv");
    let out = usher(&data, &["users", "export", "--output", csv.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let written = std::fs::read_to_string(&csv).unwrap();
    let mut lines = written.lines().skip(1);
    assert_eq!(
        lines.next(),
        Some("mallory,,\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\",'@SUM(A1),'+33612345678,user,'-ops,,")
    );
    assert_eq!(lines.next(), Some("gerard,,''=1,'t Hooft,,user,,,"));
    let mut reader = csv::Reader::from_reader(written.as_bytes());
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            assert!(!cell.starts_with(['=', '+', '-', '@', '\t', '\r']), "{cell:?} starts a formula");
        }
    }
    // Importing the export gives the same values back.
    let out = usher(&data, &["users", "import", csv.to_str().unwrap()]);
    assert!(text(&out.stdout).contains("leave 2 unchanged"), "{}{}", text(&out.stdout), text(&out.stderr));
    let out = usher(&data, &["users", "export", "--format", "jsonl"]);
    let users: Vec<serde_json::Value> = text(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(users[0]["first_name"], "=HYPERLINK(\"http://evil.example\",\"x\")");
    assert_eq!(users[0]["last_name"], "@SUM(A1)");
    assert_eq!(users[0]["phone"], "+33612345678");
    assert_eq!(users[0]["groups"], serde_json::json!(["-ops"]));
    assert_eq!(users[1]["first_name"], "'=1");
    assert_eq!(users[1]["last_name"], "'t Hooft");
}
