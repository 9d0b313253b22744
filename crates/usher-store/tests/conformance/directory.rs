//! The directory: sorted and filtered walks through an organization's users,
//! and what the text indexes find.

use std::{collections::BTreeSet, sync::Arc};

use serde_json::json;
use usher_core::{
    directory::{Candidates, Filter, Seek, SortColumn, SortKey},
    metadata::{Metadata, search_entries},
    store::{NewUser, Profile, Store, User, UserStatus},
};
use usher_domain::{OrgId, Role, UserId};

use crate::support::*;

/// Five users of `acme` whose columns sort differently, and one namesake in
/// another organization. Returned in insertion order: ada, bob, cleo, dan, eve.
async fn people(s: &dyn Store) -> (OrgId, OrgId, Vec<User>) {
    let org = organization(s, "acme").await;
    let other = organization(s, "other").await;
    let t = now();
    let person = |user_id: &str, first: &str, last: &str, phone: Option<&str>, roles: Vec<Role>, age: i64| NewUser {
        profile: Profile {
            first_name: Some(first.into()),
            last_name: Some(last.into()),
            phone: phone.map(Into::into),
            ..Profile::default()
        },
        roles,
        created_at: t - days(age),
        ..new_user(org.id, user_id)
    };
    let mut users = vec![
        insert(s, person("ada", "Ada", "Lovelace", Some("+44 20 1111 2222"), vec![Role::Administrator], 5)).await,
        insert(s, person("bob", "Bob", "Martin", None, vec![Role::User], 4)).await,
        insert(
            s,
            NewUser {
                status: UserStatus::Invited,
                password_hash: None,
                ..person("cleo", "Cleo", "Patra", Some("+20 2 3333 4444"), vec![Role::Developer, Role::User], 3)
            },
        )
        .await,
        insert(
            s,
            NewUser {
                status: UserStatus::Disabled,
                ..person("dan", "Dan", "Lovelace", None, vec![Role::UserManager], 2)
            },
        )
        .await,
        insert(s, person("eve", "Évelyne", "Dupont", Some("+33 6 1111 0000"), vec![], 1)).await,
    ];
    insert(
        s,
        NewUser {
            profile: Profile { last_name: Some("Lovelace".into()), ..Profile::default() },
            ..new_user(other.id, "zed")
        },
    )
    .await;
    for (i, values) in
        [(0, json!({"department": "Sales"})), (1, json!({"department": "Presales"})), (2, json!({"team": "Sales"}))]
    {
        let values: Metadata = values.as_object().unwrap().clone();
        let u = &mut users[i];
        s.set_user_metadata(org.id, u.id, None, &values, &search_entries(&values), u.updated_at).await.unwrap();
        u.metadata = values;
    }
    let login = session(users[1].id, b"bob");
    s.sign_in(&login, &event(org.id, "auth.login.succeeded", Some(&users[1]), None)).await.unwrap();
    users[1].last_login_at = Some(login.created_at);
    (org.id, other.id, users)
}

/// The whole walk, `page` users at a time, each page resuming after the last.
async fn walk(
    s: &dyn Store,
    org_id: OrgId,
    filter: &Filter,
    sort: SortColumn,
    descending: bool,
    page: u32,
) -> Vec<(User, SortKey)> {
    let mut rows: Vec<(User, SortKey)> = Vec::new();
    loop {
        let after = rows.last().map(|(u, k)| (k.clone(), u.id));
        let seek = Seek { org_id, filter, sort, descending, after, limit: page };
        let next = s.users_sorted(&seek).await.unwrap();
        assert!(next.len() <= page as usize, "at most `limit` rows");
        let done = next.len() < page as usize;
        rows.extend(next);
        if done || rows.len() > 100 {
            return rows;
        }
    }
}

fn names(rows: &[(User, SortKey)]) -> Vec<&str> {
    rows.iter().map(|(u, _)| u.user_id.as_str()).collect()
}

fn found_ids(candidates: Candidates) -> BTreeSet<UserId> {
    match candidates {
        Candidates::Found(found) => found.into_iter().map(|(id, _)| id).collect(),
        other => panic!("expected matches, got {other:?}"),
    }
}

