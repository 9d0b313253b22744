//! The Apps pages: the list with a create form (Administrators, User Managers,
//! Developers), and one app's page: details, owners, developers, groups with
//! access and deletion, each part shown as editable only to whoever the policy
//! lets change it (`usher_core::access::policy`).

use askama::Template;
use axum::{
    Form,
    extract::{
        Path, State,
        rejection::{FormRejection, PathRejection},
    },
    http::StatusCode,
};
use usher_core::{
    Conflict, Error,
    access::{
        AppChange, AppDetails, AppInput,
        policy::{self, Operation},
    },
};
use usher_domain::{AppId, AppRole, FieldError, GroupId, UserId};

use super::{
    confirm::{self, Confirm},
    groups::{PageQuery, Pairs, PersonRow, TextArea, field_errors, path},
    page::{Input, Layout, SignedIn, WebQuery, WebResult, render, see_other},
};
use crate::{app::AppState, extract::Ctx};

/// An app in the list.
pub struct AppRow {
    pub href: String,
    pub name: String,
    pub description: String,
    pub url: Option<String>,
}

#[derive(Template)]
#[template(path = "admin_apps.html")]
struct AppsPage {
    l: Layout,
    csrf: String,
    notice: Option<String>,
    may_create: bool,
    summary: bool,
    name: Input,
    description: TextArea,
    url: Input,
    rows: Vec<AppRow>,
    next: Option<String>,
    first: Option<&'static str>,
}

/// One group's box in the "groups with access" list.
pub struct GroupBox {
    pub id: GroupId,
    pub name: String,
    pub checked: bool,
}

/// The owners or developers section.
pub struct PeopleSection {
    pub id: &'static str,
    pub title: String,
    pub empty: String,
    pub rows: Vec<PersonRow>,
    pub editable: bool,
    pub base: String,
    pub add: Input,
    /// Near matches of a name that named nobody, to choose from.
    pub suggestions: Vec<PersonRow>,
}

#[derive(Template)]
#[template(path = "admin_apps_edit.html")]
struct AppPage {
    l: Layout,
    csrf: String,
    base: String,
    back: &'static str,
    back_label: &'static str,
    heading: String,
    notice: Option<String>,
    summary: bool,
    may_edit: bool,
    may_delete: bool,
    name: Input,
    description: TextArea,
    url: Input,
    app_url: Option<String>,
    app_description: String,
    sections: Vec<PeopleSection>,
    groups: Vec<GroupBox>,
    group_errors: Vec<String>,
}

/// What to show; the services refuse anyway.
fn may(me: &SignedIn, op: Operation) -> bool {
    policy::permits(&me.0, op)
}

/// The form's values, kept on errors.
#[derive(Default)]
struct Values {
    name: String,
    description: String,
    url: String,
}

impl Values {
    fn of(form: &Pairs) -> Self {
        Self {
            name: form.get("name").to_owned(),
            description: form.get("description").to_owned(),
            url: form.get("url").to_owned(),
        }
    }

    fn input(&self) -> AppInput {
        AppInput {
            name: Some(self.name.clone()),
            description: Some(self.description.clone()),
            url: Some(Some(self.url.clone()).filter(|u| !u.trim().is_empty())),
        }
    }
}

async fn show_list(
    state: &AppState,
    me: &SignedIn,
    q: &PageQuery,
    values: Values,
    errors: Vec<FieldError>,
    status: StatusCode,
) -> WebResult {
    let t = me.t();
    let page = match state.usher.apps(&me.0, q.cursor(), 50).await {
        Ok(page) => page,
        Err(Error::Invalid(_)) => return Err(me.error(StatusCode::BAD_REQUEST, "bad_request")),
        Err(e) => return Err(me.core_error(e)),
    };
    let errors = field_errors(t, &errors);
    let page = AppsPage {
        l: me.layout("access.apps.title", "apps"),
        csrf: me.nav().csrf,
        notice: q.notice(t),
        may_create: may(me, Operation::CreateApp),
        summary: !errors.is_empty(),
        name: Input::new(t, "name", "access.apps.name", &values.name).required().errors(&errors),
        description: TextArea::new(t, "description", "access.apps.description", &values.description, &errors),
        url: Input::new(t, "url", "access.apps.url", &values.url)
            .kind("url")
            .hint(t, "access.apps.url_hint")
            .errors(&errors),
        rows: page
            .items
            .iter()
            .map(|a| AppRow {
                href: format!("/admin/apps/{}", a.id),
                name: a.name.clone(),
                description: a.description.clone(),
                url: a.url.clone(),
            })
            .collect(),
        next: page.next_cursor.as_deref().map(|c| {
            let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("cursor", c).finish();
            format!("/admin/apps?{q}")
        }),
        first: q.cursor().map(|_| "/admin/apps"),
    };
    Ok(render(status, &page))
}

/// `GET /admin/apps`: every app, and a form to create one.
pub async fn apps_page(State(state): State<AppState>, me: SignedIn, WebQuery(q): WebQuery<PageQuery>) -> WebResult {
    show_list(&state, &me, &q, Values::default(), vec![], StatusCode::OK).await
}

