//! The directory: the organization's users searched, sorted and paged (the Users
//! page and `GET /api/v1/users`), fast at millions of users.
//!
//! Search (`q`), as the reference product defines it:
//! - plain text matches first name, last name and phone as a case-insensitive
//!   substring, and user ID and email as a case-insensitive exact match;
//! - `field_name:text` matches a custom field: the name exact and case-sensitive,
//!   the text a case-insensitive substring; empty text matches nothing.
//!
//! Case-insensitive means Unicode lower-casing ([`usher_domain::fold`]), the same
//! on both engines: the store keeps folded keys.
//!
//! Sorting is by any [`SortColumn`], ties broken by id, so the order is total and a
//! cursor (the sort key and id of the last row, opaque) resumes exactly after it,
//! however many users were added meanwhile.
//!
//! How a page is found: a text search first asks the engine's trigram index for
//! its matches; when there are few ([`SEARCH_CANDIDATES`] at most), they are
//! sorted here and the page cut from them. Otherwise matches are dense, and the
//! store walks the sort index from the cursor, testing each row, which finds a
//! page after a few hundred rows. Either way a page costs about the same at 1,000
//! users or 1,000,000.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use usher_domain::{Invalid, OrgId, UserId, fold};

use crate::{
    Result, Usher,
    access::policy::{self, Operation},
    auth::Principal,
    metadata::is_field_name,
    store::User,
};

/// When a text index finds at most this many matches, the page is cut from
/// them; beyond, the store walks the sort order instead.
pub const SEARCH_CANDIDATES: u32 = 2000;

/// Users per page by default, and at most.
pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 200;

/// A column the users list sorts by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortColumn {
    UserId,
    Email,
    FirstName,
    LastName,
    Phone,
    /// In the order User, Administrator, Developer, User Manager.
    Role,
    Status,
    CreatedAt,
    LastLoginAt,
}

impl SortColumn {
    pub const ALL: [SortColumn; 9] = [
        SortColumn::UserId,
        SortColumn::Email,
        SortColumn::FirstName,
        SortColumn::LastName,
        SortColumn::Phone,
        SortColumn::Role,
        SortColumn::Status,
        SortColumn::CreatedAt,
        SortColumn::LastLoginAt,
    ];

    /// The name the API (`sort=`) and the web page use.
    pub fn as_str(self) -> &'static str {
        match self {
            SortColumn::UserId => "user_id",
            SortColumn::Email => "email",
            SortColumn::FirstName => "first_name",
            SortColumn::LastName => "last_name",
            SortColumn::Phone => "phone",
            SortColumn::Role => "role",
            SortColumn::Status => "status",
            SortColumn::CreatedAt => "created_at",
            SortColumn::LastLoginAt => "last_login_at",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Where a user sorts by role: User 1, Administrator 2, Developer 3, User
/// Manager 4 (the reference order); several roles sort by the last of them, none
/// first. The stores keep it up to date as roles change.
pub fn role_rank(roles: &[usher_domain::Role]) -> i64 {
    use usher_domain::Role;
    roles
        .iter()
        .map(|r| match r {
            Role::User => 1,
            Role::Administrator => 2,
            Role::Developer => 3,
            Role::UserManager => 4,
        })
        .max()
        .unwrap_or(0)
}

/// A row's value for the sort column, as the store compares it. Within one
/// column every key has the same variant, and the derived order is the store's.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum SortKey {
    #[serde(rename = "i")]
    Int(i64),
    #[serde(rename = "t")]
    Text(String),
    #[serde(rename = "d")]
    Time(DateTime<Utc>),
}

/// What a search asks the store for. Needles are case-folded and never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Filter {
    All,
    /// Substring of first name, last name or phone; or exactly the user ID or email.
    Text {
        needle: String,
    },
    /// Substring of a custom field's value.
    Metadata {
        field: String,
        needle: String,
    },
}

/// A search query as typed, understood. `None`: it matches nothing.
pub fn parse_query(q: &str) -> Option<Filter> {
    let q: String = q.chars().filter(|c| !c.is_control()).collect();
    let q = q.trim();
    if q.is_empty() {
        return Some(Filter::All);
    }
    if let Some((name, text)) = q.split_once(':')
        && is_field_name(name)
    {
        let needle = fold(text);
        return (!needle.is_empty()).then(|| Filter::Metadata { field: name.to_owned(), needle });
    }
    Some(Filter::Text { needle: fold(q) })
}

