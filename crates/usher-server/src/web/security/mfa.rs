//! Two-step verification in the browser: the second sign-in step, adding an
//! authenticator app (the page a session restricted to enrolment is sent to),
//! and the recovery codes, shown once.

use askama::Template;
use axum::{
    Form,
    extract::{State, rejection::FormRejection},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
};
use axum_extra::extract::CookieJar;
use base64::{Engine, engine::general_purpose::STANDARD};
use serde::Deserialize;
use usher_core::{
    Conflict, Error,
    auth::LoginOutcome,
    mfa::{SecondFactor, TotpEnrolment, is_enrolment_session},
    secrets,
};

use super::super::{
    auth::{LOGIN_CSRF_COOKIE, login_csrf_cookie},
    i18n::{Tr, local_time},
    page::{
        CsrfForm, FieldErrors, Input, Layout, NavUser, SignedIn, Visitor, WebError, WebResult, render, see_other,
        session_cookie,
    },
};
use crate::{app::AppState, extract::Ctx};

/// Where a user adds an authenticator app; a session restricted to enrolment is
/// sent here from every other page.
pub const ENROL_PATH: &str = "/profile/security/two-step";
/// Where a new key replaces the one waiting for confirmation.
pub const RESTART_PATH: &str = "/profile/security/two-step/restart";

/// Where a fresh session goes first: the forced password change, the forced
/// enrolment, or the landing page (`/` picks the console's overview or My profile).
pub fn after_sign_in(outcome: &LoginOutcome) -> &'static str {
    if outcome.user.must_change_password {
        super::super::password_change::PATH
    } else if is_enrolment_session(&outcome.session_secret) {
        ENROL_PATH
    } else {
        "/"
    }
}

/// Whether the request's session is restricted to enrolment.
pub fn enrolment_session(headers: &HeaderMap) -> bool {
    crate::api::mfa::enrolment_session(headers)
}

/// The pages a session restricted to enrolment may open.
pub fn allowed_while_enrolling(path: &str) -> bool {
    path == ENROL_PATH || path == RESTART_PATH
}

#[derive(Template)]
#[template(path = "login_mfa.html")]
struct SecondStepPage {
    l: Layout,
    csrf: String,
    ticket: String,
    error: Option<String>,
    /// The ticket is gone (expired, used, or too many wrong codes): sign in again.
    start_over: bool,
    /// Open the recovery-code part.
    recovery: bool,
}

/// The second-step form shown after a correct password.
pub fn second_step_page(t: Tr, csrf: String, ticket: String) -> Response {
    let page = SecondStepPage {
        l: Layout::new(t, "two_step.login_title", None, ""),
        csrf,
        ticket,
        error: None,
        start_over: false,
        recovery: false,
    };
    render(StatusCode::OK, &page)
}

#[derive(Debug, Default, Deserialize)]
pub struct SecondStepForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    ticket: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    recovery_code: String,
}

/// `POST /login/mfa`: the code (or a recovery code) after the password. A wrong
/// code shows the form again; an expired ticket or a lock asks to start over.
pub async fn login_mfa(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    v: Visitor,
    jar: CookieJar,
    form: Result<Form<SecondStepForm>, FormRejection>,
) -> WebResult {
    let t = v.t;
    let Form(form) = form.map_err(|r| WebError::page(super::super::page::form_status(&r), "bad_request", t, None))?;
    let expected = jar.get(LOGIN_CSRF_COOKIE).map(|c| c.value().to_owned()).unwrap_or_default();
    let recovery = !form.recovery_code.trim().is_empty();
    let page = |status: StatusCode, key: &str, start_over: bool| {
        let page = SecondStepPage {
            l: Layout::new(t, "two_step.login_title", None, ""),
            csrf: expected.clone(),
            ticket: form.ticket.clone(),
            error: Some(t.get(key).into_owned()),
            start_over,
            recovery,
        };
        render(status, &page)
    };
    if expected.is_empty() || !secrets::same(&form.csrf_token, &expected) {
        return Ok(page(StatusCode::FORBIDDEN, "login.expired_form", true));
    }
    let factor =
        if recovery { SecondFactor::RecoveryCode(&form.recovery_code) } else { SecondFactor::Code(&form.code) };
    match state.usher.login_second_step(&ctx, &form.ticket, factor).await {
        Ok(outcome) => {
            let mut gone = login_csrf_cookie(&state, String::new());
            gone.make_removal();
            let next = after_sign_in(&outcome);
            let jar = jar.add(session_cookie(&state, outcome.session_secret)).add(gone);
            Ok((jar, see_other(next)).into_response())
        }
        Err(Error::BadCode) => {
            let key = if recovery { "two_step.wrong_recovery_code" } else { "two_step.wrong_code" };
            Ok(page(StatusCode::UNAUTHORIZED, key, false))
        }
        Err(Error::Unauthenticated) => Ok(page(StatusCode::UNAUTHORIZED, "two_step.start_over", true)),
        Err(Error::Locked { .. }) => Ok(page(StatusCode::TOO_MANY_REQUESTS, "lockout.locked", true)),
        Err(e) => Err(WebError::from_core(e, t, None)),
    }
}