/// Name conflicts are shown on the name field.
fn name_taken() -> Vec<FieldError> {
    vec![FieldError::new("name", "app_name_taken", "An app with this name already exists.")]
}

/// `POST /admin/apps`: creates an app (its creator owns it) and opens it.
pub async fn create_app(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<Pairs>, FormRejection>,
) -> WebResult {
    let form = me.accept(form)?;
    let values = Values::of(&form);
    let (errors, status) = match state.usher.create_app(&ctx, &me.0, values.input(), None).await {
        Ok(d) => return Ok(see_other(&format!("/admin/apps/{}?done=created", d.app.id))),
        Err(Error::Invalid(e)) => (e.0, StatusCode::UNPROCESSABLE_ENTITY),
        Err(Error::Conflict(Conflict::AppNameTaken)) => (name_taken(), StatusCode::CONFLICT),
        Err(e) => return Err(me.core_error(e)),
    };
    show_list(&state, &me, &PageQuery::default(), values, errors, status).await
}

/// What the app page shows besides the app.
#[derive(Default)]
struct Outcome {
    values: Option<Values>,
    add_owner: String,
    add_developer: String,
    /// Near matches of the name just tried, for the section it was tried in.
    suggestions: Vec<PersonRow>,
    errors: Vec<FieldError>,
    notice: Option<String>,
}

async fn show_app(state: &AppState, me: &SignedIn, d: AppDetails, o: Outcome, status: StatusCode) -> WebResult {
    let t = me.t();
    let all_groups =
        if d.may_edit { state.usher.all_groups(&me.0).await.map_err(|e| me.core_error(e))? } else { vec![] };
    let groups = if d.may_edit {
        all_groups
            .iter()
            .map(|g| GroupBox { id: g.id, name: g.name.clone(), checked: d.groups.iter().any(|x| x.id == g.id) })
            .collect()
    } else {
        d.groups.iter().map(|g| GroupBox { id: g.id, name: g.name.clone(), checked: true }).collect()
    };
    let errors = field_errors(t, &o.errors);
    let base = format!("/admin/apps/{}", d.app.id);
    let values = o.values.unwrap_or_else(|| Values {
        name: d.app.name.clone(),
        description: d.app.description.clone(),
        url: d.app.url.clone().unwrap_or_default(),
    });
    let mut suggestions = Some(o.suggestions);
    let mut section = |id: &'static str, role: &str, editable: bool, rows: &[usher_core::store::User], add: &str| {
        let field: &'static str = if id == "owners" { "owner" } else { "developer" };
        PeopleSection {
            id,
            title: t.get(&format!("access.apps.{id}")).into_owned(),
            empty: t.get(&format!("access.apps.no_{id}")).into_owned(),
            rows: rows.iter().map(|u| PersonRow::of(t, u)).collect(),
            editable,
            base: format!("{base}/people/{role}"),
            add: Input::new(t, field, "access.people.add_label", add)
                .hint(t, "access.people.add_hint")
                .picker()
                .errors(&errors),
            suggestions: if add.is_empty() { Vec::new() } else { suggestions.take().unwrap_or_default() },
        }
    };
    let sections = vec![
        section("owners", AppRole::Owner.as_str(), d.may_set_owners, &d.owners, &o.add_owner),
        section("developers", AppRole::Developer.as_str(), d.may_set_developers, &d.developers, &o.add_developer),
    ];
    let page = AppPage {
        l: me.layout("access.apps.edit_title", "apps"),
        csrf: me.nav().csrf,
        back: if may(me, Operation::ListApps) { "/admin/apps" } else { "/apps" },
        back_label: if may(me, Operation::ListApps) { "access.apps.back" } else { "access.my_apps.back" },
        heading: d.app.name.clone(),
        notice: o.notice,
        summary: !errors.is_empty(),
        may_edit: d.may_edit,
        may_delete: d.may_delete,
        name: Input::new(t, "name", "access.apps.name", &values.name).required().errors(&errors),
        description: TextArea::new(t, "description", "access.apps.description", &values.description, &errors),
        url: Input::new(t, "url", "access.apps.url", &values.url)
            .kind("url")
            .hint(t, "access.apps.url_hint")
            .errors(&errors),
        app_url: d.app.url.clone(),
        app_description: d.app.description.clone(),
        sections,
        groups,
        group_errors: errors.get("groups").to_vec(),
        base,
    };
    Ok(render(status, &page))
}

/// `GET /admin/apps/{id}`.
pub async fn app_page(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<AppId>, PathRejection>,
    WebQuery(q): WebQuery<PageQuery>,
) -> WebResult {
    let id = path(&me, id)?;
    let d = state.usher.app(&me.0, id).await.map_err(|e| me.core_error(e))?;
    let o = Outcome { notice: q.notice(me.t()), ..Outcome::default() };
    show_app(&state, &me, d, o, StatusCode::OK).await
}

