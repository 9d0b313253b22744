//! "Forgot password?": the request form (which answers the same whether or not
//! the account exists) and the page a reset link opens.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State, rejection::FormRejection},
    http::StatusCode,
    response::Response,
};
use serde::Deserialize;
use usher_core::Error;
use usher_domain::{FieldError, PasswordPolicy};

use super::{
    i18n::Tr,
    page::{FieldErrors, Input, Layout, Visitor, WebError, WebResult, form_status, render, see_other},
};
use crate::{app::AppState, extract::Ctx};

#[derive(Template)]
#[template(path = "forgot_password.html")]
struct ForgotPage {
    l: Layout,
    login: Input,
    organization: String,
    sent: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ForgotForm {
    #[serde(default)]
    login: String,
    #[serde(default)]
    organization: String,
}

fn forgot_page(t: Tr, login: &str, organization: &str, sent: bool) -> ForgotPage {
    ForgotPage {
        l: Layout::new(t, "recovery.forgot_title", None, ""),
        login: Input::new(t, "login", "recovery.login", login)
            .autocomplete("username")
            .hint(t, "recovery.login_hint")
            .required(),
        organization: organization.to_owned(),
        sent,
    }
}

/// `GET /forgot-password`.
pub async fn forgot_page_get(v: Visitor) -> WebResult {
    if v.me.is_some() {
        return Ok(see_other("/profile/security"));
    }
    Ok(render(StatusCode::OK, &forgot_page(v.t, "", "", false)))
}

/// `POST /forgot-password`: queues the link in the background and always says
/// the same thing, at once.
pub async fn forgot(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    v: Visitor,
    form: Result<Form<ForgotForm>, FormRejection>,
) -> WebResult {
    let t = v.t;
    let Form(form) = form.map_err(|r| WebError::page(form_status(&r), "bad_request", t, None))?;
    let org = Some(form.organization.trim().to_owned()).filter(|o| !o.is_empty());
    crate::api::recovery::spawn_reset_request(&state, ctx, org, form.login.clone());
    Ok(render(StatusCode::OK, &forgot_page(t, "", &form.organization, true)))
}

#[derive(Template)]
#[template(path = "reset_password.html")]
struct ResetPage {
    l: Layout,
    action: String,
    who: String,
    inputs: Vec<Input>,
    rules: Vec<String>,
    summary: bool,
}

#[derive(Template)]
#[template(path = "reset_password_done.html")]
struct ResetMessage {
    l: Layout,
    heading: String,
    text: String,
    /// Offer a new link (the link was unusable) rather than signing in.
    again: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    repeat_password: String,
}

fn message(t: Tr, key: &str, again: bool, status: StatusCode) -> Response {
    let page = ResetMessage {
        l: Layout::new(t, &format!("recovery.{key}_title"), None, ""),
        heading: t.get(&format!("recovery.{key}_title")).into_owned(),
        text: t.get(&format!("recovery.{key}_text")).into_owned(),
        again,
    };
    render(status, &page)
}

fn reset_form(t: Tr, token: &str, who: &str, policy: &PasswordPolicy, errors: &FieldErrors) -> ResetPage {
    ResetPage {
        l: Layout::new(t, "recovery.reset_title", None, ""),
        action: format!("/reset-password/{token}"),
        who: who.to_owned(),
        inputs: vec![
            Input::new(t, "new_password", "recovery.new_password", "")
                .kind("password")
                .autocomplete("new-password")
                .required()
                .described_by_element("password-rules")
                .errors(errors),
            Input::new(t, "repeat_password", "recovery.repeat_password", "")
                .kind("password")
                .autocomplete("new-password")
                .required()
                .errors(errors),
        ],
        rules: t.policy_rules(policy),
        summary: !errors.is_empty(),
    }
}

/// The user a link resets and their organization's policy, or the page for an
/// unusable link.
async fn open_link(
    state: &AppState,
    t: Tr,
    token: &str,
) -> WebResult<Result<(usher_core::store::User, PasswordPolicy), Response>> {
    if token.len() > 100 {
        return Ok(Err(message(t, "invalid", true, StatusCode::NOT_FOUND)));
    }
    match state.usher.password_reset_user(token).await {
        Ok(user) => {
            let policy = state.usher.password_policy(user.org_id).await.map_err(|e| WebError::from_core(e, t, None))?;
            Ok(Ok((user, policy)))
        }
        Err(Error::NotFound) => Ok(Err(message(t, "invalid", true, StatusCode::NOT_FOUND))),
        Err(e) => Err(WebError::from_core(e, t, None)),
    }
}

/// `GET /reset-password/{token}`: the new-password form, or why the link does not work.
pub async fn reset_page(State(state): State<AppState>, v: Visitor, Path(token): Path<String>) -> WebResult {
    let (user, policy) = match open_link(&state, v.t, &token).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    Ok(render(StatusCode::OK, &reset_form(v.t, &token, &user.user_id, &policy, &FieldErrors::default())))
}

/// `POST /reset-password/{token}`: sets the new password.
pub async fn reset(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    v: Visitor,
    Path(token): Path<String>,
    form: Result<Form<ResetForm>, FormRejection>,
) -> WebResult {
    let t = v.t;
    let Form(form) = form.map_err(|r| WebError::page(form_status(&r), "bad_request", t, None))?;
    let (user, policy) = match open_link(&state, t, &token).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let invalid = |errors: &[FieldError]| {
        let errors = FieldErrors::translate(t, errors, Some(&policy));
        render(StatusCode::UNPROCESSABLE_ENTITY, &reset_form(t, &token, &user.user_id, &policy, &errors))
    };
    if form.new_password != form.repeat_password {
        return Ok(invalid(&[FieldError::new("repeat_password", "mismatch", "The two passwords do not match.")]));
    }
    match state.usher.complete_password_reset(&ctx, &token, &form.new_password).await {
        Ok(_) => Ok(message(t, "done", false, StatusCode::OK)),
        Err(Error::Invalid(e)) => Ok(invalid(&e.0)),
        Err(Error::NotFound) => Ok(message(t, "invalid", true, StatusCode::NOT_FOUND)),
        Err(e) => Err(WebError::from_core(e, t, None)),
    }
}
