//! The Users page (Administrators and User Managers): search with the reference
//! syntax, sortable headers, a column chooser remembered in a cookie, pages by
//! cursor, and the custom-metadata tooltip. Works without JavaScript.

use askama::Template;
use axum::{
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::Response,
};
use serde::Deserialize;
use usher_core::{
    Error,
    directory::{SortColumn, UserQuery},
    metadata::{MetadataField, value_text},
    store::User,
};
use usher_domain::TimeZone;

use super::{
    i18n::{Tr, local_time_short},
    page::{Layout, SignedIn, WebQuery, WebResult, render},
};
use crate::app::AppState;

/// Users a page.
const PAGE: u32 = 50;
/// The cookie that remembers the chosen columns.
const COLUMNS_COOKIE: &str = "usher_user_columns";

/// A column of the list: its name (for `sort=` and the cookie), whether it sorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    UserId,
    FirstName,
    LastName,
    Email,
    Phone,
    Role,
    Status,
    CreatedAt,
    LastLoginAt,
    /// The custom metadata tooltip (only when the organization has fields).
    Metadata,
}

impl Column {
    pub const ALL: [Column; 10] = [
        Column::UserId,
        Column::FirstName,
        Column::LastName,
        Column::Email,
        Column::Phone,
        Column::Role,
        Column::Status,
        Column::CreatedAt,
        Column::LastLoginAt,
        Column::Metadata,
    ];
    const DEFAULT: [Column; 8] = [
        Column::UserId,
        Column::FirstName,
        Column::LastName,
        Column::Email,
        Column::Role,
        Column::Status,
        Column::LastLoginAt,
        Column::Metadata,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Column::UserId => "user_id",
            Column::FirstName => "first_name",
            Column::LastName => "last_name",
            Column::Email => "email",
            Column::Phone => "phone",
            Column::Role => "role",
            Column::Status => "status",
            Column::CreatedAt => "created_at",
            Column::LastLoginAt => "last_login_at",
            Column::Metadata => "metadata",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }

    fn sort(self) -> Option<SortColumn> {
        SortColumn::parse(self.name())
    }
}

/// The query string: search, order, page, and the column chooser's boxes
/// (`col`, once per ticked box, with `columns=1` when the chooser was sent).
#[derive(Debug, Default, Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub struct ListParams {
    q: String,
    sort: String,
    order: String,
    cursor: String,
    deleted: bool,
    chooser: bool,
    cols: Vec<String>,
}

impl From<Vec<(String, String)>> for ListParams {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut p = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "q" => p.q = value,
                "sort" => p.sort = value,
                "order" => p.order = value,
                "cursor" => p.cursor = value,
                "deleted" => p.deleted = true,
                "columns" => p.chooser = true,
                "col" => p.cols.push(value),
                _ => {}
            }
        }
        p
    }
}

/// One header cell: a link that sorts by the column (or reverses the order).
pub struct HeaderView {
    pub label: String,
    pub href: Option<String>,
    /// `ascending` / `descending` on the sorted column, for `aria-sort`.
    pub aria_sort: Option<&'static str>,
    pub arrow: &'static str,
    pub class: &'static str,
}

/// One cell of a row.
pub struct CellView {
    pub label: String,
    pub text: String,
    pub href: Option<String>,
    pub badges: Vec<String>,
    /// "Label: value" lines of the metadata tooltip.
    pub tip: Vec<String>,
    pub class: &'static str,
}

pub struct RowView {
    pub cells: Vec<CellView>,
    pub tokens_href: String,
    pub tokens_label: String,
}

/// A box of the column chooser.
pub struct ColumnChoice {
    pub name: &'static str,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    l: Layout,
    notice: Option<String>,
    q: String,
    sort: &'static str,
    order: &'static str,
    headers: Vec<HeaderView>,
    rows: Vec<RowView>,
    choices: Vec<ColumnChoice>,
    next: Option<String>,
    first: Option<String>,
    searched: bool,
}

fn href(q: &str, sort: &str, order: &str, cursor: Option<&str>) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    if !q.is_empty() {
        s.append_pair("q", q);
    }
    s.append_pair("sort", sort).append_pair("order", order);
    if let Some(c) = cursor {
        s.append_pair("cursor", c);
    }
    format!("/admin/users?{}", s.finish())
}

/// The columns shown: from the chooser when sent, else the cookie, else the default.
fn chosen(p: &ListParams, headers: &HeaderMap) -> Vec<Column> {
    let from = |names: &mut dyn Iterator<Item = &str>| -> Vec<Column> {
        let picked: Vec<Column> = names.filter_map(Column::parse).collect();
        Column::ALL.into_iter().filter(|c| picked.contains(c)).collect()
    };
    if p.chooser {
        return from(&mut p.cols.iter().map(String::as_str));
    }
    let cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == COLUMNS_COOKIE)
        .map(|(_, v)| v.to_owned());
    match cookie {
        Some(v) => from(&mut v.split('.')),
        None => Column::DEFAULT.to_vec(),
    }
}

fn label(t: Tr, c: Column) -> String {
    t.get(&format!("directory.columns.{}", c.name())).into_owned()
}

