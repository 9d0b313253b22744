//! The forced password change: after an administrator set a temporary password,
//! the user's first page is this one, and every other page sends them back here
//! until they choose their own password. The password just typed to sign in is
//! not asked again (the core decides for how long: `Principal::may_skip_current_password`).

use askama::Template;
use axum::{
    Form,
    extract::{State, rejection::FormRejection},
    http::StatusCode,
};
use serde::Deserialize;
use usher_core::Error;
use usher_domain::{FieldError, PasswordPolicy};

use super::{
    i18n::Tr,
    page::{CsrfForm, FieldErrors, Input, Layout, SignedIn, WebResult, render, see_other},
};
use crate::{app::AppState, extract::Ctx};

/// Where the forced password change lives; [`SignedIn`] sends everyone who must
/// change their password here.
pub const PATH: &str = "/password-change";

#[derive(Template)]
#[template(path = "password_change.html")]
struct PasswordChangePage {
    l: Layout,
    csrf: String,
    inputs: Vec<Input>,
    rules: Vec<String>,
    summary: bool,
}

fn form_page(me: &SignedIn, policy: &PasswordPolicy, errors: &FieldErrors, ask_current: bool) -> PasswordChangePage {
    let t = me.t();
    let password = |name, key, autocomplete| {
        Input::new(t, name, key, "").kind("password").autocomplete(autocomplete).required().errors(errors)
    };
    let mut inputs = Vec::with_capacity(3);
    if ask_current {
        inputs.push(password("current_password", "password_change.temporary", "current-password"));
    }
    inputs.push(password("new_password", "password_change.new", "new-password").described_by_element("password-rules"));
    inputs.push(password("repeat_password", "password_change.repeat", "new-password"));
    PasswordChangePage {
        l: me.layout("password_change.title", "").restricted(),
        csrf: me.nav().csrf,
        inputs,
        rules: t.policy_rules(policy),
        summary: !errors.is_empty(),
    }
}

/// Whether the form asks for the current password: not in the session that
/// signed in with it moments ago.
fn ask_current(state: &AppState, me: &SignedIn) -> bool {
    !me.0.may_skip_current_password(state.usher.now())
}

/// The service's refusals in the words of this page: the password to change
/// cannot come back, and a sign-in too long ago needs the password again.
fn translate(t: Tr, errors: &[FieldError], policy: &PasswordPolicy) -> FieldErrors {
    let mut out = FieldErrors::default();
    for e in errors {
        let message = match (e.field.as_str(), e.code.as_str()) {
            ("new_password", "same_as_current") => t.get("password_change.same_as_temporary").into_owned(),
            ("current_password", "required") => t.get("password_change.current_again").into_owned(),
            _ => t.field_error(e, Some(policy)),
        };
        out.add(&e.field, message);
    }
    out
}

async fn policy_of(state: &AppState, me: &SignedIn) -> WebResult<PasswordPolicy> {
    state.usher.password_policy(me.0.user.org_id).await.map_err(|e| me.core_error(e))
}

/// `GET /password-change`: the form, or My profile when no change is pending.
pub async fn password_change_page(State(state): State<AppState>, me: SignedIn) -> WebResult {
    if !me.0.must_change_password() {
        return Ok(see_other("/profile"));
    }
    let policy = policy_of(&state, &me).await?;
    Ok(render(StatusCode::OK, &form_page(&me, &policy, &FieldErrors::default(), ask_current(&state, &me))))
}

/// The forced change form as posted; every field is text, so any body decodes.
/// The current password is there only when the form asked for it.
#[derive(Debug, Default, Deserialize)]
pub struct PasswordChangeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    current_password: Option<String>,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    repeat_password: String,
}

impl CsrfForm for PasswordChangeForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /password-change`: sets the user's own password (the change clears the
/// obligation), or lists every rule the new one breaks.
pub async fn change_password(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<PasswordChangeForm>, FormRejection>,
) -> WebResult {
    let form = me.accept(form)?;
    if !me.0.must_change_password() {
        return Ok(see_other("/profile"));
    }
    let policy = policy_of(&state, &me).await?;
    let t = me.t();
    let failed = |errors: FieldErrors| {
        Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &form_page(&me, &policy, &errors, ask_current(&state, &me))))
    };
    if form.new_password != form.repeat_password {
        let mismatch = FieldError::new("repeat_password", "mismatch", "The two passwords do not match.");
        return failed(translate(t, &[mismatch], &policy));
    }
    let current = form.current_password.as_deref();
    match state.usher.change_password(&ctx, &me.0, current, &form.new_password).await {
        Ok(()) => Ok(see_other("/profile/security?changed=1")),
        Err(Error::Invalid(e)) => failed(translate(t, &e.0, &policy)),
        Err(e) => Err(me.core_error(e)),
    }
}