/// What a text index found for a filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Candidates {
    /// The filter cannot use the index (e.g. fewer than 3 characters).
    NoIndex,
    /// More matches than were asked for.
    TooMany,
    /// Every match: ids and sort keys (in no particular order, maybe twice).
    Found(Vec<(UserId, SortKey)>),
}

/// One walk through the sort order, for the store. A [`Filter::Text`] walk
/// tests the substring only; exact user ID and email matches are added by the
/// caller ([`crate::store::DirectoryStore::users_exact`]).
#[derive(Debug, Clone)]
pub struct Seek<'a> {
    pub org_id: OrgId,
    pub filter: &'a Filter,
    pub sort: SortColumn,
    pub descending: bool,
    /// Resume strictly after (before, descending) this key and id.
    pub after: Option<(SortKey, UserId)>,
    pub limit: u32,
}

/// What a caller asks of the users list (all optional, as in the query string).
#[derive(Debug, Clone, Default)]
pub struct UserQuery {
    pub q: Option<String>,
    /// A [`SortColumn`] name; default `last_name`.
    pub sort: Option<String>,
    /// `asc` (default) or `desc`.
    pub order: Option<String>,
    pub cursor: Option<String>,
    /// 1–[`MAX_LIMIT`], default [`DEFAULT_LIMIT`].
    pub limit: Option<u32>,
}

/// One page of users and the cursor of the next.
#[derive(Debug, Clone)]
pub struct UserPage {
    pub items: Vec<User>,
    pub next_cursor: Option<String>,
    /// The sort and order the page was made with.
    pub sort: SortColumn,
    pub descending: bool,
}

/// The cursor's content: where a page ends. It is signed for its sort and
/// order ([`crate::cursor`]), and its key checked against the column anyway.
#[derive(Debug, Serialize, Deserialize)]
struct CursorBody {
    k: SortKey,
    i: UserId,
}

/// What a cursor is signed for: this list, this sort, this order.
fn cursor_list(sort: SortColumn, descending: bool) -> String {
    format!("users:{}:{}", sort.as_str(), if descending { "desc" } else { "asc" })
}

fn encode_cursor(secret: &[u8], sort: SortColumn, descending: bool, key: &SortKey, id: UserId) -> Result<String> {
    let body = serde_json::to_vec(&CursorBody { k: key.clone(), i: id })
        .map_err(|e| crate::Error::internal(format!("cursor: {e}")))?;
    crate::cursor::seal(secret, &cursor_list(sort, descending), &body)
}

fn decode_cursor(secret: &[u8], raw: &str, sort: SortColumn, descending: bool) -> Result<(SortKey, UserId)> {
    let invalid = || Invalid::one("cursor", "invalid", "This cursor is not valid for this list and order.");
    let bytes = crate::cursor::open(secret, &cursor_list(sort, descending), raw)?;
    let body: CursorBody = serde_json::from_slice(&bytes).map_err(|_| invalid())?;
    if !key_fits(&body.k, sort) {
        return Err(invalid().into());
    }
    Ok((body.k, body.i))
}

/// Whether a key is of the column's type and range, so that it binds as the
/// store's parameter of that column. Stores choose the variant (SQLite keeps
/// times as text), so text fits any column but the role's.
fn key_fits(key: &SortKey, sort: SortColumn) -> bool {
    match (key, sort) {
        (SortKey::Int(rank), SortColumn::Role) => (0..=4).contains(rank),
        (SortKey::Time(t), SortColumn::CreatedAt | SortColumn::LastLoginAt) => (1..=9999).contains(&t.year()),
        (SortKey::Text(t), _) => sort != SortColumn::Role && !usher_domain::text::has_control(t),
        _ => false,
    }
}

