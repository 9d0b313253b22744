//! The "Roles and groups" tab of a user (`/admin/users/{id}/roles`), for
//! Administrators and User Managers: organization roles as checkboxes, app
//! roles as a list plus one to add, and the user's groups. The form posts the
//! complete list, replaced in one transaction by the core.

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
    access::{Assignment, RolesOf, policy},
};
use usher_domain::{AppId, AppRole, Role, UserId};

use super::{
    groups::{PageQuery, Pairs, field_message, path},
    page::{Layout, SignedIn, WebQuery, WebResult, render, see_other},
};
use crate::{app::AppState, extract::Ctx};

/// An organization role's checkbox.
pub struct RoleBox {
    pub value: &'static str,
    pub label: String,
    pub hint: String,
    pub checked: bool,
    /// A User Manager cannot give or take the Administrator role.
    pub disabled: bool,
}

/// One app role the user has.
pub struct AppRoleRow {
    pub value: String,
    pub label: String,
    pub href: String,
}

/// An option of a drop-down list.
pub struct Opt {
    pub value: String,
    pub label: String,
}

/// One of the user's groups.
pub struct GroupLink {
    pub name: String,
    pub href: String,
}

#[derive(Template)]
#[template(path = "user_roles.html")]
struct RolesPage {
    l: Layout,
    csrf: String,
    base: String,
    user_base: String,
    heading: String,
    notice: Option<String>,
    problem: Option<String>,
    can_change: bool,
    org_roles: Vec<RoleBox>,
    app_roles: Vec<AppRoleRow>,
    apps: Vec<Opt>,
    app_role_options: Vec<Opt>,
    groups: Vec<GroupLink>,
}

const ORG_ROLES: [Role; 4] = [Role::Administrator, Role::UserManager, Role::Developer, Role::User];

async fn show(
    state: &AppState,
    me: &SignedIn,
    r: RolesOf,
    notice: Option<String>,
    problem: Option<String>,
    status: StatusCode,
) -> WebResult {
    let t = me.t();
    let can_change = policy::may_manage(&me.0, &r.user);
    let grantable = policy::grantable_roles(&me.0);
    let apps = if can_change { state.usher.all_apps(&me.0).await.map_err(|e| me.core_error(e))? } else { vec![] };
    let user_base = format!("/admin/users/{}", r.user.id);
    let page = RolesPage {
        l: me.layout("access.roles.title", "users"),
        csrf: me.nav().csrf,
        base: format!("{user_base}/roles"),
        heading: t.with("access.roles.heading", "name", r.user.display_name()),
        notice,
        problem,
        can_change,
        org_roles: ORG_ROLES
            .iter()
            .map(|role| RoleBox {
                value: role.as_str(),
                label: t.get(&format!("roles.{}", role.as_str())).into_owned(),
                hint: t.get(&format!("access.roles.hint_{}", role.as_str())).into_owned(),
                checked: r.org.contains(role),
                disabled: !grantable.contains(role),
            })
            .collect(),
        app_roles: r
            .apps
            .iter()
            .map(|a| AppRoleRow {
                value: format!("{}:{}", a.role.as_str(), a.app_id),
                label: t.with(&format!("access.roles.{}_of", a.role.as_str()), "app", &a.app_name),
                href: format!("/admin/apps/{}", a.app_id),
            })
            .collect(),
        apps: apps.iter().map(|a| Opt { value: a.id.to_string(), label: a.name.clone() }).collect(),
        app_role_options: AppRole::ALL
            .iter()
            .map(|role| Opt {
                value: role.as_str().to_owned(),
                label: t.get(&format!("access.roles.{}", role.as_str())).into_owned(),
            })
            .collect(),
        groups: r
            .groups
            .iter()
            .map(|g| GroupLink { name: g.name.clone(), href: format!("/admin/groups/{}", g.id) })
            .collect(),
        user_base,
    };
    Ok(render(status, &page))
}

/// `GET /admin/users/{id}/roles`.
pub async fn roles_page(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<UserId>, PathRejection>,
    WebQuery(q): WebQuery<PageQuery>,
) -> WebResult {
    let id = path(&me, id)?;
    let roles = state.usher.roles_of(&me.0, id).await.map_err(|e| me.core_error(e))?;
    show(&state, &me, roles, q.notice(me.t()), None, StatusCode::OK).await
}

