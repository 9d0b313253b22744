//! The Groups pages (Administrators and User Managers): the list with a create
//! form, and one group's page (rename, members, delete). Also the form helpers
//! the other access pages share.

use askama::Template;
use axum::{
    Form,
    extract::{
        Path, State,
        rejection::{FormRejection, PathRejection},
    },
    http::StatusCode,
};
use serde::Deserialize;
use usher_core::{
    Conflict, Error,
    access::{
        DESCRIPTION_MAX, Group, GroupInput, NAME_MAX, URL_MAX,
        policy::{self, Operation},
    },
    store::User,
};
use usher_domain::{FieldError, GroupId, UserId};

use super::{
    confirm::{self, Confirm},
    i18n::Tr,
    page::{CsrfForm, FieldErrors, Input, Layout, SignedIn, WebQuery, WebResult, render, see_other},
};
use crate::{app::AppState, extract::Ctx};

/// A posted form read from its raw pairs, as checkboxes repeat their name.
#[derive(Debug, Default, Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub struct Pairs(Vec<(String, String)>);

impl From<Vec<(String, String)>> for Pairs {
    fn from(pairs: Vec<(String, String)>) -> Self {
        Self(pairs)
    }
}

impl Pairs {
    /// The first value of `key`, or "".
    pub fn get(&self, key: &str) -> &str {
        self.0.iter().find(|(k, _)| k == key).map_or("", |(_, v)| v.as_str())
    }

    /// Every value of `key`, in order.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }
}

impl CsrfForm for Pairs {
    fn csrf_token(&self) -> &str {
        self.get("csrf_token")
    }
}

/// A field error of this area in the page's language, with the limits of
/// names, descriptions and URLs.
pub fn field_message(t: Tr, e: &FieldError) -> String {
    let n = match (e.field.as_str(), e.code.as_str()) {
        ("name", "too_long") => NAME_MAX,
        ("description", "too_long") => DESCRIPTION_MAX,
        ("url", "too_long") => URL_MAX,
        _ => 0,
    };
    // `roles[2].app_id` → `app_id`: role assignments carry their position.
    let base = e.field.rsplit('.').next().unwrap_or(&e.field);
    let specific = t.try_get(&format!("access.errors.{base}_{}", e.code));
    match specific.or_else(|| t.try_get(&format!("access.errors.{}", e.code))) {
        Some(msg) => rust_i18n::replace_patterns(&msg, &["n"], &[n.to_string()]),
        None => t.field_error(e, None),
    }
}

/// Field errors keyed by field, translated.
pub fn field_errors(t: Tr, errors: &[FieldError]) -> FieldErrors {
    let mut out = FieldErrors::default();
    for e in errors {
        out.add(&e.field, field_message(t, e));
    }
    out
}

/// A path that does not hold the ids it should names no page.
pub fn path<T>(me: &SignedIn, path: Result<Path<T>, PathRejection>) -> WebResult<T> {
    path.map(|Path(v)| v).map_err(|_| me.error(StatusCode::NOT_FOUND, "not_found"))
}

/// `?done=` after a change, and `?cursor=` of lists.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    pub done: Option<String>,
    pub cursor: Option<String>,
}

impl PageQuery {
    /// The notice for `done`, from `access.done.*`.
    pub fn notice(&self, t: Tr) -> Option<String> {
        let done = self.done.as_deref()?;
        done.bytes()
            .all(|b| b.is_ascii_lowercase() || b == b'_')
            .then(|| t.try_get(&format!("access.done.{done}")))?
            .map(|c| c.into_owned())
    }

    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref().filter(|c| !c.is_empty())
    }
}

/// A multi-line text box with its label and errors.
pub struct TextArea {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    pub errors: Vec<String>,
}

impl TextArea {
    pub fn new(t: Tr, name: &'static str, label_key: &str, value: &str, errors: &FieldErrors) -> Self {
        Self { name, label: t.get(label_key).into_owned(), value: value.to_owned(), errors: errors.get(name).to_vec() }
    }
}

/// Someone listed on a group or app page.
pub struct PersonRow {
    pub id: UserId,
    pub user_id: String,
    pub name: String,
    pub email: String,
}