conformance!(
    walks_sort_by_every_column_and_resume_exactly,
    walks_filter_by_text_and_metadata,
    indexes_find_candidates_and_exact_matches,
);

/// Every column sorts both ways in (key, id) order, the order of the keys
/// themselves; a walk resumed after each page's last row sees every user once.
async fn walks_sort_by_every_column_and_resume_exactly(store: Arc<dyn Store>) {
    let s = &*store;
    let (org, _, users) = people(s).await;
    let expected = [
        (SortColumn::UserId, ["ada", "bob", "cleo", "dan", "eve"]),
        (SortColumn::Email, ["ada", "bob", "cleo", "dan", "eve"]),
        (SortColumn::FirstName, ["ada", "bob", "cleo", "dan", "eve"]),
        (SortColumn::LastName, ["eve", "ada", "dan", "bob", "cleo"]),
        (SortColumn::Role, ["eve", "bob", "ada", "cleo", "dan"]),
        (SortColumn::CreatedAt, ["ada", "bob", "cleo", "dan", "eve"]),
    ];
    for sort in SortColumn::ALL {
        let all = walk(s, org, &Filter::All, sort, false, 10).await;
        assert_eq!(all.len(), 5, "{sort:?}: the organization's users only");
        assert!(all.windows(2).all(|w| (&w[0].1, w[0].0.id) < (&w[1].1, w[1].0.id)), "{sort:?}: ascending (key, id)");
        if let Some((_, order)) = expected.iter().find(|(c, _)| *c == sort) {
            assert_eq!(names(&all), order, "{sort:?}");
        }
        if sort == SortColumn::Status {
            let mut runs: Vec<UserStatus> = all.iter().map(|(u, _)| u.status).collect();
            runs.dedup();
            assert_eq!(runs.len(), 3, "users of one status come together: {:?}", names(&all));
        }
        for page in [1, 2, 3] {
            assert_eq!(names(&walk(s, org, &Filter::All, sort, false, page).await), names(&all), "{sort:?} by {page}");
        }
        let mut reversed = walk(s, org, &Filter::All, sort, true, 2).await;
        reversed.reverse();
        assert_eq!(names(&reversed), names(&all), "{sort:?}: descending is the exact reverse");
    }
    let by_id = walk(s, org, &Filter::All, SortColumn::UserId, false, 10).await;
    for ((got, _), want) in by_id.iter().zip(&users) {
        assert_user(got, want);
    }
    let role_keys: Vec<SortKey> =
        walk(s, org, &Filter::All, SortColumn::Role, false, 10).await.into_iter().map(|(_, k)| k).collect();
    assert_eq!(role_keys, [0, 1, 2, 3, 4].map(SortKey::Int), "role ranks as keys");
}

/// A text walk tests first name, last name and phone as folded
/// substrings; a metadata walk tests one field's values.
async fn walks_filter_by_text_and_metadata(store: Arc<dyn Store>) {
    let s = &*store;
    let (org, _, _) = people(s).await;
    let text = |needle: &str| Filter::Text { needle: needle.into() };
    let field = |name: &str, needle: &str| Filter::Metadata { field: name.into(), needle: needle.into() };
    for (filter, want) in [
        (text("lovelace"), vec!["ada", "dan"]),
        (text("ove"), vec!["ada", "dan"]),
        (text("évelyne"), vec!["eve"]),
        (text("1111"), vec!["ada", "eve"]),
        (text("nobody"), vec![]),
        (field("department", "sales"), vec!["ada", "bob"]),
        (field("department", "pre"), vec!["bob"]),
        (field("team", "sales"), vec!["cleo"]),
        (field("missing", "sales"), vec![]),
    ] {
        for descending in [false, true] {
            let mut got = names(&walk(s, org, &filter, SortColumn::UserId, descending, 1).await)
                .into_iter()
                .map(str::to_owned)
                .collect::<Vec<_>>();
            if descending {
                got.reverse();
            }
            assert_eq!(got, want, "{filter:?} descending={descending}");
        }
    }
    let replaced: Metadata = json!({"department": "Engineering"}).as_object().unwrap().clone();
    let ada = s.users_page(org, None, 1).await.unwrap().remove(0);
    s.set_user_metadata(org, ada.id, None, &replaced, &search_entries(&replaced), now()).await.unwrap();
    assert_eq!(
        names(&walk(s, org, &field("department", "sales"), SortColumn::UserId, false, 5).await),
        ["bob"],
        "old values are no longer found"
    );
    assert_eq!(names(&walk(s, org, &field("department", "engin"), SortColumn::LastName, false, 5).await), ["ada"]);
}

