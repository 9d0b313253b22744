//! What administrators see and do about sign-in security: a user's two-step
//! verification and sign-in lock (`/admin/users/{id}/security`, Administrators and
//! User Managers), and the organization's two-step rule
//! (`/admin/settings/two-step`, Administrators).

use askama::Template;
use axum::{
    Form,
    extract::{Path, State, rejection::FormRejection, rejection::PathRejection},
    http::StatusCode,
};
use serde::Deserialize;
use usher_core::{access::policy, mfa::MfaSetting};
use usher_domain::UserId;

use super::super::{
    i18n::{Tr, local_time},
    page::{CsrfForm, Layout, SignedIn, WebQuery, WebResult, render, see_other},
};
use crate::{app::AppState, extract::Ctx};

fn id_of(me: &SignedIn, id: Result<Path<UserId>, PathRejection>) -> WebResult<UserId> {
    id.map(|Path(v)| v).map_err(|_| me.error(StatusCode::NOT_FOUND, "not_found"))
}

fn security_href(id: UserId) -> String {
    format!("/admin/users/{id}/security")
}

#[derive(Template)]
#[template(path = "security_user.html")]
struct UserSecurityPage {
    l: Layout,
    csrf: String,
    base: String,
    user_href: String,
    heading: String,
    user_id: String,
    notice: Option<String>,
    totp_enabled: bool,
    recovery_codes_left: u32,
    locked_until: Option<String>,
    recent_failures: u32,
    last_failure: Option<String>,
    password_expires: Option<String>,
    /// The visitor may act on this user (User Managers not on Administrators).
    can_act: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

fn done_notice(t: Tr, done: Option<&str>) -> Option<String> {
    let key = match done? {
        "mfa_reset" => "lockout.mfa_reset_done",
        "unlocked" => "lockout.unlocked",
        _ => return None,
    };
    Some(t.get(key).into_owned())
}

/// `GET /admin/users/{id}/security`.
pub async fn user_security_page(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<UserId>, PathRejection>,
    WebQuery(q): WebQuery<DoneQuery>,
) -> WebResult {
    let admin = &me.0;
    let id = id_of(&me, id)?;
    let (user, s) = state.usher.user_security(admin, id).await.map_err(|e| me.core_error(e))?;
    let t = me.t();
    let tz = me.0.user.profile.timezone;
    let page = UserSecurityPage {
        l: me.layout("lockout.page_title", "users"),
        csrf: me.nav().csrf,
        base: security_href(user.id),
        user_href: format!("/admin/users/{}", user.id),
        heading: t.with("lockout.heading", "name", user.display_name()),
        user_id: user.user_id.clone(),
        notice: done_notice(t, q.done.as_deref()),
        totp_enabled: s.totp_enabled,
        recovery_codes_left: s.recovery_codes_left,
        locked_until: s.lock.locked_until.map(|at| local_time(at, tz)),
        recent_failures: s.lock.recent_failures,
        last_failure: s.lock.last_failure_at.map(|at| local_time(at, tz)),
        password_expires: s.password_expires_at.map(|at| local_time(at, tz)),
        can_act: policy::may_manage(admin, &user),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for TokenForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /admin/users/{id}/security/mfa-reset`: removes the user's authenticator.
pub async fn reset_mfa(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<UserId>, PathRejection>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> WebResult {
    let admin = &me.0;
    let id = id_of(&me, id)?;
    me.accept(form)?;
    state.usher.reset_mfa(&ctx, admin, id).await.map_err(|e| me.core_error(e))?;
    Ok(see_other(&format!("{}?done=mfa_reset", security_href(id))))
}

/// `POST /admin/users/{id}/security/unlock`: lifts the user's sign-in lock.
pub async fn unlock(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<UserId>, PathRejection>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> WebResult {
    let admin = &me.0;
    let id = id_of(&me, id)?;
    me.accept(form)?;
    state.usher.unlock_user(&ctx, admin, id).await.map_err(|e| me.core_error(e))?;
    Ok(see_other(&format!("{}?done=unlocked", security_href(id))))
}

#[derive(Template)]
#[template(path = "security_settings.html")]
struct SettingsPage {
    l: Layout,
    csrf: String,
    required: bool,
    saved: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

/// `GET /admin/settings/two-step` (Administrators).
pub async fn settings_page(
    State(state): State<AppState>,
    me: SignedIn,
    WebQuery(q): WebQuery<SavedQuery>,
) -> WebResult {
    let admin = &me.0;
    let setting = state.usher.mfa_setting_for(admin).await.map_err(|e| me.core_error(e))?;
    let page = SettingsPage {
        l: me.layout("two_step.settings_title", "mfa"),
        csrf: me.nav().csrf,
        required: setting.required,
        saved: q.saved.is_some(),
    };
    Ok(render(StatusCode::OK, &page))
}

#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    csrf_token: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    required: Option<String>,
}

impl CsrfForm for SettingsForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /admin/settings/two-step`: requires two-step verification, or stops.
pub async fn save_settings(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<SettingsForm>, FormRejection>,
) -> WebResult {
    let admin = &me.0;
    let form = me.accept(form)?;
    let setting = MfaSetting { required: form.required.is_some() };
    state.usher.set_mfa_setting(&ctx, admin, setting).await.map_err(|e| me.core_error(e))?;
    Ok(see_other("/admin/settings/two-step?saved=1"))
}

#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use super::*;

    #[test]
    fn notices_exist_in_every_language() {
        for lang in Language::ALL {
            for done in ["mfa_reset", "unlocked"] {
                assert!(done_notice(Tr(lang), Some(done)).is_some_and(|n| !n.starts_with("lockout.")));
            }
        }
    }
}
