//! Roles, groups, apps and "My apps", through the REST API, on both engines.

use reqwest::StatusCode;
use serde_json::{Value, json};
use usher_domain::{OrgId, Role, UserId};

use crate::helpers::{Client, Res, TestApp, USER_PASSWORD};

/// A signed-in user with these organization roles.
async fn member(app: &TestApp, user_id: &str, roles: &[Role]) -> (String, Client) {
    let user = app.create_user(user_id, Some(&format!("{user_id}@example.org")), USER_PASSWORD, roles).await;
    (user.id.to_string(), app.signed_in(user_id, USER_PASSWORD).await)
}

fn id(res: &Res) -> String {
    res.body["id"].as_str().unwrap_or_else(|| panic!("no id in {}", res.body)).to_owned()
}

fn roles(res: &Res) -> Vec<String> {
    res.body["roles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| match r["app_id"].as_str() {
            Some(app) => format!("{}@{app}", r["role"].as_str().unwrap()),
            None => r["role"].as_str().unwrap().to_owned(),
        })
        .collect()
}

async fn audit(admin: &mut Client, action: &str) -> Vec<Value> {
    let res = admin.get(&format!("/api/v1/audit-events?action={action}")).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    res.body["items"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn administrators_replace_roles_and_the_change_is_audited() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (bob, _) = member(&app, "bob", &[Role::User]).await;
    let res = admin.get(&format!("/api/v1/users/{bob}/roles")).await;
    assert_eq!((res.status, roles(&res)), (StatusCode::OK, vec!["user".to_owned()]), "{}", res.body);

    let crm = id(&admin.post("/api/v1/apps", json!({ "name": "CRM" })).await);
    let body = json!({ "roles": [
        { "role": "developer" }, { "role": "user_manager" }, { "role": "app_developer", "app_id": crm },
        { "role": "developer" },
    ]});
    let res = admin.put(&format!("/api/v1/users/{bob}/roles"), body).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(roles(&res), ["user_manager", "developer", &format!("app_developer@{crm}")]);
    assert_eq!(res.body["roles"][2]["app_name"], "CRM");
    // The user's own view and the users list agree.
    let me = admin.get(&format!("/api/v1/users/{bob}/roles")).await;
    assert_eq!(roles(&me), roles(&res));

    let events = audit(&mut admin, "role.changed").await;
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["target_id"], bob.as_str());
    assert_eq!(events[0]["details"]["before"], json!([{ "role": "user" }]));
    assert_eq!(events[0]["details"]["after"][2], json!({ "role": "app_developer", "app_id": crm, "app_name": "CRM" }));

    // The same roles again change nothing and write no event.
    let same = admin.put(&format!("/api/v1/users/{bob}/roles"), json!({ "roles": res.body["roles"] })).await;
    assert_eq!(same.status, StatusCode::OK, "{}", same.body);
    assert_eq!(audit(&mut admin, "role.changed").await.len(), 1);
}