/// Reads sort, order and limit, reporting every bad one.
fn parse_order(query: &UserQuery) -> Result<(SortColumn, bool, u32), Invalid> {
    let mut errors = Vec::new();
    let sort = match query.sort.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => SortColumn::LastName,
        Some(s) => SortColumn::parse(s).unwrap_or_else(|| {
            let names: Vec<_> = SortColumn::ALL.iter().map(|c| c.as_str()).collect();
            errors.push(usher_domain::FieldError::new(
                "sort",
                "invalid",
                format!("Sort by one of: {}.", names.join(", ")),
            ));
            SortColumn::LastName
        }),
    };
    let descending = match query.order.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None | Some("asc") => false,
        Some("desc") => true,
        Some(_) => {
            errors.push(usher_domain::FieldError::new("order", "invalid", "The order is asc or desc."));
            false
        }
    };
    let limit = query.limit.unwrap_or(DEFAULT_LIMIT);
    if !(1..=MAX_LIMIT).contains(&limit) {
        errors.push(usher_domain::FieldError::new("limit", "invalid", format!("The limit is 1 to {MAX_LIMIT}.")));
    }
    if errors.is_empty() { Ok((sort, descending, limit)) } else { Err(Invalid(errors)) }
}

impl Usher {
    /// The organization's users matching `q`, sorted, one page (Administrators
    /// and User Managers, scope `users:read`).
    pub async fn search_users(&self, p: &Principal, query: &UserQuery) -> Result<UserPage> {
        let manager = &policy::authorize(p, Operation::ReadUsers)?;
        let (sort, descending, limit) = parse_order(query)?;
        let after = match query.cursor.as_deref().filter(|c| !c.trim().is_empty()) {
            Some(c) => Some(decode_cursor(self.cursor_key().await?, c, sort, descending)?),
            None => None,
        };
        let empty = UserPage { items: Vec::new(), next_cursor: None, sort, descending };
        let org_id = manager.org_id();
        let Some(filter) = parse_query(query.q.as_deref().unwrap_or("")) else { return Ok(empty) };
        if let Filter::Metadata { field, .. } = &filter
            && !self.metadata_fields(org_id).await?.iter().any(|f| &f.name == field)
        {
            return Ok(empty);
        }
        // One more than a page tells whether there is a next one.
        let want = limit + 1;
        let beyond = |key: &SortKey, id: &UserId| match &after {
            None => true,
            Some((k, i)) if descending => (key, id) < (k, i),
            Some((k, i)) => (key, id) > (k, i),
        };
        let in_order = |a: &(User, SortKey), b: &(User, SortKey)| {
            let o = (&a.1, a.0.id).cmp(&(&b.1, b.0.id));
            if descending { o.reverse() } else { o }
        };
        let candidates = match filter {
            Filter::All => Candidates::NoIndex,
            _ => self.store.search_candidates(org_id, &filter, sort, SEARCH_CANDIDATES).await?,
        };
        let rows = match candidates {
            Candidates::Found(mut found) => {
                found.sort_by(|a, b| (&a.1, a.0).cmp(&(&b.1, b.0)));
                found.dedup_by(|a, b| a.0 == b.0);
                if descending {
                    found.reverse();
                }
                let page: Vec<(UserId, SortKey)> =
                    found.into_iter().filter(|(id, key)| beyond(key, id)).take(want as usize).collect();
                let ids: Vec<UserId> = page.iter().map(|(id, _)| *id).collect();
                let mut users: std::collections::HashMap<UserId, User> =
                    self.store.users_by_ids(org_id, &ids).await?.into_iter().map(|u| (u.id, u)).collect();
                page.into_iter().filter_map(|(id, key)| users.remove(&id).map(|u| (u, key))).collect()
            }
            Candidates::NoIndex | Candidates::TooMany => {
                let seek = Seek { org_id, filter: &filter, sort, descending, after: after.clone(), limit: want };
                let mut rows = self.store.users_sorted(&seek).await?;
                // The walk tested substrings; exact user ID and email matches join
                // here, in their place. The first `want` of the union are right:
                // any substring match among them was among the walk's `want`.
                if let Filter::Text { needle } = &filter {
                    let exact = self.store.users_exact(org_id, needle, sort).await?;
                    rows.extend(exact.into_iter().filter(|(u, key)| beyond(key, &u.id)));
                    rows.sort_by(in_order);
                    rows.dedup_by(|a, b| a.0.id == b.0.id);
                    rows.truncate(want as usize);
                }
                rows
            }
        };
        let next_cursor = match rows.get(limit as usize - 1) {
            Some((u, k)) if rows.len() > limit as usize => {
                Some(encode_cursor(self.cursor_key().await?, sort, descending, k, u.id)?)
            }
            _ => None,
        };
        let items = rows.into_iter().take(limit as usize).map(|(u, _)| u).collect();
        Ok(UserPage { items, next_cursor, sort, descending })
    }

