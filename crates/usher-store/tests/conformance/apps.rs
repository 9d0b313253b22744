//! Apps, their owners and developers, the groups with access, and the apps a
//! user reaches.

use std::sync::Arc;

use usher_core::{
    Store,
    access::{App, AppAccess, AppRoleOf, SetChange},
    conflict::constraint,
    store::User,
};
use usher_domain::{AppId, AppRole, UserId, fold};

use crate::support::*;

fn names(apps: &[App]) -> Vec<&str> {
    apps.iter().map(|a| a.name.as_str()).collect()
}

/// (user ID, role) pairs, sorted: the order within one user is not specified.
fn people(list: &[(AppRole, User)]) -> Vec<(String, AppRole)> {
    let ids: Vec<&str> = list.iter().map(|(_, u)| u.user_id.as_str()).collect();
    assert!(ids.windows(2).all(|w| w[0] <= w[1]), "people in user-ID order: {ids:?}");
    sorted(list.iter().map(|(r, u)| (u.user_id.clone(), *r)).collect())
}

conformance!(
    apps_read_back_and_names_are_unique,
    apps_are_listed_by_name,
    app_people_are_kept_per_role,
    users_reach_apps_through_groups_and_roles,
);

/// An app is read back with its first owner, in its organization only;
/// names are unique by key; updates and deletes find apps of the
/// organization only.
async fn apps_read_back_and_names_are_unique(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let owner = user(s, org.id, "owner").await;
    let crm = insert_app(s, org.id, "CRM", Some(owner.id)).await;
    assert_eq!(s.app(org.id, crm.id).await.unwrap(), Some(crm.clone()));
    assert_eq!(s.app(other.id, crm.id).await.unwrap(), None);
    assert_eq!(s.app(org.id, AppId::generate()).await.unwrap(), None);
    let listed = s.app_people(crm.id).await.unwrap();
    assert_eq!(people(&listed), [("owner".to_owned(), AppRole::Owner)]);
    assert_user(&listed[0].1, &owner);
    let bare = insert_app(s, org.id, "Bare", None).await;
    assert!(s.app_people(bare.id).await.unwrap().is_empty());

    let copy = app(org.id, "crm");
    assert_eq!(conflict(s.insert_app(&copy, "crm", Some(owner.id)).await), constraint::APP_NAME);
    assert_eq!(s.app(org.id, copy.id).await.unwrap(), None);
    assert_eq!(s.app_roles_of(owner.id).await.unwrap().len(), 1, "a refused app gives no role");
    insert_app(s, other.id, "CRM", None).await;

    let edited = App {
        name: "Sales CRM".into(),
        description: String::new(),
        url: None,
        updated_at: now() + minutes(1),
        ..crm.clone()
    };
    s.update_app(&edited, &fold("Sales CRM")).await.unwrap();
    assert_eq!(s.app(org.id, crm.id).await.unwrap(), Some(edited.clone()));
    let taken = App { name: "BARE".into(), ..edited.clone() };
    assert_eq!(conflict(s.update_app(&taken, "bare").await), constraint::APP_NAME);
    assert_eq!(s.app(org.id, crm.id).await.unwrap(), Some(edited.clone()));
    assert_not_found(s.update_app(&App { org_id: other.id, ..edited.clone() }, "sales crm").await);

    assert_not_found(s.delete_app(other.id, crm.id).await);
    s.delete_app(org.id, crm.id).await.unwrap();
    assert_eq!(s.app(org.id, crm.id).await.unwrap(), None);
    assert_not_found(s.delete_app(org.id, crm.id).await);
    assert!(s.app_roles_of(owner.id).await.unwrap().is_empty(), "roles go with their app");
}

/// Apps come in name-key order after a key; a set of ids is narrowed to
/// the organization's apps.
async fn apps_are_listed_by_name(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let mut made = Vec::new();
    for name in ["delta", "Alpha", "charlie", "Bravo"] {
        made.push(insert_app(s, org.id, name, None).await);
    }
    let foreign = insert_app(s, other.id, "Aardvark", None).await;

    assert_eq!(names(&s.apps_page(org.id, None, 10).await.unwrap()), ["Alpha", "Bravo", "charlie", "delta"]);
    assert_eq!(names(&s.apps_page(org.id, None, 3).await.unwrap()), ["Alpha", "Bravo", "charlie"]);
    assert_eq!(names(&s.apps_page(org.id, Some("bravo"), 1).await.unwrap()), ["charlie"]);
    assert!(s.apps_page(org.id, Some("delta"), 10).await.unwrap().is_empty());
    assert_eq!(names(&s.apps_page(other.id, None, 10).await.unwrap()), ["Aardvark"]);

    let mut found = s.org_apps(org.id, &[made[2].id, foreign.id, AppId::generate(), made[1].id]).await.unwrap();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(found, [made[1].clone(), made[2].clone()]);
    assert!(s.org_apps(org.id, &[]).await.unwrap().is_empty());
}