#[derive(Template)]
#[template(path = "mfa_setup.html")]
struct SetupPage {
    l: Layout,
    csrf: String,
    secret: String,
    /// The secret in groups of four, easier to type.
    secret_groups: String,
    otpauth_uri: String,
    qr_src: String,
    code: Input,
    /// The organization requires it: this is the only page until it is done.
    forced: bool,
    summary: bool,
}

fn setup_page(me: &SignedIn, e: TotpEnrolment, errors: &FieldErrors, forced: bool) -> SetupPage {
    let t = me.t();
    let groups: Vec<String> = e.secret.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect();
    SetupPage {
        l: if forced {
            me.layout("two_step.setup_title", "profile").restricted()
        } else {
            me.layout("two_step.setup_title", "profile")
        },
        csrf: me.nav().csrf,
        secret_groups: groups.join(" "),
        secret: e.secret,
        otpauth_uri: e.otpauth_uri,
        qr_src: format!("data:image/svg+xml;base64,{}", STANDARD.encode(e.qr_svg.as_bytes())),
        code: Input::new(t, "code", "two_step.code", "")
            .autocomplete("one-time-code")
            .hint(t, "two_step.code_hint")
            .required()
            .errors(errors),
        forced,
        summary: !errors.is_empty(),
    }
}

/// `GET /profile/security/two-step`: the authenticator to add (made on the first
/// visit, the same one afterwards until confirmed), or the Security tab when
/// two-step verification is already on.
pub async fn setup(State(state): State<AppState>, me: SignedIn, headers: HeaderMap) -> WebResult {
    let core = |e| me.core_error(e);
    let status = state.usher.mfa_status(&me.0).await.map_err(core)?;
    if status.enabled {
        return Ok(see_other(super::PATH));
    }
    let enrolment = match state.usher.pending_totp(&me.0).await.map_err(core)? {
        Some(e) => e,
        None => state.usher.start_totp(&me.0).await.map_err(core)?,
    };
    let forced = enrolment_session(&headers);
    Ok(render(StatusCode::OK, &setup_page(&me, enrolment, &FieldErrors::default(), forced)))
}

#[derive(Debug, Default, Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    code: String,
}

