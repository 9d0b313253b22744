//! Bulk import and export through the service the `usher users` command uses:
//! all or nothing with line and field errors, dry runs, idempotency, pre-hashed
//! passwords that sign in and are upgraded, and exports that import back.

use reqwest::StatusCode;
use serde_json::{Value, json};
use usher_core::{
    RequestContext,
    import::{Format, ImportOutcome, ImportSummary, NoProgress},
};

use crate::{
    directory::{define_fields, import},
    helpers::TestApp,
};

/// The PBKDF2-SHA256 test vector of the pbkdf2 crate (password below).
const PBKDF2_HASH: &str = "$pbkdf2-sha256$i=4096,l=40$c2FsdFNBTFRzYWx0U0FMVHNhbHRTQUxUc2FsdFNBTFRzYWx0\
                           $NIyJ28vTKy8y2BS4EW6EzysXNH68GAAYHE4qH7jdU+HGNVGMfaxH6Q";
const PBKDF2_PASSWORD: &str = "passwordPASSWORDpassword";

async fn run(app: &TestApp, text: &str, format: Format, dry_run: bool) -> ImportOutcome {
    app.usher
        .import_users(&RequestContext::default(), None, text.as_bytes(), format, dry_run, &NoProgress)
        .await
        .expect("import runs")
}

async fn export(app: &TestApp, format: Format) -> String {
    let mut out = Vec::new();
    app.usher.export_users(None, format, true, &mut out, &NoProgress).await.expect("export runs");
    String::from_utf8(out).unwrap()
}

fn done(outcome: ImportOutcome) -> ImportSummary {
    match outcome {
        ImportOutcome::Done(s) => s,
        ImportOutcome::Refused(e) => panic!("refused: {e:?}"),
    }
}

async fn user_ids(app: &TestApp) -> Vec<String> {
    export(app, Format::Jsonl)
        .await
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).unwrap()["user_id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_bad_line_is_reported_by_line_and_field_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    define_fields(&mut admin, json!([{ "name": "level", "label": "Level", "type": "number", "required": true }])).await;
    let text = "user_id,email,first_name,roles,metadata,password_hash\n\
                ok1,ok1@example.org,Ok,user,\"{\"\"level\"\": 1}\",\n\
                bad one,nope,Bad,king,\"{\"\"level\"\": \"\"high\"\"}\",md5$x\n\
                ok2,admin@example.org,Ok,,\"{\"\"level\"\": 2}\",\n\
                ok3,,Ok,administrator,,\n";
    let ImportOutcome::Refused(errors) = run(&app, text, Format::Csv, false).await else { panic!("must refuse") };
    let got: Vec<(u64, &str)> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
    assert_eq!(
        got,
        [
            (3, "user_id"),
            (3, "email"),
            (3, "roles"),
            (3, "password_hash"),
            (4, "email"),
            (5, "email"),
            (5, "metadata.level"),
        ],
        "{errors:?}"
    );
    assert!(errors[4].message.contains("already used"), "{}", errors[4].message);
    assert_eq!(user_ids(&app).await, ["admin"], "nothing was imported");
}

#[tokio::test]
async fn a_dry_run_reports_without_writing_and_a_second_import_changes_nothing() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let lines = "{\"user_id\":\"ada\",\"email\":\"ada@example.org\",\"first_name\":\"Ada\",\"last_name\":\"Lovelace\",\
                 \"roles\":[\"developer\",\"user\"],\"groups\":[\"Engines\",\"Math\"]}\n\
                 {\"user_id\":\"charles\",\"first_name\":\"Charles\",\"last_name\":\"Babbage\",\"groups\":\"Engines\"}\n";
    let dry = done(run(&app, lines, Format::Jsonl, true).await);
    assert_eq!((dry.created, dry.updated, dry.unchanged, dry.dry_run), (2, 0, 0, true));
    assert_eq!(dry.groups_created, ["Engines", "Math"]);
    assert_eq!(user_ids(&app).await, ["admin"], "a dry run writes nothing");

    let first = done(run(&app, lines, Format::Jsonl, false).await);
    assert_eq!((first.created, first.updated, first.unchanged), (2, 0, 0));
    let snapshot = export(&app, Format::Jsonl).await;
    let res = admin.get("/api/v1/users?q=ada&fields=user_id,roles,updated_at").await;
    let updated_at = res.body["items"][0]["updated_at"].clone();
    assert_eq!(res.body["items"][0]["roles"], json!(["developer", "user"]));

    let again = done(run(&app, lines, Format::Jsonl, false).await);
    assert_eq!((again.created, again.updated, again.unchanged), (0, 0, 2));
    assert!(again.groups_created.is_empty());
    assert_eq!(export(&app, Format::Jsonl).await, snapshot, "importing twice changes nothing");
    let res = admin.get("/api/v1/users?q=ada&fields=updated_at").await;
    assert_eq!(res.body["items"][0]["updated_at"], updated_at);

    // Groups and their members are real groups.
    let groups = admin.get("/api/v1/groups").await;
    let engines = groups.body["items"].as_array().unwrap().iter().find(|g| g["name"] == "Engines").unwrap().clone();
    let members = admin.get(&format!("/api/v1/groups/{}/members", engines["id"].as_str().unwrap())).await;
    assert_eq!(members.body["items"].as_array().unwrap().len(), 2, "{}", members.body);

    // A changed line updates that user only; empty cells keep what is known.
    let changed = "{\"user_id\":\"ADA\",\"last_name\":\"King\",\"groups\":[\"Math\"]}\n\
                   {\"user_id\":\"charles\",\"first_name\":\"Charles\"}\n";
    let s = done(run(&app, changed, Format::Jsonl, false).await);
    assert_eq!((s.created, s.updated, s.unchanged), (0, 1, 1));
    let res = admin.get("/api/v1/users?q=king").await;
    let ada = &res.body["items"][0];
    assert_eq!((ada["user_id"].as_str(), ada["email"].as_str()), (Some("ADA"), Some("ada@example.org")));
    let members = admin.get(&format!("/api/v1/groups/{}/members", engines["id"].as_str().unwrap())).await;
    assert_eq!(members.body["items"].as_array().unwrap().len(), 1);
    // The import is in the audit log, once per import that wrote.
    let audit = admin.get("/api/v1/audit-events?action=users.imported").await;
    assert_eq!(audit.body["items"].as_array().unwrap().len(), 2, "{}", audit.body);
}

