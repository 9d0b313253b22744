//! Bulk import and export of users.

use std::sync::{Arc, Mutex};

use serde_json::json;
use usher_core::{
    Store,
    conflict::constraint,
    directory::{Filter, Seek, SortColumn},
    import::{ImportPlan, ImportedUser, NewGroup},
    metadata::{Metadata, search_entries},
    store::{NewUser, Profile, StoreError, UserStatus},
};
use usher_domain::{GroupId, OrgId, Role, UserId, fold, identifier_key};

use crate::support::*;

/// A user line of an import, as the core plans it: every set to be written.
fn imported(user_id: &str, last_name: &str, values: serde_json::Value, password: Option<&str>) -> ImportedUser {
    let metadata: Metadata = values.as_object().expect("an object").clone();
    let email = format!("{user_id}@example.org");
    ImportedUser {
        id: UserId::generate(),
        user_id: user_id.to_owned(),
        user_id_key: identifier_key(user_id),
        email_key: Some(identifier_key(&email)),
        email: Some(email),
        first_name: Some(format!("First {user_id}")),
        first_name_key: fold(&format!("First {user_id}")),
        last_name: Some(last_name.to_owned()),
        last_name_key: fold(last_name),
        phone: None,
        status: if password.is_some() { UserStatus::Active } else { UserStatus::Invited },
        roles: vec![Role::User],
        groups: vec![],
        metadata_entries: search_entries(&metadata),
        metadata,
        password_hash: password.map(str::to_owned),
        roles_changed: true,
        groups_changed: true,
        metadata_changed: true,
    }
}

fn new_group(name: &str) -> NewGroup {
    NewGroup { id: GroupId::generate(), name: name.to_owned(), name_key: fold(name) }
}

fn plan(
    org_id: OrgId,
    new_groups: Vec<NewGroup>,
    inserts: Vec<ImportedUser>,
    updates: Vec<ImportedUser>,
) -> ImportPlan {
    ImportPlan { org_id, at: now(), new_groups, inserts, updates }
}

conformance!(imports_write_users_with_their_sets, imports_are_all_or_nothing, exports_walk_users_in_id_order,);

/// An import writes new groups, new users and updates with their roles,
/// groups, metadata (searchable) and passwords, reporting progress; the
/// look-up then finds what the file names.
async fn imports_write_users_with_their_sets(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let staff = insert_group(s, org.id, "Staff").await;
    let old = user(s, org.id, "old").await;
    let old_values: Metadata = json!({"department": "Accounts"}).as_object().unwrap().clone();
    s.set_user_metadata(org.id, old.id, None, &old_values, &search_entries(&old_values), old.updated_at).await.unwrap();
    s.add_group_member(staff.id, old.id, now()).await.unwrap();

    let engineering = new_group("Engineering");
    let ivy = ImportedUser {
        phone: Some("+1 202 555 0100".into()),
        roles: vec![Role::Developer, Role::User],
        groups: vec![engineering.id, staff.id],
        ..imported("ivy", "Ivanova", json!({"department": "R&D", "badge": 7}), Some("hash-ivy"))
    };
    let jay = ImportedUser { roles: vec![], email: None, email_key: None, ..imported("jay", "Jones", json!({}), None) };
    let update = ImportedUser {
        id: old.id,
        status: UserStatus::Disabled,
        roles: vec![Role::UserManager],
        groups: vec![],
        metadata_changed: false,
        ..imported("old", "Renamed", json!({"department": "Accounts"}), None)
    };
    let plan = plan(org.id, vec![engineering.clone()], vec![ivy.clone(), jay.clone()], vec![update]);
    let seen = Mutex::new(Vec::new());
    s.apply_import(&plan, &|done| seen.lock().unwrap().push(done)).await.unwrap();
    let seen = seen.into_inner().unwrap();
    assert_eq!(seen.last(), Some(&3), "progress reaches every user written");
    assert!(seen.windows(2).all(|w| w[0] <= w[1]), "progress only grows: {seen:?}");

    let at = plan.at;
    let got = reload(s, ivy.id).await;
    let profile = Profile {
        first_name: ivy.first_name.clone(),
        last_name: ivy.last_name.clone(),
        phone: ivy.phone.clone(),
        ..Profile::default()
    };
    assert_eq!((got.user_id.as_str(), got.email.as_deref(), &got.profile), ("ivy", Some("ivy@example.org"), &profile));
    assert_eq!(
        (got.status, sorted(got.roles.clone()), &got.metadata),
        (UserStatus::Active, vec![Role::Developer, Role::User], &ivy.metadata)
    );
    assert_eq!((got.created_at, got.updated_at, got.password_changed_at), (at, at, Some(at)));
    assert_eq!(s.password_hash(ivy.id).await.unwrap().as_deref(), Some("hash-ivy"));
    let names: Vec<String> = s.groups_of(ivy.id).await.unwrap().into_iter().map(|g| g.name).collect();
    assert_eq!(names, ["Engineering", "Staff"]);
    let got = reload(s, jay.id).await;
    assert_eq!((got.status, got.roles.len(), got.email, got.password_changed_at), (UserStatus::Invited, 0, None, None));

    let got = reload(s, old.id).await;
    assert_eq!(
        (got.profile.last_name.as_deref(), got.status, got.roles.clone()),
        (Some("Renamed"), UserStatus::Disabled, vec![Role::UserManager])
    );
    assert_eq!(
        (&got.metadata, got.updated_at, got.password_changed_at),
        (&old_values, at, old.password_changed_at),
        "unchanged sets and password stay"
    );
    assert_eq!(s.password_hash(old.id).await.unwrap().as_deref(), Some("hash-old"));
    assert!(s.groups_of(old.id).await.unwrap().is_empty());

    let rd = Filter::Metadata { field: "department".into(), needle: "r&d".into() };
    let seek =
        Seek { org_id: org.id, filter: &rd, sort: SortColumn::UserId, descending: false, after: None, limit: 10 };
    assert_eq!(
        user_ids(&s.users_sorted(&seek).await.unwrap().into_iter().map(|(u, _)| u).collect::<Vec<_>>()),
        ["ivy"]
    );
    let renamed = Filter::Text { needle: "renamed".into() };
    let seek = Seek { filter: &renamed, ..seek };
    assert_eq!(s.users_sorted(&seek).await.unwrap().len(), 1, "updated names are searchable");

    let keys = ["ivy".to_owned(), "old".to_owned(), "nobody".to_owned()];
    let emails = ["ivy@example.org".to_owned(), "nobody@example.org".to_owned()];
    let existing = s.import_lookup(org.id, &keys, &emails).await.unwrap();
    let mut users = existing.users.clone();
    users.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    assert_eq!(users.iter().map(|u| u.user_id.as_str()).collect::<Vec<_>>(), ["ivy", "old"]);
    let found = &users[0];
    assert_eq!(
        (found.id, found.user_id_key.as_str(), found.email.as_deref(), found.phone.as_deref()),
        (ivy.id, "ivy", Some("ivy@example.org"), ivy.phone.as_deref())
    );
    assert_eq!(
        (found.first_name.as_ref(), found.last_name.as_ref(), found.status),
        (ivy.first_name.as_ref(), ivy.last_name.as_ref(), UserStatus::Active)
    );
    assert_eq!(
        (sorted(found.roles.clone()), sorted(found.groups.clone())),
        (vec![Role::Developer, Role::User], sorted(vec![engineering.id, staff.id]))
    );
    assert_eq!((&found.metadata, found.password_hash.as_deref()), (&ivy.metadata, Some("hash-ivy")));
    assert_eq!((users[1].password_hash.as_deref(), users[1].groups.len()), (Some("hash-old"), 0));
    assert_eq!(existing.email_owners, [("ivy@example.org".to_owned(), "ivy".to_owned())]);
    let mut groups = existing.groups.clone();
    groups.sort();
    assert_eq!(groups, [("engineering".to_owned(), engineering.id), ("staff".to_owned(), staff.id)]);
}

