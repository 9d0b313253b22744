//! Signing in and out, and the first-administrator setup page.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State, rejection::FormRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::Deserialize;
use usher_core::{Error, accounts::NewAccount, mfa::SignIn, secrets};
use usher_domain::{Email, FieldError, Language, LoginName, PasswordPolicy, ShortText};

use super::{
    i18n::Tr,
    page::{
        CsrfForm, FieldErrors, Input, Layout, SignedIn, Visitor, WebError, WebQuery, WebResult, form_status,
        language_cookie, render, see_other, session_cookie, session_removal,
    },
};
use crate::{app::AppState, extract::Ctx};

/// The double-submit cookie that protects the sign-in form from login CSRF.
pub(super) const LOGIN_CSRF_COOKIE: &str = "usher_login_csrf";

/// `/`: the landing page for a signed-in visitor (the console's overview, or
/// My profile for someone without administration pages), else the sign-in page.
pub async fn root(v: Visitor) -> Response {
    match &v.me {
        Some(me) => see_other(super::nav::landing(&usher_core::access::policy::Capabilities::of(me))),
        None => see_other("/login"),
    }
}

/// A link of the language switcher.
pub struct LangLink {
    pub code: &'static str,
    pub name: &'static str,
    pub current: bool,
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage {
    l: Layout,
    csrf: String,
    login: String,
    organization: String,
    error: Option<String>,
    notice: Option<String>,
    languages: Vec<LangLink>,
}

impl LoginPage {
    fn new(t: Tr, csrf: String) -> Self {
        let languages = Language::ALL
            .into_iter()
            .map(|lang| LangLink { code: lang.code(), name: lang.native_name(), current: lang == t.0 })
            .collect();
        Self {
            l: Layout::new(t, "login.title", None, ""),
            csrf,
            login: String::new(),
            organization: String::new(),
            error: None,
            notice: None,
            languages,
        }
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct LoginQuery {
    signed_out: Option<String>,
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    login: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    organization: String,
}

pub(super) fn login_csrf_cookie(state: &AppState, value: String) -> Cookie<'static> {
    Cookie::build((LOGIN_CSRF_COOKIE, value))
        .http_only(true)
        .same_site(SameSite::Strict)
        .secure(state.config.secure_cookies())
        .path("/login")
        .build()
}

/// The sign-in form's token: the one already in the browser (so two open tabs
/// both work), or a new one.
fn login_csrf(jar: &CookieJar, t: Tr) -> WebResult<String> {
    match jar.get(LOGIN_CSRF_COOKIE).map(Cookie::value) {
        Some(v) if v.len() == 43 && v.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_') => {
            Ok(v.to_owned())
        }
        _ => secrets::random_secret().map_err(|e| WebError::from_core(e, t, None)),
    }
}

/// `GET /login`.
pub async fn login_page(
    State(state): State<AppState>,
    v: Visitor,
    jar: CookieJar,
    WebQuery(q): WebQuery<LoginQuery>,
) -> WebResult {
    if v.me.is_some() {
        return Ok(see_other("/"));
    }
    let csrf = login_csrf(&jar, v.t)?;
    let mut jar = jar.add(login_csrf_cookie(&state, csrf.clone()));
    if v.chose_language {
        jar = jar.add(language_cookie(&state, v.t.0));
    }
    let mut page = LoginPage::new(v.t, csrf);
    if q.signed_out.is_some() {
        page.notice = Some(v.t.get("login.signed_out").into_owned());
    }
    Ok((jar, render(StatusCode::OK, &page)).into_response())
}

/// `POST /login`: signs in, or shows the form again with one message that
/// never says whether the account exists.
pub async fn login(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    v: Visitor,
    jar: CookieJar,
    form: Result<Form<LoginForm>, FormRejection>,
) -> WebResult {
    let t = v.t;
    let Form(form) = form.map_err(|r| WebError::page(form_status(&r), "bad_request", t, None))?;
    let expected = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    // The form again, with a message and a token matching the cookie it sets.
    let again = |status: StatusCode, key: &str, csrf: String, jar: CookieJar| -> WebResult {
        let mut page = LoginPage::new(t, csrf.clone());
        page.login = form.login.clone();
        page.organization = form.organization.clone();
        page.error = Some(t.get(key).into_owned());
        Ok((jar.add(login_csrf_cookie(&state, csrf)), render(status, &page)).into_response())
    };
    if expected.is_empty() || !secrets::same(&form.csrf_token, &expected) {
        let fresh = secrets::random_secret().map_err(|e| WebError::from_core(e, t, None))?;
        return again(StatusCode::FORBIDDEN, "login.expired_form", fresh, jar);
    }
    let org = Some(form.organization.as_str()).filter(|o| !o.trim().is_empty());
    match state.usher.login(&ctx, org, &form.login, &form.password).await {
        Ok(SignIn::Session(outcome)) => {
            let mut gone = login_csrf_cookie(&state, String::new());
            gone.make_removal();
            let next = super::security::mfa::after_sign_in(&outcome);
            let jar = jar.add(session_cookie(&state, outcome.session_secret)).add(gone);
            Ok((jar, see_other(next)).into_response())
        }
        Ok(SignIn::SecondStep { ticket, .. }) => Ok(super::security::mfa::second_step_page(t, expected, ticket)),
        Err(Error::BadCredentials) => again(StatusCode::UNAUTHORIZED, "login.failed", expected, jar),
        Err(Error::Locked { .. }) => again(StatusCode::TOO_MANY_REQUESTS, "lockout.locked", expected, jar),
        Err(e) => Err(WebError::from_core(e, t, None)),
    }
}

#[derive(Debug, Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for LogoutForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /logout`: ends this session only.
pub async fn logout(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    v: Visitor,
    jar: CookieJar,
    form: Result<Form<LogoutForm>, FormRejection>,
) -> WebResult {
    let Some(me) = v.me.map(SignedIn) else {
        // Already signed out (the session expired): nothing to end.
        return Ok((jar.add(session_removal(&state)), see_other("/login")).into_response());
    };
    me.accept(form)?;
    state.usher.logout(&ctx, &me.0).await.map_err(|e| me.core_error(e))?;
    // The sign-in page that follows keeps speaking the user's language.
    let jar = jar.add(session_removal(&state)).add(language_cookie(&state, me.0.user.profile.language));
    Ok((jar, see_other("/login?signed_out=1")).into_response())
}

#[derive(Template)]
#[template(path = "setup.html")]
struct SetupPage {
    l: Layout,
    action: String,
    inputs: Vec<Input>,
    rules: Vec<String>,
    summary: bool,
}

#[derive(Template)]
#[template(path = "setup_expired.html")]
struct SetupExpiredPage {
    l: Layout,
}

#[derive(Debug, Default, Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat_password: String,
}