#[tokio::test]
async fn pre_hashed_passwords_sign_in_and_are_upgraded_to_argon2id() {
    let app = TestApp::spawn().await;
    let bcrypt = bcrypt::hash("Bcrypt-Password-1", 4).unwrap();
    let argon2 = "$argon2id$v=19$m=8192,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$Hx1m8YyQ7F3IgXJ2ybHhhqzwo8VHqrZGfs8Sz4d2Gmo";
    import(
        &app,
        &[
            json!({"user_id": "bee", "password_hash": bcrypt}),
            json!({"user_id": "pat", "password_hash": PBKDF2_HASH}),
            json!({"user_id": "nobody"}),
        ],
    )
    .await;
    for (login, password) in [("bee", "Bcrypt-Password-1"), ("pat", PBKDF2_PASSWORD)] {
        let mut c = app.client();
        let wrong = c.post("/api/v1/auth/login", json!({ "login": login, "password": "wrong password" })).await;
        assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
        let res = c.post("/api/v1/auth/login", json!({ "login": login, "password": password })).await;
        assert_eq!(res.status, StatusCode::OK, "{login}: {}", res.body);
    }
    // Without a password, an imported user is invited and cannot sign in.
    let mut c = app.client();
    let res = c.post("/api/v1/auth/login", json!({ "login": "nobody", "password": "" })).await;
    assert_ne!(res.status, StatusCode::OK);
    let exported = export(&app, Format::Jsonl).await;
    for line in exported.lines() {
        let u: Value = serde_json::from_str(line).unwrap();
        match u["user_id"].as_str().unwrap() {
            "bee" | "pat" => {
                let hash = u["password_hash"].as_str().unwrap();
                assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "upgraded: {hash}");
            }
            "nobody" => assert_eq!(u["password_hash"], Value::Null),
            _ => {}
        }
    }
    // The upgraded hash still signs in.
    let mut c = app.client();
    let res = c.post("/api/v1/auth/login", json!({ "login": "bee", "password": "Bcrypt-Password-1" })).await;
    assert_eq!(res.status, StatusCode::OK);
    // An argon2id hash of other costs is accepted as it is.
    let line = json!({"user_id": "argo", "password_hash": argon2}).to_string();
    assert!(matches!(run(&app, &line, Format::Jsonl, true).await, ImportOutcome::Done(_)));
}

