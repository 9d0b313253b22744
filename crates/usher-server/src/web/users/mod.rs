//! The Users pages, for Administrators and User Managers: the organization's
//! users (each linking to their details and API tokens), "Create user", and each
//! user's details page with its actions.

mod create;
mod details;

use askama::Template;
use axum::{
    extract::{Path, State, rejection::PathRejection},
    http::StatusCode,
};
pub use create::{create_user, new_user_page};
pub use details::{
    confirm_delete_page, delete_user, disable_user, enable_user, end_sessions, reset_password, save_user, user_page,
};
use serde::Deserialize;
use usher_core::{Error, auth::Admin, store::User};
use usher_domain::TimeZone;

use super::{
    i18n::{Tr, local_time_short},
    page::{Layout, SignedIn, WebQuery, WebResult, render},
};
use crate::app::AppState;

/// The caller's proof of managing users, or the "access denied" page.
fn manager(me: &SignedIn) -> WebResult<Admin<'_>> {
    me.0.user_manager().map_err(|_| me.error(StatusCode::FORBIDDEN, "forbidden"))
}

/// A path that does not hold the ids it should names no page.
fn path<T>(me: &SignedIn, path: Result<Path<T>, PathRejection>) -> WebResult<T> {
    path.map(|Path(v)| v).map_err(|_| me.error(StatusCode::NOT_FOUND, "not_found"))
}

/// The address of a user's details page.
fn user_href(id: uuid::Uuid) -> String {
    format!("/admin/users/{id}")
}

/// Users a page.
const USERS_PAGE: u32 = 50;

/// One line of the users table, ready to show.
pub struct UserRow {
    pub user_id: String,
    pub href: String,
    pub name: String,
    pub email: String,
    pub roles: Vec<String>,
    pub status: String,
    pub last_login: String,
    pub tokens_href: String,
    pub tokens_label: String,
}

#[derive(Template)]
#[template(path = "admin_users.html")]
struct UsersPage {
    l: Layout,
    notice: Option<String>,
    last_login_heading: String,
    rows: Vec<UserRow>,
    next: Option<String>,
    first: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
pub struct UsersParams {
    cursor: Option<String>,
    /// Set after a deletion, to say so.
    deleted: Option<String>,
}

fn users_href(cursor: &str) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("cursor", cursor).finish();
    format!("/admin/users?{q}")
}

fn user_row(t: Tr, tz: TimeZone, u: User) -> UserRow {
    let dash = || t.get("users.none").into_owned();
    let name = [u.profile.first_name.as_deref(), u.profile.last_name.as_deref()]
        .into_iter()
        .flatten()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" ");
    UserRow {
        href: user_href(u.id),
        tokens_href: format!("/admin/users/{}/tokens", u.id),
        tokens_label: t.with("users.tokens_of", "name", u.display_name()),
        name: if name.is_empty() { dash() } else { name },
        email: u.email.clone().unwrap_or_else(dash),
        roles: u.roles.iter().map(|r| t.get(&format!("roles.{}", r.as_str())).into_owned()).collect(),
        status: t.get(&format!("users.statuses.{}", u.status.as_str())).into_owned(),
        last_login: u.last_login_at.map_or_else(|| t.get("users.never").into_owned(), |at| local_time_short(at, tz)),
        user_id: u.user_id,
    }
}

/// `GET /admin/users[?cursor=..]`: the organization's users in user-ID order,
/// [`USERS_PAGE`] a page, for administrators and user managers.
pub async fn users_page(State(state): State<AppState>, me: SignedIn, WebQuery(p): WebQuery<UsersParams>) -> WebResult {
    let manager = manager(&me)?;
    let cursor = p.cursor.as_deref().filter(|c| !c.is_empty());
    let page = match state.usher.list_users(&manager, cursor, USERS_PAGE).await {
        Ok(page) => page,
        Err(Error::Invalid(_)) => return Err(me.error(StatusCode::BAD_REQUEST, "bad_request")),
        Err(e) => return Err(me.core_error(e)),
    };
    let t = me.t();
    let tz = me.0.user.profile.timezone;
    let page = UsersPage {
        l: me.layout("users.title", "users"),
        notice: p.deleted.as_ref().map(|_| t.get("user_admin.deleted").into_owned()),
        last_login_heading: t.with("users.last_login", "n", tz.name()),
        rows: page.items.into_iter().map(|u| user_row(t, tz, u)).collect(),
        next: page.next_cursor.as_deref().map(users_href),
        first: cursor.map(|_| "/admin/users"),
    };
    Ok(render(StatusCode::OK, &page))
}

#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use super::*;

    #[test]
    fn every_status_has_words_in_every_language() {
        for lang in Language::ALL {
            for status in ["invited", "active", "disabled"] {
                assert!(Tr(lang).try_get(&format!("users.statuses.{status}")).is_some(), "{lang}: {status}");
            }
        }
    }

    #[test]
    fn next_page_links_carry_the_cursor() {
        assert_eq!(users_href("Ym9i"), "/admin/users?cursor=Ym9i");
    }
}