/// Shows the app again with the errors of a change that failed validation.
async fn failed(state: &AppState, me: &SignedIn, id: AppId, e: Error, o: Outcome) -> WebResult {
    let (errors, status) = match e {
        Error::Invalid(e) => (e.0, StatusCode::UNPROCESSABLE_ENTITY),
        Error::Conflict(Conflict::AppNameTaken) => (name_taken(), StatusCode::CONFLICT),
        e => return Err(me.core_error(e)),
    };
    let d = state.usher.app(&me.0, id).await.map_err(|e| me.core_error(e))?;
    show_app(state, me, d, Outcome { errors, ..o }, status).await
}

/// `POST /admin/apps/{id}`: saves name, description and URL.
pub async fn save_app(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<AppId>, PathRejection>,
    form: Result<Form<Pairs>, FormRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let form = me.accept(form)?;
    let values = Values::of(&form);
    let change = AppChange { fields: values.input(), ..AppChange::default() };
    match state.usher.update_app(&ctx, &me.0, id, change).await {
        Ok(_) => Ok(see_other(&format!("/admin/apps/{id}?done=saved"))),
        Err(e) => failed(&state, &me, id, e, Outcome { values: Some(values), ..Outcome::default() }).await,
    }
}

/// `POST /admin/apps/{id}/groups`: the ticked groups get access.
pub async fn save_groups(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<AppId>, PathRejection>,
    form: Result<Form<Pairs>, FormRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let form = me.accept(form)?;
    let Ok(groups) = form.all("groups").into_iter().map(str::parse::<GroupId>).collect::<Result<Vec<_>, _>>() else {
        return Err(me.error(StatusCode::BAD_REQUEST, "bad_request"));
    };
    match state.usher.set_app_groups(&ctx, &me.0, id, groups).await {
        Ok(_) => Ok(see_other(&format!("/admin/apps/{id}?done=groups_saved"))),
        Err(e) => failed(&state, &me, id, e, Outcome::default()).await,
    }
}

fn role_of(me: &SignedIn, raw: &str) -> WebResult<AppRole> {
    raw.parse().map_err(|_| me.error(StatusCode::NOT_FOUND, "not_found"))
}

/// `POST /admin/apps/{id}/people/{role}`: adds an owner or developer by user ID or email.
pub async fn add_person(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    ids: Result<Path<(AppId, String)>, PathRejection>,
    form: Result<Form<Pairs>, FormRejection>,
) -> WebResult {
    let (id, role) = path(&me, ids)?;
    let role = role_of(&me, &role)?;
    let form = me.accept(form)?;
    let field = if role == AppRole::Owner { "owner" } else { "developer" };
    let login = form.get(field).to_owned();
    match state.usher.add_app_person(&ctx, &me.0, id, role, &login).await {
        Ok(_) => Ok(see_other(&format!("/admin/apps/{id}?done=person_added"))),
        Err(Error::Invalid(mut e)) => {
            for err in &mut e.0 {
                err.field = field.to_owned();
            }
            let suggestions = super::groups::suggestions(&state, &me, &login).await;
            let o = match role {
                AppRole::Owner => Outcome { add_owner: login, suggestions, ..Outcome::default() },
                AppRole::Developer => Outcome { add_developer: login, suggestions, ..Outcome::default() },
            };
            failed(&state, &me, id, Error::Invalid(e), o).await
        }
        Err(e) => Err(me.core_error(e)),
    }
}

/// `POST /admin/apps/{id}/people/{role}/{user_id}/remove`.
pub async fn remove_person(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    ids: Result<Path<(AppId, String, UserId)>, PathRejection>,
    form: Result<Form<Pairs>, FormRejection>,
) -> WebResult {
    let (id, role, user) = path(&me, ids)?;
    let role = role_of(&me, &role)?;
    me.accept(form)?;
    state.usher.remove_app_person(&ctx, &me.0, id, role, user).await.map_err(|e| me.core_error(e))?;
    Ok(see_other(&format!("/admin/apps/{id}?done=person_removed")))
}

/// `GET /admin/apps/{id}/delete`: what deleting the app loses, and the form that does it.
pub async fn confirm_delete_app(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<AppId>, PathRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    me.refused_unless(Operation::DeleteApp)?;
    let details = state.usher.app(&me.0, id).await.map_err(|e| me.core_error(e))?;
    let t = me.t();
    let base = format!("/admin/apps/{id}");
    let people = details.owners.len() + details.developers.len();
    let c = Confirm::new(
        t.with("confirm.delete_app", "name", &details.app.name),
        format!("{base}/delete"),
        t.get("access.apps.delete").into_owned(),
        base,
    )
    .line(t.with("confirm.delete_app_people", "n", people))
    .line(t.with("confirm.delete_app_groups", "n", details.groups.len()))
    .warning(t.get("confirm.final").into_owned());
    confirm::page(&me, "apps", c)
}

/// `POST /admin/apps/{id}/delete` (Administrators).
pub async fn delete_app(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<AppId>, PathRejection>,
    form: Result<Form<Pairs>, FormRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    me.accept(form)?;
    state.usher.delete_app(&ctx, &me.0, id).await.map_err(|e| me.core_error(e))?;
    Ok(see_other("/admin/apps?done=app_deleted"))
}
