//! The users list: the reference search rules, sorting by every column, and
//! cursors that stay stable while users are added.

use std::collections::HashSet;

use reqwest::StatusCode;
use serde_json::{Value, json};
use usher_core::{
    RequestContext,
    import::{Format, ImportOutcome, ImportSummary, NoProgress},
};

use crate::helpers::{Client, TestApp};

/// Imports JSON lines through the service, which must accept them.
pub async fn import(app: &TestApp, lines: &[Value]) -> ImportSummary {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let outcome = app
        .usher
        .import_users(&RequestContext::default(), None, text.as_bytes(), Format::Jsonl, false, &NoProgress)
        .await
        .expect("import runs");
    match outcome {
        ImportOutcome::Done(summary) => summary,
        ImportOutcome::Refused(errors) => panic!("import refused: {errors:?}"),
    }
}

/// Defines the `departments` text field (and others given).
pub async fn define_fields(admin: &mut Client, fields: Value) {
    let res = admin.put("/api/v1/settings/metadata-fields", json!({ "fields": fields })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
}

/// The user IDs of one page, and its next cursor.
async fn page(client: &mut Client, query: &str) -> (Vec<String>, Option<String>) {
    let res = client.get(&format!("/api/v1/users?{query}")).await;
    assert_eq!(res.status, StatusCode::OK, "{query}: {}", res.body);
    let ids = res.body["items"].as_array().unwrap().iter().map(|u| u["user_id"].as_str().unwrap().to_owned()).collect();
    (ids, res.body["next_cursor"].as_str().map(str::to_owned))
}

/// Every user ID the search finds, following cursors `limit` at a time.
async fn all(client: &mut Client, query: &str, limit: u32) -> Vec<String> {
    let mut out = Vec::new();
    let (ids, mut next) = page(client, &format!("{query}&limit={limit}")).await;
    out.extend(ids);
    while let Some(cursor) = next {
        let (ids, n) = page(client, &format!("{query}&limit={limit}&cursor={cursor}")).await;
        assert!(!ids.is_empty(), "a cursor is only given when more follow");
        out.extend(ids);
        next = n;
    }
    out
}

fn q(text: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new()).append_pair("q", text).finish()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

async fn reference_people(app: &TestApp) -> Client {
    let (_, mut admin) = app.admin().await;
    define_fields(
        &mut admin,
        json!([{ "name": "departments", "label": "Department", "type": "text" },
               { "name": "level", "label": "Level", "type": "number" }]),
    )
    .await;
    import(
        app,
        &[
            json!({"user_id": "dsmith", "email": "david.smith@example.org", "first_name": "David", "last_name": "Smith",
                   "metadata": {"departments": "NortheastSales", "level": 3}}),
            json!({"user_id": "adavidson", "email": "ann@example.org", "first_name": "Ann", "last_name": "Davidson",
                   "metadata": {"departments": "WorldwideSales"}}),
            json!({"user_id": "bob", "email": "bob.jones@example.org", "first_name": "Bob", "last_name": "Jones",
                   "phone": "+1 415 555 0123", "metadata": {"departments": "Marketing", "level": 12}}),
            json!({"user_id": "ivan", "email": "ivan@example.ru", "first_name": "Иван", "last_name": "ДАВЫДОВ",
                   "phone": "+7 912 345 67 89"}),
            json!({"user_id": "olga", "first_name": "ольга", "last_name": "Петрова"}),
            json!({"user_id": "maud", "email": "dav@example.org", "first_name": "Maud", "last_name": "Lee"}),
        ],
    )
    .await;
    admin
}

#[tokio::test]
async fn plain_text_matches_names_and_phone_as_substrings_and_ids_exactly() {
    let app = TestApp::spawn().await;
    let mut admin = reference_people(&app).await;
    // The reference example: "Dav" anywhere in the first or last name, any case.
    for text in ["Dav", "dav", "DAV"] {
        let found = all(&mut admin, &q(text), 50).await;
        assert_eq!(sorted(found), ["adavidson", "dsmith"], "{text}");
    }
    // A full name is not searched.
    assert!(all(&mut admin, &q("David Smith"), 50).await.is_empty());
    // Phone: a substring of the stored number.
    assert_eq!(all(&mut admin, &q("5550"), 50).await, ["bob"]);
    assert_eq!(all(&mut admin, &q("+7912"), 50).await, ["ivan"]);
    // User ID and email: exact and case-insensitive, never partial.
    assert_eq!(all(&mut admin, &q("BOB"), 50).await, ["bob"]);
    assert_eq!(all(&mut admin, &q("Bob.Jones@Example.org"), 50).await, ["bob"]);
    assert!(all(&mut admin, &q("bob.jones"), 50).await.is_empty());
    assert!(all(&mut admin, &q("smit"), 50).await == ["dsmith"], "smit is in Smith, not by user ID");
    assert!(all(&mut admin, &q("example.org"), 50).await.is_empty());
    // An exact email and name matches together.
    assert_eq!(sorted(all(&mut admin, &q("dav@example.org"), 50).await), ["maud"]);
    // Unicode case folding: Cyrillic both ways, short needles too.
    assert_eq!(all(&mut admin, &q("давыд"), 50).await, ["ivan"]);
    assert_eq!(all(&mut admin, &q("ИВА"), 50).await, ["ivan"]);
    assert_eq!(all(&mut admin, &q("ОЛЬ"), 50).await, ["olga"]);
    assert_eq!(all(&mut admin, &q("ль"), 50).await, ["olga"]);
    // Short needles (fewer than 3 characters) stay correct.
    assert_eq!(sorted(all(&mut admin, &q("da"), 50).await), ["adavidson", "dsmith"], "Latin, not Cyrillic");
    assert_eq!(sorted(all(&mut admin, &q("S"), 50).await), ["adavidson", "admin", "bob", "dsmith"]);
    // LIKE wildcards are plain characters.
    assert!(all(&mut admin, &q("%"), 50).await.is_empty());
    assert!(all(&mut admin, &q("d_v"), 50).await.is_empty());
}

#[tokio::test]
async fn field_name_colon_text_searches_custom_metadata() {
    let app = TestApp::spawn().await;
    let mut admin = reference_people(&app).await;
    // The reference example: departments:sales finds NortheastSales and WorldwideSales.
    assert_eq!(sorted(all(&mut admin, &q("departments:sales"), 50).await), ["adavidson", "dsmith"]);
    assert_eq!(sorted(all(&mut admin, &q("departments:SALES"), 50).await), ["adavidson", "dsmith"]);
    assert_eq!(all(&mut admin, &q("departments: market"), 50).await, ["bob"]);
    assert_eq!(all(&mut admin, &q("departments:ma"), 50).await, ["bob"], "short text");
    // The field name is exact and case-sensitive, and is the name, not the label.
    assert!(all(&mut admin, &q("Departments:sales"), 50).await.is_empty());
    assert!(all(&mut admin, &q("Department:sales"), 50).await.is_empty());
    assert!(all(&mut admin, &q("department:sales"), 50).await.is_empty());
    // Empty text after the colon returns nothing.
    assert!(all(&mut admin, &q("departments:"), 50).await.is_empty());
    assert!(all(&mut admin, &q("departments:  "), 50).await.is_empty());
    // Numbers are searched as text.
    assert_eq!(sorted(all(&mut admin, &q("level:3"), 50).await), ["dsmith"]);
    assert_eq!(sorted(all(&mut admin, &q("level:1"), 50).await), ["bob"]);
    // Metadata is in user objects, and a search narrows nothing else.
    let res = admin.get(&format!("/api/v1/users?{}", q("departments:northeast"))).await;
    assert_eq!(res.body["items"][0]["metadata"], json!({"departments": "NortheastSales", "level": 3}));
}

/// Users whose every sortable column differs, with the order each sort expects.
#[tokio::test]
async fn every_column_sorts_both_ways_default_last_name() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    import(
        &app,
        &[
            json!({"user_id": "u1", "email": "zed@example.org", "first_name": "carl", "last_name": "Bauer",
                   "phone": "+33612345678", "roles": ["user_manager"]}),
            json!({"user_id": "u2", "email": "amy@example.org", "first_name": "Ana", "last_name": "álvarez",
                   "roles": ["user"]}),
            json!({"user_id": "U3", "first_name": "Émile", "last_name": "zola", "phone": "+14155550100",
                   "roles": ["developer"], "password_hash": bcrypt::hash("x", 4).unwrap()}),
            json!({"user_id": "u0", "email": "bea@example.org", "first_name": "bea", "last_name": "Adams",
                   "roles": ["administrator"]}),
        ],
    )
    .await;
    let cases: &[(&str, &[&str])] = &[
        // Case-insensitive (folded) byte order: "á" sorts after ASCII letters.
        ("last_name", &["u0", "admin", "u1", "U3", "u2"]),
        ("first_name", &["u2", "u0", "u1", "admin", "U3"]),
        ("user_id", &["admin", "u0", "u1", "u2", "U3"]),
        // No email first.
        ("email", &["U3", "admin", "u2", "u0", "u1"]),
        ("phone", &["admin", "u2", "u0", "U3", "u1"]),
        // User, Administrator, Developer, User Manager.
        ("role", &["u2", "admin", "u0", "U3", "u1"]),
        ("status", &["admin", "U3", "u1", "u2", "u0"]),
    ];
    for (sort, expected) in cases {
        let expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
        assert_eq!(all(&mut admin, &format!("sort={sort}"), 2).await, expected, "{sort} asc");
        let mut reversed = expected.clone();
        reversed.reverse();
        assert_eq!(all(&mut admin, &format!("sort={sort}&order=desc"), 2).await, reversed, "{sort} desc");
    }
    let default = all(&mut admin, "", 50).await;
    assert_eq!(default, ["u0", "admin", "u1", "U3", "u2"], "last name ascending by default");
    // created_at: in creation order (the admin first).
    let created = all(&mut admin, "sort=created_at", 1).await;
    assert_eq!(created[0], "admin");
    // last_login_at: never signed in first; the admin signed in.
    let logins = all(&mut admin, "sort=last_login_at&order=desc", 3).await;
    assert_eq!(logins[0], "admin");
    assert_eq!(logins.len(), 5);
}