/// The assignments a posted form asks for; `None` when it is not one of ours.
fn assignments(form: &Pairs) -> Option<Vec<Assignment>> {
    let mut out: Vec<Assignment> =
        form.all("org").into_iter().map(|r| Assignment { role: r.to_owned(), app_id: None }).collect();
    for kept in form.all("app_roles") {
        let (role, app) = kept.split_once(':')?;
        out.push(Assignment { role: role.to_owned(), app_id: Some(app.parse::<AppId>().ok()?) });
    }
    let add_app = form.get("add_app");
    if !add_app.is_empty() {
        out.push(Assignment { role: form.get("add_role").to_owned(), app_id: Some(add_app.parse::<AppId>().ok()?) });
    }
    Some(out)
}

/// `POST /admin/users/{id}/roles`: replaces the user's roles.
pub async fn save_roles(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<UserId>, PathRejection>,
    form: Result<Form<Pairs>, FormRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let form = me.accept(form)?;
    let Some(wanted) = assignments(&form) else { return Err(me.error(StatusCode::BAD_REQUEST, "bad_request")) };
    let t = me.t();
    let (problem, status) = match state.usher.set_roles(&ctx, &me.0, id, &wanted).await {
        Ok(_) => return Ok(see_other(&format!("/admin/users/{id}/roles?done=roles_saved"))),
        Err(Error::Invalid(e)) => {
            let reasons: Vec<String> = e.0.iter().map(|e| field_message(t, e)).collect();
            (reasons.join(" "), StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(Error::Conflict(Conflict::LastAdministrator)) => {
            (t.get("access.roles.last_admin").into_owned(), StatusCode::CONFLICT)
        }
        Err(Error::Forbidden(_)) => (t.get("access.roles.forbidden").into_owned(), StatusCode::FORBIDDEN),
        Err(e) => return Err(me.core_error(e)),
    };
    let roles = state.usher.roles_of(&me.0, id).await.map_err(|e| me.core_error(e))?;
    show(&state, &me, roles, None, Some(problem), status).await
}

#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use super::*;
    use crate::web::i18n::Tr;

    fn form(pairs: &[(&str, &str)]) -> Pairs {
        Pairs::from(pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>())
    }

    #[test]
    fn the_form_becomes_one_list_of_assignments() {
        let app = AppId::generate();
        let kept = format!("app_owner:{app}");
        let f = form(&[
            ("org", "user"),
            ("app_roles", &kept),
            ("add_app", &app.to_string()),
            ("add_role", "app_developer"),
        ]);
        let got: Vec<(String, Option<AppId>)> =
            assignments(&f).unwrap().into_iter().map(|a| (a.role, a.app_id)).collect();
        assert_eq!(got, [("user".into(), None), ("app_owner".into(), Some(app)), ("app_developer".into(), Some(app))]);
        assert!(assignments(&form(&[("app_roles", "app_owner:nope")])).is_none());
        assert_eq!(assignments(&form(&[("add_app", "")])).unwrap().len(), 0);
    }

    #[test]
    fn every_role_has_words_in_every_language() {
        for lang in Language::ALL {
            let t = Tr(lang);
            for role in ORG_ROLES {
                assert!(t.try_get(&format!("access.roles.hint_{}", role.as_str())).is_some(), "{lang}: {role}");
            }
            for role in AppRole::ALL {
                assert!(t.try_get(&format!("access.roles.{}", role.as_str())).is_some(), "{lang}: {role}");
                assert!(t.try_get(&format!("access.roles.{}_of", role.as_str())).is_some(), "{lang}: {role}");
            }
            for done in [
                "created",
                "saved",
                "group_deleted",
                "app_deleted",
                "member_added",
                "member_removed",
                "roles_saved",
                "groups_saved",
                "person_added",
                "person_removed",
            ] {
                assert!(t.try_get(&format!("access.done.{done}")).is_some(), "{lang}: {done}");
            }
        }
    }
}