fn cell(t: Tr, tz: TimeZone, c: Column, u: &User, fields: &[MetadataField]) -> CellView {
    let dash = || t.get("users.none").into_owned();
    let text = |v: Option<&String>| v.filter(|s| !s.trim().is_empty()).cloned().unwrap_or_else(dash);
    let mut view =
        CellView { label: label(t, c), text: String::new(), href: None, badges: vec![], tip: vec![], class: "" };
    match c {
        Column::UserId => {
            view.text = u.user_id.clone();
            view.href = Some(format!("/admin/users/{}", u.id));
            view.class = "user-id";
        }
        Column::FirstName => view.text = text(u.profile.first_name.as_ref()),
        Column::LastName => view.text = text(u.profile.last_name.as_ref()),
        Column::Email => {
            view.text = text(u.email.as_ref());
            view.class = "user-email";
        }
        Column::Phone => {
            view.text = text(u.profile.phone.as_ref());
            view.class = "nowrap";
        }
        Column::Role => {
            view.badges = u.roles.iter().map(|r| t.get(&format!("roles.{}", r.as_str())).into_owned()).collect()
        }
        Column::Status => view.text = t.get(&format!("users.statuses.{}", u.status.as_str())).into_owned(),
        Column::CreatedAt => {
            view.text = local_time_short(u.created_at, tz);
            view.class = "nowrap";
        }
        Column::LastLoginAt => {
            view.text =
                u.last_login_at.map_or_else(|| t.get("users.never").into_owned(), |at| local_time_short(at, tz));
            view.class = "nowrap";
        }
        Column::Metadata => {
            view.tip = fields
                .iter()
                .filter_map(|f| u.metadata.get(&f.name).map(|v| format!("{}: {}", f.label, value_text(v))))
                .collect();
            view.class = "metadata";
        }
    }
    view
}

/// `GET /admin/users`: the organization's users, searched and sorted.
pub async fn users_page(
    State(state): State<AppState>,
    me: SignedIn,
    headers: HeaderMap,
    WebQuery(p): WebQuery<ListParams>,
) -> WebResult<Response> {
    let manager = &me.0;
    let fields = state.usher.metadata_fields_for(manager).await.map_err(|e| me.core_error(e))?;
    let mut columns = chosen(&p, &headers);
    let cookie_value: String = columns.iter().map(|c| c.name()).collect::<Vec<_>>().join(".");
    if fields.is_empty() {
        columns.retain(|c| *c != Column::Metadata);
    }
    let query = UserQuery {
        q: Some(p.q.clone()),
        sort: Some(p.sort.clone()),
        order: Some(p.order.clone()),
        cursor: Some(p.cursor.clone()),
        limit: Some(PAGE),
    };
    let page = match state.usher.search_users(manager, &query).await {
        Ok(page) => page,
        Err(Error::Invalid(_)) => return Err(me.error(StatusCode::BAD_REQUEST, "bad_request")),
        Err(e) => return Err(me.core_error(e)),
    };
    let t = me.t();
    let tz = me.0.user.profile.timezone;
    let (sort, order) = (page.sort.as_str(), if page.descending { "desc" } else { "asc" });
    let headers_view = columns
        .iter()
        .map(|&c| {
            let sorted = c.sort().filter(|s| *s == page.sort);
            HeaderView {
                label: label(t, c),
                href: c.sort().map(|s| {
                    let next = if sorted.is_some() && !page.descending { "desc" } else { "asc" };
                    href(&p.q, s.as_str(), next, None)
                }),
                aria_sort: sorted.map(|_| if page.descending { "descending" } else { "ascending" }),
                arrow: match sorted {
                    Some(_) if page.descending => "▼",
                    Some(_) => "▲",
                    None => "",
                },
                class: if c == Column::Metadata { "metadata" } else { "" },
            }
        })
        .collect();
    let rows = page
        .items
        .iter()
        .map(|u| RowView {
            cells: columns.iter().map(|&c| cell(t, tz, c, u, &fields)).collect(),
            tokens_href: format!("/admin/users/{}/tokens", u.id),
            tokens_label: t.with("users.tokens_of", "name", u.display_name()),
        })
        .collect();
    let choices = Column::ALL
        .into_iter()
        .filter(|c| *c != Column::Metadata || !fields.is_empty())
        .map(|c| ColumnChoice { name: c.name(), label: label(t, c), checked: columns.contains(&c) })
        .collect();
    let view = UsersPage {
        l: me.layout("users.title", "users"),
        notice: p.deleted.then(|| t.get("user_admin.deleted").into_owned()),
        q: p.q.clone(),
        sort,
        order,
        headers: headers_view,
        rows,
        choices,
        next: page.next_cursor.as_deref().map(|c| href(&p.q, sort, order, Some(c))),
        first: (!p.cursor.is_empty()).then(|| href(&p.q, sort, order, None)),
        searched: !p.q.trim().is_empty(),
    };
    let mut response = render(StatusCode::OK, &view);
    if p.chooser {
        let cookie =
            format!("{COLUMNS_COOKIE}={cookie_value}; Path=/admin/users; Max-Age=31536000; SameSite=Lax; HttpOnly");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use super::*;

    #[test]
    fn every_column_has_a_label_in_every_language() {
        for lang in Language::ALL {
            for c in Column::ALL {
                assert!(Tr(lang).try_get(&format!("directory.columns.{}", c.name())).is_some(), "{lang}: {c:?}");
            }
        }
    }

    #[test]
    fn the_chooser_wins_then_the_cookie_then_the_default() {
        let mut headers = HeaderMap::new();
        assert_eq!(chosen(&ListParams::default(), &headers), Column::DEFAULT);
        headers.insert(header::COOKIE, HeaderValue::from_static("a=b; usher_user_columns=email.user_id.bogus"));
        assert_eq!(chosen(&ListParams::default(), &headers), [Column::UserId, Column::Email]);
        let sent = ListParams::from(vec![("columns".into(), "1".into()), ("col".into(), "phone".into())]);
        assert_eq!(chosen(&sent, &headers), [Column::Phone]);
        assert_eq!(href("dav", "last_name", "desc", None), "/admin/users?q=dav&sort=last_name&order=desc");
    }
}