impl PersonRow {
    pub fn of(t: Tr, u: &User) -> Self {
        Self {
            id: u.id,
            user_id: u.user_id.clone(),
            name: u.display_name(),
            email: u.email.clone().unwrap_or_else(|| t.get("users.none").into_owned()),
        }
    }
}

/// The directory's matches for a name that named nobody exactly, offered to
/// choose from (the search-then-choose page without JavaScript). Empty when
/// the caller may not search the directory.
pub async fn suggestions(state: &AppState, me: &SignedIn, text: &str) -> Vec<PersonRow> {
    let text = text.trim();
    if text.chars().count() < 2 {
        return Vec::new();
    }
    let query = usher_core::directory::UserQuery { q: Some(text.to_owned()), limit: Some(8), ..Default::default() };
    match state.usher.search_users(&me.0, &query).await {
        Ok(page) => page.items.iter().map(|u| PersonRow::of(me.t(), u)).collect(),
        Err(_) => Vec::new(),
    }
}

/// A group in the list.
pub struct GroupRow {
    pub href: String,
    pub name: String,
    pub description: String,
    pub members: u64,
}

#[derive(Template)]
#[template(path = "admin_groups.html")]
struct GroupsPage {
    l: Layout,
    csrf: String,
    notice: Option<String>,
    problem: Option<String>,
    summary: bool,
    name: Input,
    description: TextArea,
    rows: Vec<GroupRow>,
    next: Option<String>,
    first: Option<&'static str>,
    /// May create groups (else the list is read-only).
    may_manage: bool,
}

#[derive(Template)]
#[template(path = "admin_groups_edit.html")]
struct GroupPage {
    l: Layout,
    csrf: String,
    base: String,
    heading: String,
    notice: Option<String>,
    problem: Option<String>,
    summary: bool,
    name: Input,
    description: TextArea,
    add: Input,
    /// Near matches of a name that named nobody, to choose from.
    suggestions: Vec<PersonRow>,
    members: Vec<PersonRow>,
    members_base: String,
    member_count: u64,
    next: Option<String>,
    first: Option<String>,
    /// May edit the group and see its members (else name, description and count only).
    may_manage: bool,
    description_text: String,
}

fn list_href(base: &str, cursor: &str) -> String {
    let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("cursor", cursor).finish();
    format!("{base}?{q}")
}

struct ListOutcome {
    name: String,
    description: String,
    errors: Vec<FieldError>,
    notice: Option<String>,
    problem: Option<String>,
}

async fn show_list(state: &AppState, me: &SignedIn, q: &PageQuery, o: ListOutcome, status: StatusCode) -> WebResult {
    let t = me.t();
    let page = match state.usher.groups(&me.0, q.cursor(), 50).await {
        Ok(page) => page,
        Err(Error::Invalid(_)) => return Err(me.error(StatusCode::BAD_REQUEST, "bad_request")),
        Err(e) => return Err(me.core_error(e)),
    };
    let errors = field_errors(t, &o.errors);
    let rows = page
        .items
        .iter()
        .map(|g| GroupRow {
            href: format!("/admin/groups/{}", g.id),
            name: g.name.clone(),
            description: g.description.clone(),
            members: g.member_count,
        })
        .collect();
    let page = GroupsPage {
        l: me.layout("access.groups.title", "groups"),
        csrf: me.nav().csrf,
        notice: o.notice,
        problem: o.problem,
        summary: !errors.is_empty(),
        name: Input::new(t, "name", "access.groups.name", &o.name).required().errors(&errors),
        description: TextArea::new(t, "description", "access.groups.description", &o.description, &errors),
        rows,
        next: page.next_cursor.as_deref().map(|c| list_href("/admin/groups", c)),
        first: q.cursor().map(|_| "/admin/groups"),
        may_manage: policy::permits(&me.0, Operation::ManageGroups),
    };
    Ok(render(status, &page))
}

/// `GET /admin/groups`: the organization's groups, and a form to create one.
pub async fn groups_page(State(state): State<AppState>, me: SignedIn, WebQuery(q): WebQuery<PageQuery>) -> WebResult {
    let o = ListOutcome {
        name: String::new(),
        description: String::new(),
        errors: vec![],
        notice: q.notice(me.t()),
        problem: None,
    };
    show_list(&state, &me, &q, o, StatusCode::OK).await
}