#[tokio::test]
async fn bad_role_assignments_are_field_errors() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (bob, _) = member(&app, "bob", &[Role::User]).await;
    let crm = id(&admin.post("/api/v1/apps", json!({ "name": "CRM" })).await);
    let body = json!({ "roles": [
        { "role": "superuser" },
        { "role": "app_owner" },
        { "role": "developer", "app_id": crm },
        { "role": "app_owner", "app_id": uuid::Uuid::now_v7() },
        { "role": "app_owner", "app_id": crm },
    ]});
    let res = admin.put(&format!("/api/v1/users/{bob}/roles"), body).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{}", res.body);
    assert_eq!(res.content_type(), "application/problem+json");
    let fields: Vec<(String, String)> = res.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["field"].as_str().unwrap().to_owned(), e["code"].as_str().unwrap().to_owned()))
        .collect();
    let expected = [
        ("roles[0].role", "unknown_role"),
        ("roles[1].app_id", "required"),
        ("roles[2].app_id", "not_allowed"),
        ("roles[3].app_id", "unknown_app"),
    ];
    assert_eq!(fields, expected.map(|(f, c)| (f.to_owned(), c.to_owned())));
    // Nothing changed.
    assert_eq!(roles(&admin.get(&format!("/api/v1/users/{bob}/roles")).await), ["user"]);
    // Not JSON of the right shape: a problem too; unknown users are not found.
    let res = admin.put(&format!("/api/v1/users/{bob}/roles"), json!({ "roles": "admin" })).await;
    assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY);
    let res = admin.put(&format!("/api/v1/users/{}/roles", uuid::Uuid::now_v7()), json!({ "roles": [] })).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn user_managers_cannot_make_or_change_administrators() {
    let app = TestApp::spawn().await;
    let (admin_user, mut admin) = app.admin().await;
    let (_, mut manager) = member(&app, "mia", &[Role::UserManager]).await;
    let (bob, _) = member(&app, "bob", &[Role::User]).await;
    let admin_id = admin_user.id;

    let res =
        manager.put(&format!("/api/v1/users/{bob}/roles"), json!({ "roles": [{ "role": "administrator" }] })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    let res = manager.put(&format!("/api/v1/users/{admin_id}/roles"), json!({ "roles": [{ "role": "user" }] })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    let res = manager
        .put(
            &format!("/api/v1/users/{admin_id}/roles"),
            json!({ "roles": [{ "role": "administrator" }, { "role": "developer" }] }),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    // They may read an Administrator's roles, and manage everyone else's.
    assert_eq!(roles(&manager.get(&format!("/api/v1/users/{admin_id}/roles")).await), ["administrator"]);
    let res = manager
        .put(
            &format!("/api/v1/users/{bob}/roles"),
            json!({ "roles": [{ "role": "user_manager" }, { "role": "developer" }] }),
        )
        .await;
    assert_eq!((res.status, roles(&res)), (StatusCode::OK, vec!["user_manager".into(), "developer".into()]));
    // An Administrator may.
    let res = admin.put(&format!("/api/v1/users/{bob}/roles"), json!({ "roles": [{ "role": "administrator" }] })).await;
    assert_eq!((res.status, roles(&res)), (StatusCode::OK, vec!["administrator".to_owned()]));
    // Now bob is an Administrator, the manager cannot take it back.
    let res = manager.put(&format!("/api/v1/users/{bob}/roles"), json!({ "roles": [{ "role": "user" }] })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    // Plain users and developers cannot assign anything.
    let (_, mut dev) = member(&app, "dev", &[Role::Developer]).await;
    let res = dev.put(&format!("/api/v1/users/{bob}/roles"), json!({ "roles": [{ "role": "user" }] })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(dev.get(&format!("/api/v1/users/{bob}/roles")).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn administrators_need_an_email_and_one_must_remain() {
    let app = TestApp::spawn().await;
    let (me, mut admin) = app.admin().await;
    let no_email = app.create_user("kiosk", None, USER_PASSWORD, &[Role::User]).await;
    let res = admin
        .put(&format!("/api/v1/users/{}/roles", no_email.id), json!({ "roles": [{ "role": "administrator" }] }))
        .await;
    assert_eq!((res.status, res.error_codes()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["email_required".to_owned()]));

    // The only Administrator cannot step down.
    let res = admin.put(&format!("/api/v1/users/{}/roles", me.id), json!({ "roles": [{ "role": "user" }] })).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert_eq!(res.body["code"], "last_administrator", "{}", res.body);
    assert_eq!(roles(&admin.get(&format!("/api/v1/users/{}/roles", me.id)).await), ["administrator"]);
    // With a second one, they can.
    let (other, _) = member(&app, "ola", &[Role::Administrator]).await;
    let res = admin.put(&format!("/api/v1/users/{}/roles", me.id), json!({ "roles": [{ "role": "user" }] })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    // The caller lost the role at once.
    let res = admin.put(&format!("/api/v1/users/{other}/roles"), json!({ "roles": [] })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn two_administrators_demoting_each_other_at_once_leave_one() {
    let app = TestApp::spawn().await;
    let (a, mut ca) = app.admin().await;
    let (b, mut cb) = member(&app, "bea", &[Role::Administrator]).await;
    let (pa, pb) = (format!("/api/v1/users/{b}/roles"), format!("/api/v1/users/{}/roles", a.id));
    let (ra, rb) = tokio::join!(
        ca.put(&pa, json!({ "roles": [{ "role": "user" }] })),
        cb.put(&pb, json!({ "roles": [{ "role": "user" }] })),
    );
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    // Either one wins and the other finds the winner no longer an
    // Administrator (403) or the last one (409); never both succeed.
    assert_eq!(statuses.iter().filter(|s| **s == StatusCode::OK).count(), 1, "{ra:?} {rb:?}");
    let org = app.usher.organization(None).await.unwrap().unwrap();
    let admins = count_admins(&app, org.id).await;
    assert_eq!(admins, 1);
}

async fn count_admins(app: &TestApp, org: OrgId) -> i64 {
    if app.db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        let sql = "SELECT count(*) FROM user_roles r JOIN users u ON u.id = r.user_id \
                   WHERE r.role = 'administrator' AND u.org_id = $1";
        sqlx::query_scalar(sql).bind(org).fetch_one(&pool).await.unwrap()
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        let sql = "SELECT count(*) FROM user_roles r JOIN users u ON u.id = r.user_id \
                   WHERE r.role = 'administrator' AND u.org_id = ?";
        sqlx::query_scalar(sql).bind(org).fetch_one(&pool).await.unwrap()
    }
}

#[tokio::test]
async fn groups_have_unique_names_and_pages() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (_, mut manager) = member(&app, "mia", &[Role::UserManager]).await;
    let res = manager.post("/api/v1/groups", json!({ "name": "  Sales ", "description": "Field sales" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    assert_eq!((res.body["name"].as_str(), res.body["member_count"].as_u64()), (Some("Sales"), Some(0)));
    let sales = id(&res);
    let res = admin.post("/api/v1/groups", json!({ "name": "SALES" })).await;
    assert_eq!(res.status, StatusCode::CONFLICT, "{}", res.body);
    assert_eq!(res.body["code"], "group_name_taken", "{}", res.body);
    for bad in [json!({ "name": "" }), json!({ "name": "x".repeat(101) }), json!({ "name": "a\u{7}b" })] {
        let res = admin.post("/api/v1/groups", bad.clone()).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", res.body);
        assert_eq!(res.body["errors"][0]["field"], "name");
    }
    assert_eq!(admin.post("/api/v1/groups", json!({ "nom": "x" })).await.status, StatusCode::UNPROCESSABLE_ENTITY);

    // Rename: to a taken name is a conflict, to another case of its own name is fine.
    let ops = id(&admin.post("/api/v1/groups", json!({ "name": "Ops" })).await);
    let res = admin.patch(&format!("/api/v1/groups/{ops}"), json!({ "name": "sales" })).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let res = admin.patch(&format!("/api/v1/groups/{sales}"), json!({ "name": "SALES", "description": "" })).await;
    assert_eq!(
        (res.status, res.body["name"].as_str(), res.body["description"].as_str()),
        (StatusCode::OK, Some("SALES"), Some(""))
    );
    assert_eq!(audit(&mut admin, "group.updated").await.len(), 1);

    for name in ["Alpha", "beta", "Gamma", "delta"] {
        assert_eq!(admin.post("/api/v1/groups", json!({ "name": name })).await.status, StatusCode::CREATED);
    }
    let mut names = Vec::new();
    let mut path = "/api/v1/groups?limit=4".to_owned();
    loop {
        let res = admin.get(&path).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        names.extend(res.body["items"].as_array().unwrap().iter().map(|g| g["name"].as_str().unwrap().to_owned()));
        match res.body["next_cursor"].as_str() {
            Some(c) => path = format!("/api/v1/groups?limit=4&cursor={c}"),
            None => break,
        }
    }
    assert_eq!(names, ["Alpha", "beta", "delta", "Gamma", "Ops", "SALES"]);
    assert_eq!(admin.get("/api/v1/groups?cursor=%%%").await.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(admin.get("/api/v1/groups?cursor=_w").await.status, StatusCode::UNPROCESSABLE_ENTITY);

    let res = admin.send(reqwest::Method::DELETE, &format!("/api/v1/groups/{ops}"), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    assert_eq!(admin.get(&format!("/api/v1/groups/{ops}")).await.status, StatusCode::NOT_FOUND);
    assert_eq!(audit(&mut admin, "group.created").await.len(), 6);
    assert_eq!(audit(&mut admin, "group.deleted").await[0]["details"]["name"], "Ops");
}

#[tokio::test]
async fn creating_the_same_group_twice_at_once_gives_one_conflict() {
    let app = TestApp::spawn().await;
    let (_, mut a) = app.admin().await;
    let mut b = app.signed_in("admin", crate::helpers::ADMIN_PASSWORD).await;
    let (ra, rb) = tokio::join!(
        a.post("/api/v1/groups", json!({ "name": "Finance" })),
        b.post("/api/v1/groups", json!({ "name": "finance" }))
    );
    let mut statuses = [ra.status, rb.status];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::CREATED, StatusCode::CONFLICT], "{ra:?} {rb:?}");
}

#[tokio::test]
async fn group_members_are_replaced_added_and_removed() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (ann, _) = member(&app, "ann", &[Role::User]).await;
    let (bob, _) = member(&app, "bob", &[Role::User]).await;
    let (cid, _) = member(&app, "cid", &[Role::User]).await;
    let g = id(&admin.post("/api/v1/groups", json!({ "name": "Pilots" })).await);
    let path = format!("/api/v1/groups/{g}/members");

    let res = admin.put(&path, json!({ "user_ids": [ann, bob, ann] })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["added"].as_array().unwrap().len(), 2);
    let res = admin.put(&path, json!({ "user_ids": [bob, cid] })).await;
    assert_eq!((res.body["added"].clone(), res.body["removed"].clone()), (json!([cid]), json!([ann])));
    let list = admin.get(&format!("{path}?limit=1")).await;
    assert_eq!(list.body["items"][0]["user_id"], "bob");
    let next = list.body["next_cursor"].as_str().unwrap();
    let list = admin.get(&format!("{path}?limit=1&cursor={next}")).await;
    assert_eq!(list.body["items"][0]["user_id"], "cid");
    assert_eq!(admin.get(&format!("/api/v1/groups/{g}")).await.body["member_count"], 2);

    // Unknown users are field errors and change nothing.
    let stranger = uuid::Uuid::now_v7();
    let res = admin.put(&path, json!({ "user_ids": [ann, stranger] })).await;
    assert_eq!((res.status, res.error_codes()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["unknown_user".to_owned()]));
    assert_eq!(admin.get(&format!("/api/v1/groups/{g}")).await.body["member_count"], 2);

    // One at a time.
    assert_eq!(admin.post(&path, json!({ "user_id": ann })).await.status, StatusCode::NO_CONTENT);
    assert_eq!(admin.post(&path, json!({ "user_id": ann })).await.status, StatusCode::NO_CONTENT);
    let res = admin.send(reqwest::Method::DELETE, &format!("{path}/{bob}"), None).await;
    assert_eq!(res.status, StatusCode::NO_CONTENT);
    let res = admin.send(reqwest::Method::DELETE, &format!("{path}/{bob}"), None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    let list = admin.get(&path).await;
    let ids: Vec<&str> =
        list.body["items"].as_array().unwrap().iter().map(|u| u["user_id"].as_str().unwrap()).collect();
    assert_eq!(ids, ["ann", "cid"]);
    // Each change is audited; the no-op add is not.
    assert_eq!(audit(&mut admin, "group.members_changed").await.len(), 4);
}

#[tokio::test]
async fn developers_create_apps_and_owners_run_them() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (dev_id, mut dev) = member(&app, "dora", &[Role::Developer]).await;
    let (eve, mut eve_c) = member(&app, "eve", &[Role::User]).await;
    let (_, mut manager) = member(&app, "mia", &[Role::UserManager]).await;

    let res = dev.post("/api/v1/apps", json!({ "name": "Expenses", "url": "https://expenses.example.org" })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let exp = id(&res);
    assert_eq!(res.body["owners"][0]["id"], dev_id.as_str());
    assert_eq!(eve_c.post("/api/v1/apps", json!({ "name": "Mine" })).await.status, StatusCode::FORBIDDEN);
    assert_eq!(manager.post("/api/v1/apps", json!({ "name": "Mine" })).await.status, StatusCode::FORBIDDEN);
    // A Developer cannot name other owners.
    let res = dev.post("/api/v1/apps", json!({ "name": "Other", "owners": [eve] })).await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    let res = admin.post("/api/v1/apps", json!({ "name": "expenses" })).await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    let res = admin.post("/api/v1/apps", json!({ "name": "Wiki", "url": "javascript:alert(1)" })).await;
    assert_eq!((res.status, res.error_codes()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["invalid".to_owned()]));

    // The owner edits the app, chooses its developers and groups, not its owners.
    let path = format!("/api/v1/apps/{exp}");
    let res = dev.patch(&path, json!({ "description": "Claims", "url": null, "developers": [eve] })).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!((res.body["description"].as_str(), res.body["url"].clone()), (Some("Claims"), Value::Null));
    assert_eq!(res.body["developers"][0]["user_id"], "eve");
    assert_eq!(dev.patch(&path, json!({ "owners": [eve] })).await.status, StatusCode::FORBIDDEN);
    let g = id(&admin.post("/api/v1/groups", json!({ "name": "Staff" })).await);
    let res = dev.put(&format!("{path}/groups"), json!({ "group_ids": [g] })).await;
    assert_eq!((res.status, res.body["items"][0]["name"].as_str()), (StatusCode::OK, Some("Staff")));
    let res = dev.put(&format!("{path}/groups"), json!({ "group_ids": [uuid::Uuid::now_v7()] })).await;
    assert_eq!((res.status, res.error_codes()), (StatusCode::UNPROCESSABLE_ENTITY, vec!["unknown_group".to_owned()]));
    // The app developer reads it but cannot change it.
    assert_eq!(eve_c.get(&path).await.status, StatusCode::OK);
    assert_eq!(eve_c.patch(&path, json!({ "name": "Mine" })).await.status, StatusCode::FORBIDDEN);
    assert_eq!(eve_c.get(&format!("{path}/groups")).await.status, StatusCode::OK);
    // A User Manager sets owners and developers, not the app itself.
    let res = manager.patch(&path, json!({ "owners": [dev_id, eve] })).await;
    assert_eq!((res.status, res.body["owners"].as_array().map(Vec::len)), (StatusCode::OK, Some(2)), "{}", res.body);
    assert_eq!(manager.patch(&path, json!({ "name": "X" })).await.status, StatusCode::FORBIDDEN);
    assert_eq!(manager.put(&format!("{path}/groups"), json!({ "group_ids": [] })).await.status, StatusCode::FORBIDDEN);
    // Only Administrators delete.
    assert_eq!(dev.send(reqwest::Method::DELETE, &path, None).await.status, StatusCode::FORBIDDEN);
    assert_eq!(admin.send(reqwest::Method::DELETE, &path, None).await.status, StatusCode::NO_CONTENT);
    assert_eq!(admin.get(&path).await.status, StatusCode::NOT_FOUND);

    for action in ["app.created", "app.updated", "app.people_changed", "app.groups_changed", "app.deleted"] {
        assert!(!audit(&mut admin, action).await.is_empty(), "{action}");
    }
}

#[tokio::test]
async fn my_apps_are_those_of_my_groups_and_roles() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (ann, mut ann_c) = member(&app, "ann", &[Role::User]).await;
    let (_, mut bob_c) = member(&app, "bob", &[Role::User]).await;
    let g = id(&admin.post("/api/v1/groups", json!({ "name": "Field" })).await);
    admin.put(&format!("/api/v1/groups/{g}/members"), json!({ "user_ids": [ann] })).await;
    let crm = id(&admin.post("/api/v1/apps", json!({ "name": "CRM", "owners": [] })).await);
    let _hidden = id(&admin.post("/api/v1/apps", json!({ "name": "Payroll", "owners": [] })).await);
    let build = id(&admin.post("/api/v1/apps", json!({ "name": "Build", "owners": [ann] })).await);
    admin.put(&format!("/api/v1/apps/{crm}/groups"), json!({ "group_ids": [g] })).await;
    admin.patch(&format!("/api/v1/apps/{build}"), json!({ "groups": [g] })).await;

    let res = ann_c.get("/api/v1/me/apps").await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let items = res.body["items"].as_array().unwrap();
    let seen: Vec<(&str, Value)> = items.iter().map(|a| (a["name"].as_str().unwrap(), a["access"].clone())).collect();
    assert_eq!(seen, [("Build", json!(["group", "owner"])), ("CRM", json!(["group"]))]);
    assert_eq!(bob_c.get("/api/v1/me/apps").await.body["items"], json!([]));
    // Plain users cannot list every app, nor read one they have nothing to do with.
    assert_eq!(bob_c.get("/api/v1/apps").await.status, StatusCode::FORBIDDEN);
    assert_eq!(bob_c.get(&format!("/api/v1/apps/{crm}")).await.status, StatusCode::FORBIDDEN);
    // Leaving the group takes the app away.
    admin.send(reqwest::Method::DELETE, &format!("/api/v1/groups/{g}/members/{ann}"), None).await;
    let res = ann_c.get("/api/v1/me/apps").await;
    assert_eq!(res.body["items"][0]["name"], "Build");
    assert_eq!(res.body["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn deleting_a_user_keeps_the_apps_and_drops_memberships_and_roles() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (ann, _) = member(&app, "ann", &[Role::User]).await;
    let g = id(&admin.post("/api/v1/groups", json!({ "name": "Field" })).await);
    admin.put(&format!("/api/v1/groups/{g}/members"), json!({ "user_ids": [ann] })).await;
    let crm = id(&admin.post("/api/v1/apps", json!({ "name": "CRM", "owners": [ann] })).await);
    let ann_id: uuid::Uuid = ann.parse().unwrap();
    // Removing the row is what deleting a user does to these tables.
    if app.db_url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(&app.db_url).await.unwrap();
        sqlx::query("DELETE FROM users WHERE id = $1").bind(ann_id).execute(&pool).await.unwrap();
    } else {
        let pool = sqlx::SqlitePool::connect(&app.db_url).await.unwrap();
        sqlx::query("DELETE FROM users WHERE id = ?").bind(ann_id).execute(&pool).await.unwrap();
    }
    let res = admin.get(&format!("/api/v1/apps/{crm}")).await;
    assert_eq!((res.status, res.body["owners"].clone()), (StatusCode::OK, json!([])));
    assert_eq!(admin.get(&format!("/api/v1/groups/{g}")).await.body["member_count"], 0);
}

#[tokio::test]
async fn tokens_need_users_scopes_and_never_exceed_their_owner() {
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (_, mut user) = member(&app, "ann", &[Role::User]).await;
    let read = token(&mut admin, json!(["users:read"])).await;
    let profile = token(&mut admin, json!(["profile:read"])).await;
    let write = token(&mut user, json!(["write"])).await;
    let call = |method: reqwest::Method, path: &str, token: &str, body: Option<Value>| {
        let mut req = reqwest::Client::new().request(method, format!("{}{path}", app.base)).bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        async move { req.send().await.unwrap().status() }
    };
    assert_eq!(call(reqwest::Method::GET, "/api/v1/groups", &read, None).await, StatusCode::OK);
    assert_eq!(
        call(reqwest::Method::POST, "/api/v1/groups", &read, Some(json!({ "name": "x" }))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(call(reqwest::Method::GET, "/api/v1/groups", &profile, None).await, StatusCode::FORBIDDEN);
    assert_eq!(call(reqwest::Method::GET, "/api/v1/me/apps", &profile, None).await, StatusCode::OK);
    assert_eq!(call(reqwest::Method::GET, "/api/v1/me/apps", &read, None).await, StatusCode::FORBIDDEN);
    // A plain user's `write` token is still a plain user's.
    assert_eq!(
        call(reqwest::Method::POST, "/api/v1/groups", &write, Some(json!({ "name": "x" }))).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(call(reqwest::Method::GET, "/api/v1/me/apps", &write, None).await, StatusCode::OK);
}

async fn token(c: &mut Client, scopes: Value) -> String {
    let res = c.post("/api/v1/me/tokens", json!({ "description": "t", "scopes": scopes })).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    res.body["token"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn the_store_names_the_apps_a_user_owns_alone() {
    use usher_core::store::AccessStore;
    let app = TestApp::spawn().await;
    let (_, mut admin) = app.admin().await;
    let (ann, _) = member(&app, "ann", &[Role::User]).await;
    let (bob, _) = member(&app, "bob", &[Role::User]).await;
    let alone = id(&admin.post("/api/v1/apps", json!({ "name": "Zeta", "owners": [ann] })).await);
    let also_alone = id(&admin.post("/api/v1/apps", json!({ "name": "alpha", "owners": [ann] })).await);
    admin.post("/api/v1/apps", json!({ "name": "Shared", "owners": [ann, bob] })).await;
    let dev_only = id(&admin.post("/api/v1/apps", json!({ "name": "Beta", "owners": [bob] })).await);
    admin.patch(&format!("/api/v1/apps/{dev_only}"), json!({ "developers": [ann] })).await;
    let ann: UserId = ann.parse().unwrap();
    let found = if app.db_url.starts_with("postgres") {
        usher_store::postgres::PostgresStore::connect(&app.db_url).await.unwrap().apps_solely_owned_by(ann).await
    } else {
        usher_store::sqlite::SqliteStore::connect(&app.db_url).await.unwrap().apps_solely_owned_by(ann).await
    };
    let found: Vec<(String, String)> = found.unwrap().into_iter().map(|(id, name)| (id.to_string(), name)).collect();
    assert_eq!(found, [(also_alone, "alpha".to_owned()), (alone, "Zeta".to_owned())]);
}