impl CsrfForm for CodeForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /profile/security/two-step/restart`: a new secret replacing the one
/// waiting for confirmation (e.g. the first was not scanned in time).
pub async fn restart(
    State(state): State<AppState>,
    me: SignedIn,
    form: Result<Form<CodeForm>, FormRejection>,
) -> WebResult {
    me.accept(form)?;
    match state.usher.start_totp(&me.0).await {
        Ok(_) => Ok(see_other(ENROL_PATH)),
        Err(Error::Conflict(Conflict::TwoStepOn)) => Ok(see_other(super::PATH)),
        Err(e) => Err(me.core_error(e)),
    }
}

/// `POST /profile/security/two-step`: turns two-step verification on with the
/// first code, then shows the recovery codes once. A session restricted to
/// enrolment is replaced by a normal one.
pub async fn confirm(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    headers: HeaderMap,
    jar: CookieJar,
    form: Result<Form<CodeForm>, FormRejection>,
) -> WebResult {
    let form = me.accept(form)?;
    let forced = enrolment_session(&headers);
    let codes = match state.usher.confirm_totp(&ctx, &me.0, &form.code).await {
        Ok(codes) => codes,
        Err(Error::Invalid(e)) => {
            let Some(enrolment) = state.usher.pending_totp(&me.0).await.map_err(|e| me.core_error(e))? else {
                return Ok(see_other(super::PATH));
            };
            let mut errors = FieldErrors::default();
            for fe in &e.0 {
                let key = if fe.code == "no_enrolment" { "two_step.no_enrolment" } else { "two_step.wrong_code" };
                errors.add("code", me.t().get(key).into_owned());
            }
            return Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &setup_page(&me, enrolment, &errors, forced)));
        }
        Err(e) => return Err(me.core_error(e)),
    };
    if !forced {
        return Ok(codes_page(&state, &me, me.nav(), codes, true));
    }
    let Some(outcome) = state.usher.upgrade_session(&ctx, &me.0).await.map_err(|e| me.core_error(e))? else {
        return Ok(codes_page(&state, &me, me.nav(), codes, true));
    };
    // The page's forms (sign out) carry the new session's token.
    let nav = NavUser { csrf: outcome.csrf_token.clone(), ..me.nav() };
    let jar = jar.add(session_cookie(&state, outcome.session_secret));
    Ok((jar, codes_page(&state, &me, nav, codes, true)).into_response())
}

#[derive(Template)]
#[template(path = "mfa_codes.html")]
struct CodesPage {
    l: Layout,
    codes: Vec<String>,
    /// Two-step verification was just turned on (rather than new codes made).
    enabled: bool,
    /// The codes as a text file, inside the link itself (`data:`): the download
    /// asks the server for nothing, so nothing can fetch the codes again later.
    download_href: String,
    download_name: String,
}

/// The recovery codes, shown this once, with a copy button (script) and a
/// download (no script needed).
pub fn codes_page(state: &AppState, me: &SignedIn, nav: NavUser, codes: Vec<String>, enabled: bool) -> Response {
    let t = me.t();
    let user = &me.0.user;
    let account = match &user.email {
        Some(email) => format!("{} ({email})", user.user_id),
        None => user.user_id.clone(),
    };
    let made = local_time(state.usher.now(), user.profile.timezone);
    let text = codes_file(t, &account, &state.config.base_url, &made, &codes);
    let page = CodesPage {
        l: Layout::new(t, "two_step.codes_title", Some(nav), "profile"),
        codes,
        enabled,
        download_href: format!("data:text/plain;charset=utf-8;base64,{}", STANDARD.encode(text.as_bytes())),
        download_name: format!("usher-recovery-codes-{}.txt", file_name_part(&user.user_id)),
    };
    render(StatusCode::OK, &page)
}

/// The text file of recovery codes: which account and server they are for,
/// when they were made, how they work, then the codes, one a line.
fn codes_file(t: Tr, account: &str, server: &str, made: &str, codes: &[String]) -> String {
    let mut lines = vec![
        t.get("two_step.codes_file_title").into_owned(),
        t.with("two_step.codes_file_account", "account", account),
        t.with("two_step.codes_file_server", "server", server),
        t.with("two_step.codes_file_made", "at", made),
        String::new(),
        t.get("two_step.codes_file_hint").into_owned(),
        String::new(),
    ];
    lines.extend(codes.iter().cloned());
    lines.push(String::new());
    lines.join("\n")
}

/// A user ID as part of a file name: letters, digits, `.`, `_` and `-` kept,
/// anything else a `-`.
fn file_name_part(user_id: &str) -> String {
    let keep = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
    let part: String = user_id.chars().map(|c| if keep(c) { c } else { '-' }).collect();
    match part.trim_matches(['.', '-']) {
        "" => "account".to_owned(),
        part => part.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codes_file_says_whose_codes_they_are_and_lists_them() {
        let codes = vec!["abcd-efgh".to_owned(), "ijkl-mnop".to_owned()];
        let text = codes_file(
            Tr(usher_domain::Language::Fr),
            "ann (ann@example.org)",
            "https://id.example.org",
            "2026-01-15 13:00 (Europe/Paris)",
            &codes,
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "Codes de secours Usher");
        assert_eq!(lines[1], "Compte : ann (ann@example.org)");
        assert_eq!(lines[2], "Serveur : https://id.example.org");
        assert_eq!(lines[3], "Créés le : 2026-01-15 13:00 (Europe/Paris)");
        assert_eq!(&lines[lines.len() - 2..], ["abcd-efgh", "ijkl-mnop"]);
        assert_eq!(file_name_part("Zoë O'Neil@acme"), "Zo--O-Neil-acme");
        assert_eq!(file_name_part("../x"), "x");
        assert_eq!(file_name_part("ёж"), "account");
    }

    #[test]
    fn a_session_restricted_to_enrolment_opens_only_the_enrolment_pages() {
        assert!(allowed_while_enrolling(ENROL_PATH) && allowed_while_enrolling(RESTART_PATH));
        for path in ["/profile", "/profile/security", "/profile/security/two-step/disable", "/admin/users"] {
            assert!(!allowed_while_enrolling(path), "{path}");
        }
    }
}