/// `POST /admin/groups`: creates a group and opens it.
pub async fn create_group(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<Pairs>, FormRejection>,
) -> WebResult {
    let form = me.accept(form)?;
    let input =
        GroupInput { name: Some(form.get("name").to_owned()), description: Some(form.get("description").to_owned()) };
    let mut o = ListOutcome {
        name: form.get("name").to_owned(),
        description: form.get("description").to_owned(),
        errors: vec![],
        notice: None,
        problem: None,
    };
    match state.usher.create_group(&ctx, &me.0, input).await {
        Ok(g) => return Ok(see_other(&format!("/admin/groups/{}?done=created", g.id))),
        Err(Error::Invalid(e)) => o.errors = e.0,
        Err(Error::Conflict(Conflict::GroupNameTaken)) => {
            o.errors = vec![FieldError::new("name", "group_name_taken", "A group with this name already exists.")]
        }
        Err(e) => return Err(me.core_error(e)),
    }
    let status = if o.errors.iter().any(|e| e.code == "group_name_taken") {
        StatusCode::CONFLICT
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    show_list(&state, &me, &PageQuery::default(), o, status).await
}

struct GroupOutcome {
    name: Option<String>,
    description: Option<String>,
    add: String,
    suggestions: Vec<PersonRow>,
    errors: Vec<FieldError>,
    notice: Option<String>,
    problem: Option<String>,
}

impl GroupOutcome {
    fn notice(notice: Option<String>) -> Self {
        let add = String::new();
        Self { name: None, description: None, add, suggestions: vec![], errors: vec![], notice, problem: None }
    }
}

async fn show_group(
    state: &AppState,
    me: &SignedIn,
    group: Group,
    cursor: Option<&str>,
    o: GroupOutcome,
    status: StatusCode,
) -> WebResult {
    let t = me.t();
    let may_manage = policy::permits(&me.0, Operation::ManageGroups);
    let members = match state.usher.group_members(&me.0, group.id, cursor, 100).await {
        Ok(page) => page,
        Err(Error::Forbidden(_)) if !may_manage => usher_core::access::Page { items: vec![], next_cursor: None },
        Err(Error::Invalid(_)) => return Err(me.error(StatusCode::BAD_REQUEST, "bad_request")),
        Err(e) => return Err(me.core_error(e)),
    };
    let errors = field_errors(t, &o.errors);
    let base = format!("/admin/groups/{}", group.id);
    let page = GroupPage {
        l: me.layout("access.groups.edit_title", "groups"),
        csrf: me.nav().csrf,
        heading: t.with("access.groups.edit_heading", "name", &group.name),
        notice: o.notice,
        problem: o.problem,
        summary: !errors.is_empty(),
        name: Input::new(t, "name", "access.groups.name", o.name.as_deref().unwrap_or(&group.name))
            .required()
            .errors(&errors),
        description: TextArea::new(
            t,
            "description",
            "access.groups.description",
            o.description.as_deref().unwrap_or(&group.description),
            &errors,
        ),
        add: Input::new(t, "user", "access.people.add_label", &o.add)
            .hint(t, "access.people.add_hint")
            .autocomplete("off")
            .picker()
            .errors(&errors),
        suggestions: o.suggestions,
        members: members.items.iter().map(|u| PersonRow::of(t, u)).collect(),
        members_base: format!("{base}/members"),
        member_count: group.member_count,
        next: members.next_cursor.as_deref().map(|c| list_href(&base, c)),
        first: cursor.map(|_| base.clone()),
        base,
        may_manage,
        description_text: group.description.clone(),
    };
    Ok(render(status, &page))
}

/// `GET /admin/groups/{id}`: rename, members, delete.
pub async fn group_page(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<GroupId>, PathRejection>,
    WebQuery(q): WebQuery<PageQuery>,
) -> WebResult {
    let id = path(&me, id)?;
    let group = state.usher.group(&me.0, id).await.map_err(|e| me.core_error(e))?;
    show_group(&state, &me, group, q.cursor(), GroupOutcome::notice(q.notice(me.t())), StatusCode::OK).await
}

/// `POST /admin/groups/{id}`: saves name and description.
pub async fn save_group(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<GroupId>, PathRejection>,
    form: Result<Form<Pairs>, FormRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let form = me.accept(form)?;
    let (name, description) = (form.get("name").to_owned(), form.get("description").to_owned());
    let input = GroupInput { name: Some(name.clone()), description: Some(description.clone()) };
    let (errors, status) = match state.usher.update_group(&ctx, &me.0, id, input).await {
        Ok(g) => return Ok(see_other(&format!("/admin/groups/{}?done=saved", g.id))),
        Err(Error::Invalid(e)) => (e.0, StatusCode::UNPROCESSABLE_ENTITY),
        Err(Error::Conflict(Conflict::GroupNameTaken)) => (
            vec![FieldError::new("name", "group_name_taken", "A group with this name already exists.")],
            StatusCode::CONFLICT,
        ),
        Err(e) => return Err(me.core_error(e)),
    };
    let group = state.usher.group(&me.0, id).await.map_err(|e| me.core_error(e))?;
    let o = GroupOutcome { name: Some(name), description: Some(description), errors, ..GroupOutcome::notice(None) };
    show_group(&state, &me, group, None, o, status).await
}

/// `POST /admin/groups/{id}/members`: adds the member named by user ID or email.
pub async fn add_member(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<GroupId>, PathRejection>,
    form: Result<Form<Pairs>, FormRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let form = me.accept(form)?;
    let login = form.get("user").to_owned();
    match state.usher.add_group_member_by_name(&ctx, &me.0, id, &login).await {
        Ok(()) => Ok(see_other(&format!("/admin/groups/{id}?done=member_added"))),
        Err(Error::Invalid(e)) => {
            let group = state.usher.group(&me.0, id).await.map_err(|e| me.core_error(e))?;
            let suggestions = suggestions(&state, &me, &login).await;
            let o = GroupOutcome { add: login, suggestions, errors: e.0, ..GroupOutcome::notice(None) };
            show_group(&state, &me, group, None, o, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(me.core_error(e)),
    }
}

/// `POST /admin/groups/{id}/members/{user_id}/remove`.
pub async fn remove_member(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    ids: Result<Path<(GroupId, UserId)>, PathRejection>,
    form: Result<Form<Pairs>, FormRejection>,
) -> WebResult {
    let (id, user) = path(&me, ids)?;
    me.accept(form)?;
    match state.usher.remove_group_member(&ctx, &me.0, id, user).await {
        // Already gone (another tab, another administrator): the list says so.
        Ok(()) | Err(Error::NotFound) => Ok(see_other(&format!("/admin/groups/{id}?done=member_removed"))),
        Err(e) => Err(me.core_error(e)),
    }
}

/// `GET /admin/groups/{id}/delete`: what deleting the group loses, and the form that does it.
pub async fn confirm_delete_group(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<GroupId>, PathRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    me.refused_unless(Operation::ManageGroups)?;
    let group = state.usher.group(&me.0, id).await.map_err(|e| me.core_error(e))?;
    let t = me.t();
    let base = format!("/admin/groups/{id}");
    let c = Confirm::new(
        t.with("confirm.delete_group", "name", &group.name),
        format!("{base}/delete"),
        t.get("access.groups.delete").into_owned(),
        base,
    )
    .line(t.with("confirm.delete_group_members", "n", group.member_count))
    .warning(t.get("confirm.final").into_owned());
    confirm::page(&me, "groups", c)
}

/// `POST /admin/groups/{id}/delete`.
pub async fn delete_group(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<GroupId>, PathRejection>,
    form: Result<Form<Pairs>, FormRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    me.accept(form)?;
    state.usher.delete_group(&ctx, &me.0, id).await.map_err(|e| me.core_error(e))?;
    Ok(see_other("/admin/groups?done=group_deleted"))
}

#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use super::*;

    #[test]
    fn forms_keep_repeated_fields_and_notices_come_from_the_catalog() {
        let pairs = [("csrf_token", "c"), ("org", "user"), ("org", "developer"), ("x", "")];
        let form = Pairs::from(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>());
        assert_eq!((form.csrf_token(), form.all("org"), form.get("missing")), ("c", vec!["user", "developer"], ""));
        let t = Tr(Language::Fr);
        let q = PageQuery { done: Some("saved".into()), cursor: None };
        assert!(q.notice(t).is_some());
        assert_eq!(PageQuery { done: Some("../x".into()), cursor: None }.notice(t), None);
        let e = FieldError::new("name", "too_long", "x");
        assert!(field_message(Tr(Language::En), &e).contains("100"));
    }
}