fn setup_form(t: Tr, token: &str, policy: &PasswordPolicy, f: &SetupForm, errors: &FieldErrors) -> SetupPage {
    let inputs = vec![
        Input::new(t, "user_id", "setup.user_id", &f.user_id)
            .hint(t, "setup.user_id_hint")
            .autocomplete("username")
            .required()
            .errors(errors),
        Input::new(t, "email", "setup.email", &f.email).kind("email").autocomplete("email").required().errors(errors),
        Input::new(t, "first_name", "setup.first_name", &f.first_name).autocomplete("given-name").errors(errors),
        Input::new(t, "last_name", "setup.last_name", &f.last_name).autocomplete("family-name").errors(errors),
        Input::new(t, "password", "setup.password", "")
            .kind("password")
            .autocomplete("new-password")
            .required()
            .described_by_element("password-rules")
            .errors(errors),
        Input::new(t, "repeat_password", "setup.repeat_password", "")
            .kind("password")
            .autocomplete("new-password")
            .required()
            .errors(errors),
    ];
    SetupPage {
        l: Layout::new(t, "setup.title", None, ""),
        action: format!("/setup/{token}"),
        inputs,
        rules: t.policy_rules(policy),
        summary: !errors.is_empty(),
    }
}

/// The policy the first administrator's password must meet: the default
/// organization's (setup links are for it).
async fn setup_policy(state: &AppState, t: Tr) -> WebResult<PasswordPolicy> {
    let core = |e| WebError::from_core(e, t, None);
    match state.usher.organization(None).await.map_err(core)? {
        Some(org) => state.usher.password_policy(org.id).await.map_err(core),
        None => Ok(PasswordPolicy::default()),
    }
}

fn expired(t: Tr) -> Response {
    render(StatusCode::GONE, &SetupExpiredPage { l: Layout::new(t, "setup.expired_title", None, "") })
}

async fn token_valid(state: &AppState, token: &str, t: Tr) -> WebResult<bool> {
    if token.len() > 100 {
        return Ok(false);
    }
    state.usher.setup_token_valid(token).await.map_err(|e| WebError::from_core(e, t, None))
}