#[tokio::test]
async fn dense_searches_walk_the_sort_order_and_page_the_same() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    // More matches than the index shortlist (2000): the walk path.
    let mut lines: Vec<Value> = (0..2300)
        .map(|i| {
            json!({"user_id": format!("s{i:04}"), "first_name": format!("Name{}", i % 37),
                   "last_name": format!("Smithson{}", (i * 7919) % 2300)})
        })
        .collect();
    // Found by its exact user ID only, merged into the walk in its place.
    lines.push(json!({"user_id": "Smith", "first_name": "Zed", "last_name": "Aardvark"}));
    import(&app, &lines).await;
    let walk = all(&mut admin, &format!("{}&sort=last_name", q("smith")), 200).await;
    assert_eq!(walk.len(), 2301);
    assert_eq!(walk[0], "Smith");
    assert_eq!(walk.iter().collect::<HashSet<_>>().len(), 2301, "no user twice");
    // The same order as the unfiltered list (everyone but the admin matches).
    let everyone: Vec<String> =
        all(&mut admin, "sort=last_name", 200).await.into_iter().filter(|u| u != "admin").collect();
    assert_eq!(walk, everyone);
    // A sparse search (the shortlist path) pages through cursors the same way.
    let sparse = all(&mut admin, &format!("{}&sort=user_id&order=desc", q("name3")), 7).await;
    let expected: Vec<String> = {
        let mut v: Vec<String> =
            (0..2300).filter(|i| format!("name{}", i % 37).contains("name3")).map(|i| format!("s{i:04}")).collect();
        v.sort();
        v.reverse();
        v
    };
    assert_eq!(sparse, expected);
    // Short needles walk too.
    assert_eq!(all(&mut admin, &format!("{}&sort=user_id", q("e3")), 100).await.len(), expected.len());
}

