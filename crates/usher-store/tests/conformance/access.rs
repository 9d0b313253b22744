//! Groups, their members, organization roles (see `apps` for apps).

use std::sync::Arc;

use usher_core::{
    Store,
    access::{AppRoleOf, Group, SetChange, StoredRoles},
    conflict::constraint,
    store::{NewUser, UserStatus},
};
use usher_domain::{AppRole, GroupId, Role, UserId, fold};

use crate::support::*;

fn names(groups: &[Group]) -> Vec<&str> {
    groups.iter().map(|g| g.name.as_str()).collect()
}

fn change<I: Ord>(mut c: SetChange<I>) -> SetChange<I> {
    c.added.sort();
    c.removed.sort();
    c
}

conformance!(
    groups_read_back_and_names_are_unique,
    groups_are_listed_by_name,
    group_members_are_kept_as_a_set,
    org_users_leave_out_foreign_and_unknown_ids,
    roles_are_replaced_keeping_an_administrator,
);

/// A group is read back in its organization only; names are unique by
/// key; updates and deletes find groups of the organization only.
async fn groups_read_back_and_names_are_unique(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let sales = insert_group(s, org.id, "Sales").await;
    assert_eq!(s.group(org.id, sales.id).await.unwrap(), Some(sales.clone()));
    assert_eq!(s.group(other.id, sales.id).await.unwrap(), None);
    assert_eq!(s.group(org.id, GroupId::generate()).await.unwrap(), None);

    assert_eq!(conflict(s.insert_group(&group(org.id, "SALES"), "sales").await), constraint::GROUP_NAME);
    insert_group(s, other.id, "Sales").await;
    let support = insert_group(s, org.id, "Support").await;

    let renamed =
        Group { name: "Marketing".into(), description: "Ads".into(), updated_at: now() + minutes(1), ..sales.clone() };
    s.update_group(&renamed, &fold("Marketing")).await.unwrap();
    assert_eq!(s.group(org.id, sales.id).await.unwrap(), Some(renamed.clone()));
    let taken = Group { name: "support".into(), ..renamed.clone() };
    assert_eq!(conflict(s.update_group(&taken, "support").await), constraint::GROUP_NAME);
    assert_eq!(s.group(org.id, sales.id).await.unwrap(), Some(renamed.clone()), "a refused rename changes nothing");
    assert_not_found(s.update_group(&Group { org_id: other.id, ..renamed.clone() }, "marketing").await);
    assert_not_found(s.update_group(&group(org.id, "Ghost"), "ghost").await);

    assert_not_found(s.delete_group(other.id, sales.id).await);
    assert!(s.group(org.id, sales.id).await.unwrap().is_some());
    s.delete_group(org.id, sales.id).await.unwrap();
    assert_eq!(s.group(org.id, sales.id).await.unwrap(), None);
    assert_not_found(s.delete_group(org.id, sales.id).await);
    assert_eq!(s.group(org.id, support.id).await.unwrap(), Some(support));
    insert_group(s, org.id, "Sales").await;
}

/// Groups come in name-key order after a key; a set of ids is narrowed
/// to the organization's groups.
async fn groups_are_listed_by_name(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let mut made = Vec::new();
    for name in ["delta", "Alpha", "charlie", "Bravo"] {
        made.push(insert_group(s, org.id, name).await);
    }
    let foreign = insert_group(s, other.id, "Aardvark").await;

    assert_eq!(names(&s.groups_page(org.id, None, 10).await.unwrap()), ["Alpha", "Bravo", "charlie", "delta"]);
    assert_eq!(names(&s.groups_page(org.id, None, 2).await.unwrap()), ["Alpha", "Bravo"]);
    assert_eq!(names(&s.groups_page(org.id, Some("bravo"), 10).await.unwrap()), ["charlie", "delta"]);
    assert!(s.groups_page(org.id, Some("delta"), 10).await.unwrap().is_empty());
    assert_eq!(names(&s.groups_page(other.id, None, 10).await.unwrap()), ["Aardvark"]);

    let asked = [made[0].id, made[3].id, foreign.id, GroupId::generate()];
    let mut found = s.org_groups(org.id, &asked).await.unwrap();
    found.sort_by(|a, b| a.name.cmp(&b.name));
    assert_eq!(found, [made[3].clone(), made[0].clone()]);
    assert!(s.org_groups(org.id, &[]).await.unwrap().is_empty());
}

