//! The Security tab of My profile (password, two-step verification, sessions),
//! the two-step sign-in and enrolment pages (`mfa`), and what administrators
//! see and do about a user's sign-in security (`admin`).

pub mod admin;
pub mod mfa;

use askama::Template;
use axum::{
    Form,
    extract::{Path, State, rejection::FormRejection, rejection::PathRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use usher_core::{
    Conflict, Error,
    mfa::MfaStatus,
    sessions::{EndSessions, SessionItem},
};
use usher_domain::{FieldError, PasswordPolicy, SessionId, TimeZone};

use super::{
    confirm::{self, Confirm},
    i18n::{Tr, local_time, local_time_short},
    page::{CsrfForm, FieldErrors, Input, Layout, SignedIn, WebQuery, WebResult, render, see_other, session_removal},
};
use crate::{app::AppState, extract::Ctx};

/// Where the Security tab lives.
pub const PATH: &str = "/profile/security";

/// A local date and time in two parts, so a narrow column breaks between them.
pub struct When {
    pub date: String,
    pub time: String,
}

impl When {
    pub fn at(at: DateTime<Utc>, tz: TimeZone) -> Self {
        let text = local_time_short(at, tz);
        let (date, time) = text.split_once(' ').unwrap_or((text.as_str(), ""));
        Self { date: date.to_owned(), time: time.to_owned() }
    }
}

/// One session, ready to show.
pub struct SessionRow {
    pub id: SessionId,
    pub current: bool,
    pub client: String,
    pub user_agent: String,
    pub address: String,
    pub created: When,
    pub last_active: When,
}

impl SessionRow {
    fn of(t: Tr, tz: TimeZone, item: SessionItem) -> Self {
        let unknown = || t.get("sessions.unknown").into_owned();
        let s = item.session;
        Self {
            id: s.id,
            current: item.current,
            client: item.client.unwrap_or_else(unknown),
            user_agent: s.client.unwrap_or_default(),
            address: s.address.unwrap_or_else(unknown),
            created: When::at(s.created_at, tz),
            last_active: When::at(s.last_active_at, tz),
        }
    }
}

#[derive(Template)]
#[template(path = "security.html")]
struct SecurityPage {
    l: Layout,
    csrf: String,
    inputs: Vec<Input>,
    rules: Vec<String>,
    notice: Option<String>,
    summary: bool,
    mfa: MfaStatus,
    mfa_since: Option<String>,
    disable_password: Input,
    codes_password: Input,
    sessions: Vec<SessionRow>,
    more_sessions: bool,
    zone: String,
}

/// How many sessions the tab lists.
const SESSIONS_SHOWN: u32 = 100;

async fn security_page_of(
    state: &AppState,
    me: &SignedIn,
    policy: &PasswordPolicy,
    errors: &FieldErrors,
    notice: Option<String>,
) -> WebResult<SecurityPage> {
    let t = me.t();
    let tz = me.0.user.profile.timezone;
    let mfa = state.usher.mfa_status(&me.0).await.map_err(|e| me.core_error(e))?;
    let page = state.usher.my_sessions(&me.0, None, SESSIONS_SHOWN).await.map_err(|e| me.core_error(e))?;
    let password = |name, key, autocomplete| {
        Input::new(t, name, key, "").kind("password").autocomplete(autocomplete).required().errors(errors)
    };
    Ok(SecurityPage {
        l: me.layout("security.title", "profile"),
        csrf: me.nav().csrf,
        inputs: vec![
            password("current_password", "security.current", "current-password"),
            password("new_password", "security.new", "new-password").described_by_element("password-rules"),
            password("repeat_password", "security.repeat", "new-password"),
        ],
        rules: t.policy_rules(policy),
        notice,
        summary: !errors.is_empty(),
        mfa_since: mfa.enabled_at.map(|at| local_time(at, tz)),
        mfa,
        disable_password: password("disable_password", "two_step.your_password", "current-password"),
        codes_password: password("codes_password", "two_step.your_password", "current-password"),
        more_sessions: page.next_cursor.is_some(),
        sessions: page.items.into_iter().map(|i| SessionRow::of(t, tz, i)).collect(),
        zone: t.with("sessions.zone", "zone", tz.name()),
    })
}

async fn policy_of(state: &AppState, me: &SignedIn) -> WebResult<PasswordPolicy> {
    state.usher.password_policy(me.0.user.org_id).await.map_err(|e| me.core_error(e))
}

/// The tab again after a refused form (422), with the problems next to their fields.
async fn refused(state: &AppState, me: &SignedIn, errors: &[FieldError]) -> WebResult {
    let policy = policy_of(state, me).await?;
    let errors = FieldErrors::translate(me.t(), errors, Some(&policy));
    Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &security_page_of(state, me, &policy, &errors, None).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct SecurityQuery {
    changed: Option<String>,
    done: Option<String>,
}

/// The message a `?done=` code stands for.
fn done_notice(t: Tr, done: Option<&str>) -> Option<String> {
    let key = match done? {
        "mfa_on" => "two_step.turned_on",
        "mfa_off" => "two_step.turned_off",
        "ended" => "sessions.ended_one",
        "ended_others" => "sessions.ended_others",
        _ => return None,
    };
    Some(t.get(key).into_owned())
}

/// `GET /profile/security`.
pub async fn security_page(
    State(state): State<AppState>,
    me: SignedIn,
    WebQuery(q): WebQuery<SecurityQuery>,
) -> WebResult {
    let policy = policy_of(&state, &me).await?;
    let notice = if q.changed.is_some() {
        Some(me.t().get("security.changed").into_owned())
    } else {
        done_notice(me.t(), q.done.as_deref())
    };
    Ok(render(StatusCode::OK, &security_page_of(&state, &me, &policy, &FieldErrors::default(), notice).await?))
}

#[derive(Debug, Default, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    repeat_password: String,
}

impl CsrfForm for PasswordForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /profile/security/password`: changes the password, or lists every
/// rule the new one breaks.
pub async fn change_password(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> WebResult {
    let form = me.accept(form)?;
    if form.new_password != form.repeat_password {
        return refused(
            &state,
            &me,
            &[FieldError::new("repeat_password", "mismatch", "The two passwords do not match.")],
        )
        .await;
    }
    match state.usher.change_password(&ctx, &me.0, Some(&form.current_password), &form.new_password).await {
        Ok(()) => Ok(see_other("/profile/security?changed=1")),
        Err(Error::Invalid(e)) => refused(&state, &me, &e.0).await,
        Err(e) => Err(me.core_error(e)),
    }
}

/// A form with only the CSRF token, or the token and a password.
#[derive(Debug, Default, Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    password: String,
}

impl CsrfForm for ConfirmForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// Renames the `password` field of a refusal to the form's own field.
fn as_field(errors: Vec<FieldError>, field: &str) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|mut e| {
            if e.field == "password" {
                e.field = field.to_owned();
            }
            e
        })
        .collect()
}

/// `POST /profile/security/two-step/disable`: turns two-step verification off,
/// given the password.
pub async fn disable_mfa(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> WebResult {
    let form = me.accept(form)?;
    match state.usher.disable_totp(&ctx, &me.0, &form.password).await {
        Ok(()) => Ok(see_other("/profile/security?done=mfa_off")),
        Err(Error::Invalid(e)) => refused(&state, &me, &as_field(e.0, "disable_password")).await,
        Err(Error::NotFound) => Ok(see_other(PATH)),
        Err(e) => Err(me.core_error(e)),
    }
}

/// `POST /profile/security/two-step/recovery-codes`: new recovery codes, given
/// the password, shown once.
pub async fn regenerate_codes(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> WebResult {
    let form = me.accept(form)?;
    match state.usher.regenerate_recovery_codes(&ctx, &me.0, &form.password).await {
        Ok(codes) => Ok(mfa::codes_page(&state, &me, me.nav(), codes, false)),
        Err(Error::Invalid(e)) => refused(&state, &me, &as_field(e.0, "codes_password")).await,
        Err(Error::Conflict(Conflict::TwoStepOff)) => Ok(see_other(PATH)),
        Err(e) => Err(me.core_error(e)),
    }
}

/// `POST /profile/security/sessions/{id}/end`: ends one of your sessions.
pub async fn end_session(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    jar: CookieJar,
    id: Result<Path<SessionId>, PathRejection>,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> WebResult {
    let Ok(Path(id)) = id else { return Err(me.error(StatusCode::NOT_FOUND, "not_found")) };
    me.accept(form)?;
    state.usher.end_my_session(&ctx, &me.0, id).await.map_err(|e| me.core_error(e))?;
    if me.0.session_id == Some(id) {
        return Ok((jar.add(session_removal(&state)), see_other("/login?signed_out=1")).into_response());
    }
    Ok(see_other("/profile/security?done=ended"))
}

/// `GET /profile/security/sessions/{id}/end`: names the browser that will be signed out.
pub async fn confirm_end_session(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<SessionId>, PathRejection>,
) -> WebResult {
    let Ok(Path(id)) = id else { return Err(me.error(StatusCode::NOT_FOUND, "not_found")) };
    let sessions = state.usher.my_sessions(&me.0, None, 200).await.map_err(|e| me.core_error(e))?;
    let item = sessions.items.into_iter().find(|i| i.session.id == id);
    let Some(item) = item else { return Err(me.error(StatusCode::NOT_FOUND, "not_found")) };
    let t = me.t();
    let client = item.client.unwrap_or_else(|| t.get("sessions.unknown").into_owned());
    let (heading, text) = if item.current {
        (t.get("confirm.end_current").into_owned(), "confirm.end_current_text")
    } else {
        (t.with("confirm.end_session", "name", client), "confirm.end_session_text")
    };
    let button = t.get(if item.current { "sessions.end_current" } else { "sessions.end" }).into_owned();
    let c = Confirm::new(heading, format!("/profile/security/sessions/{id}/end"), button, PATH.to_owned())
        .line(t.get(text).into_owned());
    confirm::page(&me, "profile", c)
}

/// `GET /profile/security/sessions/end-others`.
pub async fn confirm_end_others(me: SignedIn) -> WebResult {
    me.refused_unless(usher_core::access::policy::Operation::ChangeOwnAccount)?;
    let t = me.t();
    let c = Confirm::new(
        t.get("confirm.end_others").into_owned(),
        "/profile/security/sessions/end-others".to_owned(),
        t.get("sessions.end_others").into_owned(),
        PATH.to_owned(),
    )
    .line(t.get("confirm.end_others_text").into_owned());
    confirm::page(&me, "profile", c)
}

/// `GET /profile/security/sessions/end-all`.
pub async fn confirm_end_all(me: SignedIn) -> WebResult {
    me.refused_unless(usher_core::access::policy::Operation::ChangeOwnAccount)?;
    let t = me.t();
    let c = Confirm::new(
        t.get("confirm.end_all").into_owned(),
        "/profile/security/sessions/end-all".to_owned(),
        t.get("sessions.end_all").into_owned(),
        PATH.to_owned(),
    )
    .line(t.get("confirm.end_all_text").into_owned());
    confirm::page(&me, "profile", c)
}

/// `POST /profile/security/sessions/end-others`: ends every session but this one.
pub async fn end_other_sessions(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> WebResult {
    me.accept(form)?;
    state.usher.end_my_sessions(&ctx, &me.0, EndSessions::Others).await.map_err(|e| me.core_error(e))?;
    Ok(see_other("/profile/security?done=ended_others"))
}

/// `POST /profile/security/sessions/end-all`: ends every session, this one too.
pub async fn end_all_sessions(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    jar: CookieJar,
    form: Result<Form<ConfirmForm>, FormRejection>,
) -> WebResult<Response> {
    me.accept(form)?;
    state.usher.end_my_sessions(&ctx, &me.0, EndSessions::All).await.map_err(|e| me.core_error(e))?;
    Ok((jar.add(session_removal(&state)), see_other("/login?signed_out=1")).into_response())
}

#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use super::*;

    #[test]
    fn notices_and_labels_exist_in_every_language() {
        for lang in Language::ALL {
            let t = Tr(lang);
            for done in ["mfa_on", "mfa_off", "ended", "ended_others"] {
                assert!(
                    done_notice(t, Some(done))
                        .is_some_and(|n| !n.starts_with("two_step.") && !n.starts_with("sessions."))
                );
            }
            assert!(done_notice(t, Some("other")).is_none());
        }
    }

    #[test]
    fn refusals_name_the_form_field() {
        let e = as_field(vec![FieldError::new("password", "incorrect", "x")], "codes_password");
        assert_eq!(e[0].field, "codes_password");
    }
}