#[tokio::test]
async fn cursors_are_stable_while_users_are_added() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let lines: Vec<Value> = (0..60)
        .map(
            |i| json!({"user_id": format!("p{i:02}"), "first_name": "P", "last_name": format!("M{:02}", (i * 7) % 60)}),
        )
        .collect();
    import(&app, &lines).await;
    let before: Vec<String> = all(&mut admin, "sort=last_name", 100).await;
    // Page through while other users are inserted before and after the cursor.
    let writer = {
        let usher = app.usher.clone();
        tokio::spawn(async move {
            for i in 0..40 {
                let name = if i % 2 == 0 { format!("A{i:02}") } else { format!("Z{i:02}") };
                let line = json!({"user_id": format!("new{i:02}"), "last_name": name}).to_string();
                let out = usher
                    .import_users(&RequestContext::default(), None, line.as_bytes(), Format::Jsonl, false, &NoProgress)
                    .await
                    .unwrap();
                assert!(matches!(out, ImportOutcome::Done(_)));
                tokio::task::yield_now().await;
            }
        })
    };
    let mut seen = Vec::new();
    let (ids, mut next) = page(&mut admin, "sort=last_name&limit=4").await;
    seen.extend(ids);
    while let Some(cursor) = next {
        let (ids, n) = page(&mut admin, &format!("sort=last_name&limit=4&cursor={cursor}")).await;
        seen.extend(ids);
        next = n;
    }
    writer.await.unwrap();
    let unique: HashSet<&String> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no user twice: {seen:?}");
    for u in &before {
        assert!(unique.contains(u), "{u} was there all along and must be listed");
    }
    // What was listed is in order (new users appear only where the cursor had not passed).
    let after: Vec<String> = all(&mut admin, "sort=last_name", 200).await;
    let positions: Vec<usize> = seen.iter().map(|u| after.iter().position(|a| a == u).unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "in sort order");
}