    /// The organization's users sorted by last name, one page: [`Usher::search_users`]
    /// without a search.
    pub async fn list_users(&self, p: &Principal, cursor: Option<&str>, limit: u32) -> Result<UserPage> {
        let _manager = &policy::authorize(p, Operation::ReadUsers)?;

        let query = UserQuery {
            cursor: cursor.map(str::to_owned),
            limit: Some(limit.clamp(1, MAX_LIMIT)),
            ..UserQuery::default()
        };
        self.search_users(p, &query).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_follow_the_reference_rules() {
        assert_eq!(parse_query("  "), Some(Filter::All));
        assert_eq!(parse_query("Dav"), Some(Filter::Text { needle: "dav".into() }));
        assert_eq!(parse_query("ИВАН"), Some(Filter::Text { needle: "иван".into() }));
        assert_eq!(
            parse_query("departments:Sales"),
            Some(Filter::Metadata { field: "departments".into(), needle: "sales".into() })
        );
        assert_eq!(parse_query("departments:"), None, "empty text after the colon finds nothing");
        assert_eq!(parse_query("departments:   "), None);
        // Not a field name before the colon: plain text.
        assert_eq!(parse_query("12:30"), Some(Filter::Text { needle: "12:30".into() }));
        assert_eq!(parse_query("a\u{1}b"), Some(Filter::Text { needle: "ab".into() }));
    }

    #[test]
    fn cursors_round_trip_and_belong_to_their_order() {
        let secret = [1u8; 32];
        let id = UserId::generate();
        let c = encode_cursor(&secret, SortColumn::LastName, false, &SortKey::Text("smith".into()), id).unwrap();
        assert_eq!(
            decode_cursor(&secret, &c, SortColumn::LastName, false).unwrap(),
            (SortKey::Text("smith".into()), id)
        );
        assert!(decode_cursor(&secret, &c, SortColumn::LastName, true).is_err());
        assert!(decode_cursor(&secret, &c, SortColumn::Role, false).is_err());
        assert!(decode_cursor(&secret, &c, SortColumn::FirstName, false).is_err());
        assert!(decode_cursor(&[2u8; 32], &c, SortColumn::LastName, false).is_err());
        assert!(decode_cursor(&secret, "not a cursor", SortColumn::LastName, false).is_err());
        let r = encode_cursor(&secret, SortColumn::Role, true, &SortKey::Int(3), id).unwrap();
        assert!(decode_cursor(&secret, &r, SortColumn::Role, true).is_ok());
    }

    #[test]
    fn cursor_keys_must_fit_their_column() {
        let time = SortKey::Time(chrono::DateTime::UNIX_EPOCH);
        assert!(key_fits(&SortKey::Int(4), SortColumn::Role));
        assert!(!key_fits(&SortKey::Int(99999), SortColumn::Role));
        assert!(!key_fits(&SortKey::Text("x".into()), SortColumn::Role));
        assert!(!key_fits(&SortKey::Int(1), SortColumn::LastLoginAt));
        assert!(key_fits(&time, SortColumn::LastLoginAt));
        assert!(!key_fits(&time, SortColumn::LastName));
        assert!(key_fits(&SortKey::Text("smith".into()), SortColumn::LastName));
        assert!(!key_fits(&SortKey::Text("a\u{0}b".into()), SortColumn::LastName));
        let ancient = DateTime::<Utc>::MIN_UTC;
        assert!(!key_fits(&SortKey::Time(ancient), SortColumn::CreatedAt));
    }

    #[test]
    fn bad_orders_are_reported_together() {
        let q = UserQuery {
            sort: Some("shoe_size".into()),
            order: Some("up".into()),
            limit: Some(0),
            ..Default::default()
        };
        let err = parse_order(&q).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["sort", "order", "limit"]);
        assert_eq!(parse_order(&UserQuery::default()).unwrap(), (SortColumn::LastName, false, DEFAULT_LIMIT));
    }
}