#[tokio::test]
async fn exports_in_both_formats_import_back_identically() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    define_fields(
        &mut admin,
        json!([{ "name": "departments", "label": "Department", "type": "text" },
               { "name": "remote", "label": "Remote", "type": "boolean" },
               { "name": "tier", "label": "Tier", "type": "choice", "options": ["Gold", "Silver"] }]),
    )
    .await;
    import(
        &app,
        &[
            json!({"user_id": "ada", "email": "ada@example.org", "first_name": "Ada", "last_name": "Lovelace, Countess",
                   "phone": "+33 6 12 34 56 78", "roles": ["user_manager"], "groups": ["R;D", "Math"],
                   "metadata": {"departments": "NortheastSales", "remote": "yes", "tier": "Gold"},
                   "password_hash": bcrypt::hash("x", 4).unwrap()}),
            json!({"user_id": "иван", "first_name": "Иван", "last_name": "Петров \"Ваня\""}),
        ],
    )
    .await;
    let jsonl = export(&app, Format::Jsonl).await;
    let csv = export(&app, Format::Csv).await;
    assert!(csv.starts_with("user_id,email,first_name,last_name,phone,roles,groups,metadata,password_hash\n"));
    for (format, text) in [(Format::Jsonl, &jsonl), (Format::Csv, &csv)] {
        let other = TestApp::spawn().await;
        let (_, mut admin2) = other.admin().await;
        define_fields(
            &mut admin2,
            json!([{ "name": "departments", "label": "Department", "type": "text" },
                   { "name": "remote", "label": "Remote", "type": "boolean" },
                   { "name": "tier", "label": "Tier", "type": "choice", "options": ["Gold", "Silver"] }]),
        )
        .await;
        // The admin exists on both sides: it is matched, not duplicated.
        let s = done(run(&other, text, format, false).await);
        assert_eq!(s.created, 2, "{format:?}");
        let round: Vec<Value> =
            export(&other, Format::Jsonl).await.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let original: Vec<Value> = jsonl.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        let strip = |v: &Vec<Value>| -> Vec<Value> {
            let mut out: Vec<Value> = v.iter().filter(|u| u["user_id"] != "admin").cloned().collect();
            out.sort_by_key(|u| u["user_id"].as_str().unwrap().to_owned());
            out
        };
        assert_eq!(strip(&round), strip(&original), "{format:?}");
        let res = admin2.get("/api/v1/users?q=departments:sales").await;
        assert_eq!(
            res.body["items"][0]["metadata"],
            json!({"departments": "NortheastSales", "remote": true, "tier": "Gold"})
        );
    }
}

/// Every index and constraint of the database, as its catalog prints them.
async fn schema(app: &TestApp) -> Vec<String> {
    if app.db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() \
             UNION ALL SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) \
             FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1",
        )
        .fetch_all(&pool)
        .await
        .unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        sqlx::query_scalar("SELECT type || ' ' || name || ' ' || COALESCE(sql, '') FROM sqlite_master ORDER BY 1")
            .fetch_all(&pool)
            .await
            .unwrap()
    }
}

/// A first load big enough for PostgreSQL to build its indexes after the rows
/// (see the store's `bulk` module) ends with every index and constraint as
/// before, and the directory searches, sorts and pages as usual.
#[tokio::test]
async fn a_big_first_load_keeps_every_index_and_constraint() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    define_fields(&mut admin, json!([{ "name": "departments", "label": "Departments", "type": "text" }])).await;
    let before = schema(&app).await;
    let lines: Vec<Value> = (0..12_000)
        .map(|i| {
            json!({
                "user_id": format!("bulk{i:05}"),
                "email": format!("bulk{i:05}@example.org"),
                "first_name": format!("First{i}"),
                "last_name": format!("Zulu{:05}", 12_000 - i),
                "roles": if i % 100 == 0 { "user_manager" } else { "user" },
                "groups": format!("Team {}", i % 7),
                "metadata": { "departments": if i == 4242 { "NortheastSales" } else { "Engineering" } },
            })
        })
        .collect();
    let summary = import(&app, &lines).await;
    assert_eq!(summary.created, 12_000);
    assert_eq!(schema(&app).await, before, "indexes and constraints are all back");

    let found = admin.get("/api/v1/users?q=departments:eastsal").await.body;
    assert_eq!(found["items"].as_array().unwrap().len(), 1, "{found}");
    assert_eq!(found["items"][0]["user_id"], "bulk04242");
    let found = admin.get("/api/v1/users?q=BULK11999").await.body;
    assert_eq!(found["items"][0]["last_name"], "Zulu00001");
    let page = admin.get("/api/v1/users?sort=last_name&order=desc&limit=2").await.body;
    let names: Vec<&str> = page["items"].as_array().unwrap().iter().map(|u| u["last_name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Zulu12000", "Zulu11999"]);
    let deep = admin.get("/api/v1/users?sort=role&order=desc&limit=5").await.body;
    assert_eq!(deep["items"][0]["roles"], json!(["user_manager"]), "{deep}");
    let group = admin.get("/api/v1/groups").await.body;
    assert!(group.to_string().contains("Team 6"), "{group}");
    // The constraints hold again: a second user with a taken email is refused.
    let res = admin
        .post(
            "/api/v1/users",
            json!({ "user_id": "again", "email": "BULK00007@example.org", "first_name": "A", "last_name": "B" }),
        )
        .await;
    assert_eq!((res.status, res.body["code"].as_str()), (StatusCode::CONFLICT, Some("email_taken")), "{}", res.body);
}