#[tokio::test]
async fn bad_parameters_are_problems_and_fields_choose_properties() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    import(&app, &[json!({"user_id": "ada", "email": "ada@example.org", "last_name": "Lovelace"})]).await;
    for (query, field) in [
        ("sort=shoe_size", "sort"),
        ("order=up", "order"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
        ("cursor=bm9wZQ", "cursor"),
        ("fields=password_hash", "fields"),
    ] {
        let res = admin.get(&format!("/api/v1/users?{query}")).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{query}: {}", res.body);
        assert_eq!(res.body["errors"][0]["field"], field, "{query}");
    }
    // A cursor belongs to its sort and order.
    let (_, next) = page(&mut admin, "sort=email&limit=1").await;
    let res = admin.get(&format!("/api/v1/users?sort=email&order=desc&cursor={}", next.unwrap())).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = admin.get("/api/v1/users?fields=user_id,email&sort=user_id").await;
    assert_eq!(
        res.body["items"][0],
        json!({"id": res.body["items"][0]["id"], "user_id": "ada", "email": "ada@example.org"})
    );
    // Plain users may not list.
    let (_, mut bob) = app.user("bob").await;
    assert_eq!(bob.get("/api/v1/users").await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn names_changed_anywhere_are_searched_and_sorted_by_their_new_value() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (bob, mut bob_client) = app.user("bob").await;
    let res = bob_client.patch("/api/v1/me", json!({ "first_name": "Zébulon", "last_name": "Ängström" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(all(&mut admin, &q("ZÉBU"), 50).await, ["bob"]);
    assert_eq!(all(&mut admin, &q("ängs"), 50).await, ["bob"]);
    let res = admin.patch(&format!("/api/v1/users/{}", bob.id), json!({ "last_name": "Aaron" })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert!(all(&mut admin, &q("ängs"), 50).await.is_empty());
    assert_eq!(all(&mut admin, "sort=last_name", 50).await, ["bob", "admin"]);
    // Roles changed through the roles API move the user in the role order.
    let res =
        admin.put(&format!("/api/v1/users/{}/roles", bob.id), json!({ "roles": [{ "role": "user_manager" }] })).await;
    assert!(res.status.is_success(), "{}", res.body);
    assert_eq!(all(&mut admin, "sort=role", 50).await, ["admin", "bob"]);
}