/// The text index finds substring matches (and exact user IDs and
/// emails) with their sort keys, when there are few; exact matches and
/// look-ups by id stay in the organization.
async fn indexes_find_candidates_and_exact_matches(store: Arc<dyn Store>) {
    let s = &*store;
    let (org, other, users) = people(s).await;
    let (ada, bob, dan) = (&users[0], &users[1], &users[3]);
    assert_eq!(s.search_candidates(org, &Filter::All, SortColumn::LastName, 10).await.unwrap(), Candidates::NoIndex);
    let short = Filter::Text { needle: "lo".into() };
    assert_eq!(s.search_candidates(org, &short, SortColumn::LastName, 10).await.unwrap(), Candidates::NoIndex);

    let lovelace = Filter::Text { needle: "lovelace".into() };
    let found = s.search_candidates(org, &lovelace, SortColumn::LastName, 10).await.unwrap();
    let walked = walk(s, org, &Filter::All, SortColumn::LastName, false, 10).await;
    if let Candidates::Found(pairs) = &found {
        for (id, key) in pairs {
            let (_, walk_key) = walked.iter().find(|(u, _)| u.id == *id).expect("a user of the organization");
            assert_eq!(key, walk_key, "candidates carry the walk's sort keys");
        }
    }
    assert_eq!(found_ids(found), BTreeSet::from([ada.id, dan.id]));
    assert_eq!(s.search_candidates(org, &lovelace, SortColumn::LastName, 1).await.unwrap(), Candidates::TooMany);
    let by_email = Filter::Text { needle: "bob@example.org".into() };
    assert!(found_ids(s.search_candidates(org, &by_email, SortColumn::UserId, 10).await.unwrap()).contains(&bob.id));
    let by_id = Filter::Text { needle: "dan".into() };
    assert!(found_ids(s.search_candidates(org, &by_id, SortColumn::UserId, 10).await.unwrap()).contains(&dan.id));
    let sales = Filter::Metadata { field: "department".into(), needle: "sales".into() };
    assert_eq!(
        found_ids(s.search_candidates(org, &sales, SortColumn::UserId, 10).await.unwrap()),
        BTreeSet::from([ada.id, bob.id])
    );

    let exact = s.users_exact(org, "ada", SortColumn::LastName).await.unwrap();
    assert_eq!(exact.len(), 1);
    assert_user(&exact[0].0, ada);
    assert_eq!(Some(&exact[0].1), walked.iter().find(|(u, _)| u.id == ada.id).map(|(_, k)| k), "the walk's key");
    assert_eq!(names(&s.users_exact(org, "bob@example.org", SortColumn::Email).await.unwrap()), ["bob"]);
    assert!(s.users_exact(org, "lovelace", SortColumn::LastName).await.unwrap().is_empty(), "exact only");
    assert!(s.users_exact(other, "ada", SortColumn::LastName).await.unwrap().is_empty());
    let twin = insert(s, NewUser { email: None, email_key: None, ..new_user(org, "ada@example.org") }).await;
    let mut both: Vec<UserId> = s
        .users_exact(org, "ada@example.org", SortColumn::UserId)
        .await
        .unwrap()
        .into_iter()
        .map(|(u, _)| u.id)
        .collect();
    both.sort();
    assert_eq!(both, sorted(vec![ada.id, twin.id]), "one user by user ID, one by email");

    let mut by_ids = s.users_by_ids(org, &[dan.id, UserId::generate(), ada.id]).await.unwrap();
    by_ids.sort_by(|a, b| a.user_id.cmp(&b.user_id));
    assert_eq!(by_ids.len(), 2);
    assert_user(&by_ids[0], ada);
    assert_user(&by_ids[1], dan);
    assert!(s.users_by_ids(other, &[ada.id]).await.unwrap().is_empty());
    assert!(s.users_by_ids(org, &[]).await.unwrap().is_empty());
}