/// Members are added, removed or replaced as a set (with what changed),
/// listed in user-ID order and counted.
async fn group_members_are_kept_as_a_set(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let (a, b, c) = (user(s, org.id, "a").await, user(s, org.id, "b").await, user(s, org.id, "c").await);
    let sales = insert_group(s, org.id, "Sales").await;
    let team = insert_group(s, org.id, "Team").await;
    let t = now();

    assert!(s.add_group_member(sales.id, a.id, t).await.unwrap());
    assert!(!s.add_group_member(sales.id, a.id, t).await.unwrap(), "already a member");
    assert_eq!(s.group(org.id, sales.id).await.unwrap().unwrap().member_count, 1);

    let changed = s.set_group_members(sales.id, &[c.id, b.id], t).await.unwrap();
    assert_eq!(change(changed), change(SetChange { added: vec![b.id, c.id], removed: vec![a.id] }));
    let members = s.group_members(sales.id, None, 10).await.unwrap();
    assert_eq!(user_ids(&members), ["b", "c"]);
    assert_user(&members[0], &b);
    assert_eq!(user_ids(&s.group_members(sales.id, None, 1).await.unwrap()), ["b"]);
    assert_eq!(user_ids(&s.group_members(sales.id, Some("b"), 10).await.unwrap()), ["c"]);
    assert_eq!(
        s.set_group_members(sales.id, &[b.id, c.id], t).await.unwrap(),
        SetChange::<UserId>::default(),
        "no change"
    );
    assert_eq!(s.group(org.id, sales.id).await.unwrap().unwrap().member_count, 2);

    assert!(s.add_group_member(team.id, b.id, t).await.unwrap());
    let of_b = s.groups_of(b.id).await.unwrap();
    assert_eq!(names(&of_b), ["Sales", "Team"]);
    assert_eq!((of_b[0].member_count, of_b[1].member_count), (2, 1));
    assert!(s.groups_of(a.id).await.unwrap().is_empty());

    assert!(s.remove_group_member(sales.id, c.id).await.unwrap());
    assert!(!s.remove_group_member(sales.id, c.id).await.unwrap(), "no longer a member");
    assert_eq!(user_ids(&s.group_members(sales.id, None, 10).await.unwrap()), ["b"]);
    let emptied = s.set_group_members(sales.id, &[], t).await.unwrap();
    assert_eq!(emptied, SetChange { added: vec![], removed: vec![b.id] });
    assert!(s.group_members(sales.id, None, 10).await.unwrap().is_empty());
    assert_eq!(names(&s.groups_of(b.id).await.unwrap()), ["Team"]);
}

/// A set of user ids is narrowed to the organization's users.
async fn org_users_leave_out_foreign_and_unknown_ids(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let a = user(s, org.id, "a").await;
    let b = user(s, org.id, "b").await;
    let stranger = user(s, other.id, "stranger").await;
    let mut found = s.org_users(org.id, &[b.id, stranger.id, UserId::generate(), a.id]).await.unwrap();
    found.sort_by(|x, y| x.user_id.cmp(&y.user_id));
    assert_eq!(user_ids(&found), ["a", "b"]);
    assert_user(&found[1], &b);
    assert!(s.org_users(org.id, &[]).await.unwrap().is_empty());
    assert!(s.org_users(other.id, &[a.id]).await.unwrap().is_empty());
}

/// Roles are replaced together and the previous ones returned; the last
/// active Administrator cannot lose the role.
async fn roles_are_replaced_keeping_an_administrator(store: Arc<dyn Store>) {
    let s = &*store;
    let org = organization(s, "acme").await;
    let root = admin(s, org.id, "root").await;
    let alice = user(s, org.id, "alice").await;
    let crm = insert_app(s, org.id, "CRM", None).await;
    let wiki = insert_app(s, org.id, "Wiki", None).await;
    let t = now() + minutes(1);

    let before = s
        .replace_roles(
            org.id,
            alice.id,
            &[Role::UserManager, Role::User],
            &[(AppRole::Developer, wiki.id), (AppRole::Owner, crm.id)],
            t,
        )
        .await
        .unwrap();
    assert_eq!(before, StoredRoles { org: vec![Role::User], apps: vec![] });
    let got = reload(s, alice.id).await;
    assert_eq!((sorted(got.roles), got.updated_at), (vec![Role::UserManager, Role::User], t));
    let apps = vec![
        AppRoleOf { role: AppRole::Owner, app_id: crm.id, app_name: "CRM".into() },
        AppRoleOf { role: AppRole::Developer, app_id: wiki.id, app_name: "Wiki".into() },
    ];
    assert_eq!(s.app_roles_of(alice.id).await.unwrap(), apps);

    let before = s.replace_roles(org.id, alice.id, &[Role::Developer], &[], t).await.unwrap();
    assert_eq!((sorted(before.org), before.apps), (vec![Role::UserManager, Role::User], apps));
    assert_eq!(reload(s, alice.id).await.roles, [Role::Developer]);
    assert!(s.app_roles_of(alice.id).await.unwrap().is_empty());

    let refused = s.replace_roles(org.id, root.id, &[Role::User], &[(AppRole::Owner, crm.id)], t).await;
    assert_eq!(conflict(refused), constraint::LAST_ADMINISTRATOR);
    assert_eq!(reload(s, root.id).await.roles, [Role::Administrator], "a refused change changes nothing");
    assert!(s.app_roles_of(root.id).await.unwrap().is_empty());

    let disabled = insert(
        s,
        NewUser { status: UserStatus::Disabled, roles: vec![Role::Administrator], ..new_user(org.id, "disabled") },
    )
    .await;
    let refused = s.replace_roles(org.id, root.id, &[Role::User], &[], t).await;
    assert_eq!(conflict(refused), constraint::LAST_ADMINISTRATOR, "a disabled Administrator does not count");
    s.replace_roles(org.id, disabled.id, &[Role::User], &[], t).await.unwrap();
    s.replace_roles(org.id, alice.id, &[Role::Administrator], &[], t).await.unwrap();
    let before = s.replace_roles(org.id, root.id, &[Role::User], &[], t).await.unwrap();
    assert_eq!(before.org, [Role::Administrator]);
    assert_eq!(reload(s, root.id).await.roles, [Role::User]);
}