/// `GET /setup/{token}`: the first-administrator form, or "expired" (410).
pub async fn setup_page(State(state): State<AppState>, v: Visitor, Path(token): Path<String>) -> WebResult {
    if !token_valid(&state, &token, v.t).await? {
        return Ok(expired(v.t));
    }
    let policy = setup_policy(&state, v.t).await?;
    let page = setup_form(v.t, &token, &policy, &SetupForm::default(), &FieldErrors::default());
    Ok(render(StatusCode::OK, &page))
}

/// Parses the setup form into an account, collecting every problem.
fn parse_setup(f: &SetupForm) -> Result<NewAccount, Vec<FieldError>> {
    fn keep<T>(errors: &mut Vec<FieldError>, r: Result<T, usher_domain::Invalid>) -> Option<T> {
        r.map_err(|e| errors.extend(e.0)).ok()
    }
    let mut errors = Vec::new();
    let user_id = keep(&mut errors, LoginName::parse(&f.user_id));
    let email = keep(&mut errors, Email::parse(&f.email));
    let first_name = keep(&mut errors, ShortText::parse("first_name", &f.first_name));
    let last_name = keep(&mut errors, ShortText::parse("last_name", &f.last_name));
    if f.password.is_empty() {
        errors.push(FieldError::new("password", "required", "The password is required."));
    } else if f.password != f.repeat_password {
        errors.push(FieldError::new("repeat_password", "mismatch", "The two passwords do not match."));
    }
    match (user_id, email, first_name, last_name) {
        (Some(user_id), Some(email), Some(first_name), Some(last_name)) if errors.is_empty() => Ok(NewAccount {
            user_id,
            email: Some(email),
            first_name,
            last_name,
            roles: Vec::new(),
            password: Some(f.password.clone()),
        }),
        _ => Err(errors),
    }
}

/// `POST /setup/{token}`: creates the first administrator and signs them in.
pub async fn setup(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    v: Visitor,
    jar: CookieJar,
    Path(token): Path<String>,
    form: Result<Form<SetupForm>, FormRejection>,
) -> WebResult {
    let t = v.t;
    let Form(form) = form.map_err(|r| WebError::page(form_status(&r), "bad_request", t, None))?;
    if !token_valid(&state, &token, t).await? {
        return Ok(expired(t));
    }
    let policy = setup_policy(&state, t).await?;
    let invalid = |errors: &[FieldError]| {
        let errors = FieldErrors::translate(t, errors, Some(&policy));
        render(StatusCode::UNPROCESSABLE_ENTITY, &setup_form(t, &token, &policy, &form, &errors))
    };
    let account = match parse_setup(&form) {
        Ok(account) => account,
        Err(errors) => return Ok(invalid(&errors)),
    };
    match state.usher.complete_setup(&ctx, &token, account).await {
        Ok(outcome) => {
            Ok((jar.add(session_cookie(&state, outcome.session_secret)), see_other("/profile")).into_response())
        }
        Err(Error::NotFound) => Ok(expired(t)),
        Err(Error::Invalid(e)) => Ok(invalid(&e.0)),
        Err(e) => Err(WebError::from_core(e, t, None)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(user_id: &str, email: &str, pw: &str, repeat: &str) -> SetupForm {
        SetupForm {
            user_id: user_id.into(),
            email: email.into(),
            first_name: "Ann".into(),
            last_name: String::new(),
            password: pw.into(),
            repeat_password: repeat.into(),
        }
    }

    #[test]
    fn setup_reports_every_field_at_once() {
        let errors = parse_setup(&form("two words", "nope", "a", "b")).unwrap_err();
        let got: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(got, [("user_id", "invalid"), ("email", "invalid"), ("repeat_password", "mismatch")]);
        let errors = parse_setup(&form("", "", "", "")).unwrap_err();
        let got: Vec<_> = errors.iter().map(|e| (e.field.as_str(), e.code.as_str())).collect();
        assert_eq!(got, [("user_id", "required"), ("email", "required"), ("password", "required")]);
    }

    #[test]
    fn a_good_setup_form_becomes_an_account() {
        let account = parse_setup(&form("root", "root@example.org", "pw pw pw", "pw pw pw")).unwrap();
        assert_eq!(account.user_id.as_str(), "root");
        assert_eq!(account.email.unwrap().as_str(), "root@example.org");
        assert_eq!(account.first_name.unwrap().as_str(), "Ann");
        assert!(account.last_name.is_none());
        assert_eq!(account.password.as_deref(), Some("pw pw pw"));
    }
}