/// An import that breaks a uniqueness rule writes nothing at all.
async fn imports_are_all_or_nothing(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    user(s, org.id, "taken").await;
    let fresh = imported("fresh", "Fresh", json!({}), Some("hash-fresh"));
    let clash = ImportedUser { email: None, email_key: None, ..imported("TAKEN", "Clash", json!({}), None) };
    let plan = plan(org.id, vec![new_group("New")], vec![fresh.clone(), clash], vec![]);
    let refused = s.apply_import(&plan, &|_| {}).await;
    assert!(
        matches!(&refused, Err(StoreError::Conflict { constraint }) if constraint == constraint::USER_ID),
        "{refused:?}"
    );
    assert!(s.user(fresh.id).await.unwrap().is_none(), "no user of the file is written");
    assert!(s.groups_page(org.id, None, 10).await.unwrap().is_empty(), "nor its groups");
    assert_eq!(user_ids(&s.users_page(org.id, None, 10).await.unwrap()), ["taken"]);
    let empty = s.import_lookup(org.id, &["fresh".to_owned()], &["fresh@example.org".to_owned()]).await.unwrap();
    assert!(empty.users.is_empty() && empty.email_owners.is_empty() && empty.groups.is_empty());
}

/// Users are exported in id order from a cursor, with group names and
/// password hashes, one organization at a time.
async fn exports_walk_users_in_id_order(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let (b, a) = (insert_group(s, org.id, "Beta").await, insert_group(s, org.id, "Alpha").await);
    let mut made = Vec::new();
    for name in ["zoe", "yan", "xia", "wes"] {
        made.push(user(s, org.id, name).await);
    }
    let invited =
        insert(s, NewUser { status: UserStatus::Invited, password_hash: None, ..new_user(org.id, "vic") }).await;
    made.push(invited);
    user(s, other.id, "stranger").await;
    s.set_group_members(b.id, &[made[0].id, made[1].id], now()).await.unwrap();
    s.set_group_members(a.id, &[made[0].id], now()).await.unwrap();

    let first = s.export_users(org.id, None, 2).await.unwrap();
    let rest = s.export_users(org.id, Some(first[1].user.id), 10).await.unwrap();
    let all: Vec<_> = first.iter().chain(&rest).collect();
    assert_eq!(all.len(), 5);
    assert!(all.windows(2).all(|w| w[0].user.id < w[1].user.id), "id order");
    for (exported, want) in all.iter().zip(&made) {
        assert_user(&exported.user, want);
    }
    assert_eq!(all[0].groups, ["Alpha", "Beta"]);
    assert_eq!(all[1].groups, ["Beta"]);
    assert!(all[2].groups.is_empty());
    assert_eq!(all[0].password_hash.as_deref(), Some("hash-zoe"));
    assert_eq!(all[4].password_hash, None);
    assert!(s.export_users(org.id, Some(made[4].id), 10).await.unwrap().is_empty());
    assert_eq!(s.export_users(other.id, None, 10).await.unwrap().len(), 1);
}