/// Owners and developers are replaced per role as a set (with what
/// changed); a user's roles are read per app and across apps; an app
/// whose only owner is a user is named.
async fn app_people_are_kept_per_role(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let (a, b, c) = (user(s, org.id, "a").await, user(s, org.id, "b").await, user(s, org.id, "c").await);
    let crm = insert_app(s, org.id, "CRM", Some(a.id)).await;
    let wiki = insert_app(s, org.id, "Wiki", Some(a.id)).await;
    let t = now();

    let changed = s.set_app_people(crm.id, AppRole::Owner, &[b.id, a.id], t).await.unwrap();
    assert_eq!(changed, SetChange { added: vec![b.id], removed: vec![] });
    let changed = s.set_app_people(crm.id, AppRole::Developer, &[c.id, b.id], t).await.unwrap();
    let mut added = changed.added.clone();
    added.sort();
    assert_eq!((added, changed.removed), (sorted(vec![b.id, c.id]), Vec::<UserId>::new()));
    let expected = [("a", AppRole::Owner), ("b", AppRole::Developer), ("b", AppRole::Owner), ("c", AppRole::Developer)];
    assert_eq!(people(&s.app_people(crm.id).await.unwrap()), sorted(expected.map(|(u, r)| (u.to_owned(), r)).to_vec()));

    assert_eq!(sorted(s.app_roles_on(b.id, crm.id).await.unwrap()), sorted(vec![AppRole::Owner, AppRole::Developer]));
    assert_eq!(s.app_roles_on(c.id, crm.id).await.unwrap(), [AppRole::Developer]);
    assert!(s.app_roles_on(c.id, wiki.id).await.unwrap().is_empty());
    assert_eq!(
        s.app_roles_of(a.id).await.unwrap(),
        [
            AppRoleOf { role: AppRole::Owner, app_id: crm.id, app_name: "CRM".into() },
            AppRoleOf { role: AppRole::Owner, app_id: wiki.id, app_name: "Wiki".into() },
        ],
        "in app-name order"
    );

    assert_eq!(s.apps_solely_owned_by(a.id).await.unwrap(), [(wiki.id, "Wiki".to_owned())], "CRM has another owner");
    assert!(s.apps_solely_owned_by(b.id).await.unwrap().is_empty());
    let changed = s.set_app_people(crm.id, AppRole::Owner, &[b.id], t).await.unwrap();
    assert_eq!(changed, SetChange { added: vec![], removed: vec![a.id] });
    assert_eq!(s.apps_solely_owned_by(b.id).await.unwrap(), [(crm.id, "CRM".to_owned())]);
    assert!(s.apps_solely_owned_by(c.id).await.unwrap().is_empty(), "developers own nothing");
    assert_eq!(s.app_roles_on(b.id, crm.id).await.unwrap().len(), 2, "the other role stays");
}

/// The groups with access are replaced as a set; a user reaches the apps
/// of their groups and those they own or develop, each once, in name order.
async fn users_reach_apps_through_groups_and_roles(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let alice = user(s, org.id, "alice").await;
    let bob = user(s, org.id, "bob").await;
    let (sales, staff) = (insert_group(s, org.id, "Sales").await, insert_group(s, org.id, "Staff").await);
    let crm = insert_app(s, org.id, "CRM", None).await;
    let mail = insert_app(s, org.id, "Mail", Some(alice.id)).await;
    let wiki = insert_app(s, org.id, "Wiki", None).await;
    let hidden = insert_app(s, org.id, "Hidden", None).await;
    let t = now();

    let changed = s.set_app_groups(crm.id, &[staff.id, sales.id], t).await.unwrap();
    assert_eq!((sorted(changed.added), changed.removed), (sorted(vec![sales.id, staff.id]), vec![]));
    let groups = s.app_groups(crm.id).await.unwrap();
    assert_eq!(groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["Sales", "Staff"]);
    assert_eq!(groups[0], sales);
    let changed = s.set_app_groups(crm.id, &[staff.id], t).await.unwrap();
    assert_eq!(changed, SetChange { added: vec![], removed: vec![sales.id] });
    s.set_app_groups(mail.id, &[staff.id], t).await.unwrap();
    s.set_app_groups(hidden.id, &[sales.id], t).await.unwrap();
    assert!(s.app_groups(wiki.id).await.unwrap().is_empty());

    s.add_group_member(staff.id, alice.id, t).await.unwrap();
    s.set_app_people(wiki.id, AppRole::Developer, &[alice.id], t).await.unwrap();
    let reached = s.apps_of(alice.id, None, 10).await.unwrap();
    let expected = [
        (crm.clone(), AppAccess { via_group: true, owner: false, developer: false }),
        (mail.clone(), AppAccess { via_group: true, owner: true, developer: false }),
        (wiki.clone(), AppAccess { via_group: false, owner: false, developer: true }),
    ];
    assert_eq!(reached, expected);
    assert_eq!(s.apps_of(alice.id, None, 2).await.unwrap(), expected[..2]);
    assert_eq!(s.apps_of(alice.id, Some("mail"), 10).await.unwrap(), expected[2..]);
    assert!(s.apps_of(bob.id, None, 10).await.unwrap().is_empty());
    s.add_group_member(sales.id, bob.id, t).await.unwrap();
    assert_eq!(
        names(&s.apps_of(bob.id, None, 10).await.unwrap().into_iter().map(|(a, _)| a).collect::<Vec<_>>()),
        ["Hidden"]
    );
}
