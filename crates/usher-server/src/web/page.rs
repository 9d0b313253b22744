//! What every page shares: the layout data, who is visiting and in which
//! language, the form and query extractors, CSRF checks and error pages.

use std::{collections::BTreeMap, sync::LazyLock};

use askama::Template;
use axum::{
    extract::{FromRequestParts, Query, rejection::FormRejection},
    http::{HeaderMap, StatusCode, header, request::Parts},
    response::{Html, IntoResponse, Redirect, Response},
};
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};
use usher_core::{Chain, Conflict, Error, auth::Principal, secrets};
use usher_domain::{FieldError, Language, PasswordPolicy};

use super::i18n::{Tr, negotiate};
use crate::app::AppState;

/// The cookie that remembers the language picked on a public page.
pub const LANG_COOKIE: &str = "usher_lang";

/// The stylesheet's address, with a digest of its content so a long cache
/// lifetime never serves a stale sheet after an upgrade.
pub static CSS_HREF: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(super::assets::CSS.as_bytes());
    format!("/static/usher.css?v={}", hex::encode(&digest[..6]))
});

/// The script's address, versioned the same way.
pub static JS_HREF: LazyLock<String> = LazyLock::new(|| {
    let digest = Sha256::digest(super::assets::JS.as_bytes());
    format!("/static/usher.js?v={}", hex::encode(&digest[..6]))
});

/// The signed-in user as the header shows them.
#[derive(Debug, Clone)]
pub struct NavUser {
    pub name: String,
    /// One or two letters for the avatar circle.
    pub initials: String,
    pub user_id: String,
    pub csrf: String,
    /// Which navigation entries to show, from the one policy.
    pub can: usher_core::access::policy::Capabilities,
}

impl NavUser {
    pub fn of(p: &Principal) -> Self {
        let caps = usher_core::access::policy::Capabilities::of(p);
        let profile = &p.user.profile;
        let first = |s: Option<&str>| s.and_then(|s| s.trim().chars().next());
        let initials: String = match (first(profile.first_name.as_deref()), first(profile.last_name.as_deref())) {
            (None, None) => first(Some(&p.user.user_id)).into_iter().collect(),
            (a, b) => a.into_iter().chain(b).collect(),
        };
        Self {
            name: p.user.display_name(),
            initials: initials.to_uppercase(),
            user_id: p.user.user_id.clone(),
            csrf: p.csrf_token.clone().unwrap_or_default(),
            can: caps,
        }
    }
}

/// The data `base.html` needs on every page.
#[derive(Debug, Clone)]
pub struct Layout {
    pub t: Tr,
    pub title: String,
    pub user: Option<NavUser>,
    /// Which navigation entry is current: "profile", "users", "policy", "token_policy", "audit" or "".
    pub section: &'static str,
    pub css: &'static str,
    pub js: &'static str,
    /// A page the visitor must finish before any other (the forced password
    /// change, the required two-step enrolment): no navigation that would only
    /// lead back here.
    pub restricted: bool,
}

impl Layout {
    pub fn new(t: Tr, title_key: &str, user: Option<NavUser>, section: &'static str) -> Self {
        let title = t.get(title_key).into_owned();
        Self { t, title, user, section, css: CSS_HREF.as_str(), js: JS_HREF.as_str(), restricted: false }
    }

    /// The layout of a page that must be finished first (see `restricted`).
    pub fn restricted(mut self) -> Self {
        self.restricted = true;
        self
    }

    /// The navigation groups the visitor may see (none when signed out).
    pub fn menu(&self) -> Vec<super::nav::NavGroup> {
        self.user.as_ref().map(|u| super::nav::menu(self.t, &u.can)).unwrap_or_default()
    }
}

/// Renders a template into an HTML response with the given status.
pub fn render(status: StatusCode, template: &impl Template) -> Response {
    match template.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "rendering a page failed");
            (StatusCode::INTERNAL_SERVER_ERROR, "Internal error").into_response()
        }
    }
}

/// A redirect after a form post (303: the browser follows with GET).
pub fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Errors shown as a page in the visitor's language, or a redirect to sign in
/// (or to the forced password change).
#[derive(Debug)]
pub enum WebError {
    SignIn,
    /// Signed in with a temporary password: nothing else until it is changed.
    ChangePassword,
    /// The organization requires two-step verification: nothing else until it is on.
    EnrolTwoStep,
    Page {
        status: StatusCode,
        kind: &'static str,
        t: Tr,
        user: Option<NavUser>,
    },
    /// A change the current state refuses (409), said for its kind (`conflict.<code>`).
    Conflict {
        conflict: Conflict,
        t: Tr,
        user: Option<NavUser>,
    },
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    l: Layout,
    heading: String,
    text: String,
}

impl WebError {
    pub fn page(status: StatusCode, kind: &'static str, t: Tr, user: Option<NavUser>) -> Self {
        Self::Page { status, kind, t, user }
    }

    pub fn internal(t: Tr) -> Self {
        Self::page(StatusCode::INTERNAL_SERVER_ERROR, "internal", t, None)
    }

    /// A service error other than invalid input (handled by each form).
    pub fn from_core(e: Error, t: Tr, user: Option<NavUser>) -> Self {
        match e {
            Error::Unauthenticated | Error::BadCredentials | Error::BadCode => Self::SignIn,
            Error::Locked { .. } => Self::page(StatusCode::TOO_MANY_REQUESTS, "forbidden", t, user),
            Error::Forbidden(_) => Self::page(StatusCode::FORBIDDEN, "forbidden", t, user),
            Error::NotFound => Self::page(StatusCode::NOT_FOUND, "not_found", t, user),
            Error::Invalid(_) => Self::page(StatusCode::UNPROCESSABLE_ENTITY, "bad_request", t, user),
            Error::Conflict(conflict) => Self::Conflict { conflict, t, user },
            Error::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                Self::page(StatusCode::SERVICE_UNAVAILABLE, "unavailable", t, user)
            }
            Error::Internal(cause) => {
                tracing::error!(cause = %Chain(&cause), "internal error");
                Self::page(StatusCode::INTERNAL_SERVER_ERROR, "internal", t, user)
            }
        }
    }
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        match self {
            WebError::SignIn => see_other("/login"),
            WebError::ChangePassword => see_other(super::password_change::PATH),
            WebError::EnrolTwoStep => see_other(super::security::mfa::ENROL_PATH),
            WebError::Page { status, kind, t, user } => {
                let page = ErrorPage {
                    l: Layout::new(t, &format!("error.{kind}_title"), user, ""),
                    heading: t.get(&format!("error.{kind}_title")).into_owned(),
                    text: t.get(&format!("error.{kind}_text")).into_owned(),
                };
                let mut res = render(status, &page);
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    res.headers_mut().insert(header::RETRY_AFTER, crate::error::UNAVAILABLE_RETRY_AFTER_SECS.into());
                }
                res
            }
            WebError::Conflict { conflict, t, user } => {
                let page = ErrorPage {
                    l: Layout::new(t, "error.conflict_title", user, ""),
                    heading: t.get("error.conflict_title").into_owned(),
                    text: t.get(&format!("conflict.{}", conflict.code())).into_owned(),
                };
                render(StatusCode::CONFLICT, &page)
            }
        }
    }
}

pub type WebResult<T = Response> = Result<T, WebError>;

/// The language of an anonymous request: `?lang=`, cookie, `Accept-Language`.
pub fn anonymous_language(parts_query: Option<&str>, headers: &HeaderMap) -> (Language, bool) {
    let query_lang = parts_query.and_then(|q| {
        url::form_urlencoded::parse(q.as_bytes()).find(|(k, _)| k == "lang").map(|(_, v)| v.into_owned())
    });
    let from_query = query_lang.as_deref().is_some_and(|q| q.parse::<Language>().is_ok());
    let jar = CookieJar::from_headers(headers);
    let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok());
    (negotiate(query_lang.as_deref(), jar.get(LANG_COOKIE).map(Cookie::value), accept), from_query)
}

/// Anyone: signed in or not, with the page language chosen for them.
pub struct Visitor {
    pub me: Option<Principal>,
    pub t: Tr,
    /// The language came from `?lang=`: remember it in a cookie.
    pub chose_language: bool,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> WebResult<Self> {
        let (lang, chose_language) = anonymous_language(parts.uri.query(), &parts.headers);
        let me = principal(&parts.headers, state, Tr(lang)).await?;
        match me {
            Some(me) => Ok(Self { t: Tr(me.user.profile.language), me: Some(me), chose_language: false }),
            None => Ok(Self { me: None, t: Tr(lang), chose_language }),
        }
    }
}

async fn principal(headers: &HeaderMap, state: &AppState, t: Tr) -> WebResult<Option<Principal>> {
    crate::extract::session_principal(headers, state).await.map_err(|e| {
        tracing::error!(detail = %e.detail, "reading the session failed");
        WebError::internal(t)
    })
}

/// A signed-in user; anyone else is sent to the sign-in page.
pub struct SignedIn(pub Principal);

impl FromRequestParts<AppState> for SignedIn {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> WebResult<Self> {
        let (lang, _) = anonymous_language(None, &parts.headers);
        let me = principal(&parts.headers, state, Tr(lang)).await?.ok_or(WebError::SignIn)?;
        if me.must_change_password() && parts.uri.path() != super::password_change::PATH {
            return Err(WebError::ChangePassword);
        }
        if !me.must_change_password()
            && super::security::mfa::enrolment_session(&parts.headers)
            && !super::security::mfa::allowed_while_enrolling(parts.uri.path())
        {
            return Err(WebError::EnrolTwoStep);
        }
        Ok(Self(me))
    }
}

impl SignedIn {
    /// The translator for the user's own language.
    pub fn t(&self) -> Tr {
        Tr(self.0.user.profile.language)
    }

    pub fn nav(&self) -> NavUser {
        NavUser::of(&self.0)
    }

    pub fn layout(&self, title_key: &str, section: &'static str) -> Layout {
        Layout::new(self.t(), title_key, Some(self.nav()), section)
    }

    /// An error page for this user.
    pub fn error(&self, status: StatusCode, kind: &'static str) -> WebError {
        WebError::page(status, kind, self.t(), Some(self.nav()))
    }

    pub fn core_error(&self, e: Error) -> WebError {
        WebError::from_core(e, self.t(), Some(self.nav()))
    }

    /// The core's refusal of `op`, as a 403 page, for a handler that reads a
    /// form before the service sees it: someone who may not make the change is
    /// refused first, not shown the form's errors.
    pub fn refused_unless(&self, op: usher_core::access::policy::Operation) -> WebResult<()> {
        usher_core::access::policy::check(&self.0, op, Default::default()).map_err(|e| self.core_error(e))
    }

    /// Accepts a posted form: it must decode and carry this session's CSRF token.
    pub fn accept<T: CsrfForm>(&self, form: Result<axum::Form<T>, FormRejection>) -> WebResult<T> {
        let axum::Form(form) = form.map_err(|r| self.form_rejected(&r))?;
        let expected = self.0.csrf_token.as_deref().unwrap_or("");
        if expected.is_empty() || !secrets::same(form.csrf_token(), expected) {
            return Err(self.error(StatusCode::FORBIDDEN, "csrf"));
        }
        Ok(form)
    }

    fn form_rejected(&self, r: &FormRejection) -> WebError {
        tracing::debug!(reason = %r.body_text(), "unreadable form");
        self.error(form_status(r), "bad_request")
    }
}

/// The status for a form that could not be read: always a client error.
pub fn form_status(r: &FormRejection) -> StatusCode {
    let status = r.status();
    if status.is_client_error() { status } else { StatusCode::BAD_REQUEST }
}

/// A form that carries the CSRF token in its `csrf_token` field.
pub trait CsrfForm {
    fn csrf_token(&self) -> &str;
}

/// Query parameters whose decoding failure is a "bad request" page.
pub struct WebQuery<T>(pub T);

impl<T: DeserializeOwned + Send> FromRequestParts<AppState> for WebQuery<T> {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> WebResult<Self> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(q)) => Ok(Self(q)),
            Err(_) => {
                let (lang, _) = anonymous_language(None, &parts.headers);
                Err(WebError::page(StatusCode::BAD_REQUEST, "bad_request", Tr(lang), None))
            }
        }
    }
}

/// Field errors of a form, already translated, keyed by field name.
#[derive(Debug, Default, Clone)]
pub struct FieldErrors(BTreeMap<String, Vec<String>>);

impl FieldErrors {
    /// Translates service errors; the policy supplies numbers for password rules.
    pub fn translate(t: Tr, errors: &[FieldError], policy: Option<&PasswordPolicy>) -> Self {
        let mut out = Self::default();
        for e in errors {
            out.add(&e.field, t.field_error(e, policy));
        }
        out
    }

    pub fn add(&mut self, field: &str, message: String) {
        let list = self.0.entry(field.to_owned()).or_default();
        if !list.contains(&message) {
            list.push(message);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn get(&self, field: &str) -> &[String] {
        self.0.get(field).map_or(&[], Vec::as_slice)
    }
}

/// One text input with its label, hint and errors, as `field` in `macros.html` draws it.
#[derive(Debug, Clone)]
pub struct Input {
    pub name: &'static str,
    pub label: String,
    pub value: String,
    pub kind: &'static str,
    pub autocomplete: &'static str,
    pub hint: Option<String>,
    pub required: bool,
    pub errors: Vec<String>,
    /// Another element that describes the input (e.g. the password rules).
    pub also_described_by: Option<&'static str>,
    /// The id of a `<datalist>` of suggestions.
    pub list: Option<&'static str>,
    /// Names a user: the script offers the directory's matches as you type.
    pub picker: bool,
}

impl Input {
    pub fn new(t: Tr, name: &'static str, label_key: &str, value: &str) -> Self {
        Self {
            name,
            label: t.get(label_key).into_owned(),
            value: value.to_owned(),
            kind: "text",
            autocomplete: "off",
            hint: None,
            required: false,
            errors: Vec::new(),
            also_described_by: None,
            list: None,
            picker: false,
        }
    }

    /// A field that names a user, with type-ahead over the directory.
    pub fn picker(mut self) -> Self {
        self.picker = true;
        self
    }

    /// Suggests the values of the `<datalist>` with this id.
    pub fn list(mut self, id: &'static str) -> Self {
        self.list = Some(id);
        self
    }

    pub fn described_by_element(mut self, id: &'static str) -> Self {
        self.also_described_by = Some(id);
        self
    }

    pub fn kind(mut self, kind: &'static str) -> Self {
        self.kind = kind;
        self
    }

    pub fn autocomplete(mut self, autocomplete: &'static str) -> Self {
        self.autocomplete = autocomplete;
        self
    }

    pub fn hint(mut self, t: Tr, key: &str) -> Self {
        self.hint = Some(t.get(key).into_owned());
        self
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    pub fn errors(mut self, errors: &FieldErrors) -> Self {
        self.errors = errors.get(self.name).to_vec();
        self
    }

    /// The ids the input is described by: its hint, its errors, and any other.
    pub fn described_by(&self) -> String {
        let own = described_by(self.name, self.hint.is_some(), !self.errors.is_empty());
        match self.also_described_by {
            Some(id) if own.is_empty() => id.to_owned(),
            Some(id) => format!("{own} {id}"),
            None => own,
        }
    }
}

/// A drop-down list with its label, hint and errors (`select` in `macros.html`).
#[derive(Debug, Clone)]
pub struct Select {
    pub name: &'static str,
    pub label: String,
    pub hint: Option<String>,
    pub options: Vec<Choice>,
    pub errors: Vec<String>,
}

/// One option of a [`Select`]; `lang` marks options written in another language.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
    pub lang: &'static str,
}

impl Select {
    pub fn new(t: Tr, name: &'static str, label_key: &str, options: Vec<Choice>) -> Self {
        Self { name, label: t.get(label_key).into_owned(), hint: None, options, errors: Vec::new() }
    }

    pub fn hint(mut self, t: Tr, key: &str) -> Self {
        self.hint = Some(t.get(key).into_owned());
        self
    }

    pub fn errors(mut self, errors: &FieldErrors) -> Self {
        self.errors = errors.get(self.name).to_vec();
        self
    }

    pub fn described_by(&self) -> String {
        described_by(self.name, self.hint.is_some(), !self.errors.is_empty())
    }
}

fn described_by(name: &str, hint: bool, errors: bool) -> String {
    let mut ids = Vec::new();
    if hint {
        ids.push(format!("{name}-hint"));
    }
    if errors {
        ids.push(format!("{name}-error"));
    }
    ids.join(" ")
}

pub use crate::extract::{session_cookie, session_removal};

/// Remembers a language chosen on a public page for the browser session
/// (enough to carry it from the sign-in form to the page its post returns).
pub fn language_cookie(state: &AppState, lang: Language) -> Cookie<'static> {
    Cookie::build((LANG_COOKIE, lang.code()))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(state.config.secure_cookies())
        .path("/")
        .build()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn anonymous_pages_pick_query_then_cookie_then_header() {
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("ru-RU,ru;q=0.9"));
        assert_eq!(anonymous_language(None, &headers), (Language::Ru, false));
        headers.insert(header::COOKIE, HeaderValue::from_static("usher_lang=fr; other=1"));
        assert_eq!(anonymous_language(None, &headers), (Language::Fr, false));
        assert_eq!(anonymous_language(Some("x=1&lang=en"), &headers), (Language::En, true));
        assert_eq!(anonymous_language(Some("lang=zz"), &headers), (Language::Fr, false));
    }

    #[test]
    fn field_errors_keep_each_message_once() {
        let mut e = FieldErrors::default();
        e.add("password", "a".into());
        e.add("password", "a".into());
        e.add("password", "b".into());
        assert_eq!(e.get("password"), ["a", "b"]);
        assert!(e.get("x").is_empty() && !e.is_empty());
    }

    #[test]
    fn inputs_are_described_by_hint_and_errors() {
        let t = Tr(Language::En);
        let mut errors = FieldErrors::default();
        errors.add("phone", "bad".into());
        let input = Input::new(t, "phone", "profile.phone", "").hint(t, "profile.phone_hint").errors(&errors);
        assert_eq!(input.described_by(), "phone-hint phone-error");
        assert_eq!(Input::new(t, "x", "profile.phone", "").described_by(), "");
        let rules = Input::new(t, "x", "profile.phone", "").described_by_element("rules");
        assert_eq!(rules.described_by(), "rules");
        assert_eq!(rules.errors(&errors).described_by(), "rules");
    }

    #[test]
    fn error_pages_and_roles_have_words_in_every_language() {
        use usher_domain::Role;
        for lang in Language::ALL {
            let t = Tr(lang);
            for kind in ["forbidden", "csrf", "bad_request", "not_found", "internal"] {
                for part in ["title", "text"] {
                    assert!(t.try_get(&format!("error.{kind}_{part}")).is_some(), "{lang}: {kind}_{part}");
                }
            }
            for role in [Role::Administrator, Role::UserManager, Role::Developer, Role::User] {
                assert!(t.try_get(&format!("roles.{}", role.as_str())).is_some(), "{lang}: {role}");
            }
            assert!(t.try_get("error.conflict_title").is_some(), "{lang}: conflict_title");
            for conflict in Conflict::ALL {
                assert!(t.try_get(&format!("conflict.{}", conflict.code())).is_some(), "{lang}: {conflict:?}");
            }
        }
    }

    #[test]
    fn the_stylesheet_address_changes_with_its_content() {
        assert!(CSS_HREF.starts_with("/static/usher.css?v=") && CSS_HREF.len() == "/static/usher.css?v=".len() + 12);
    }
}
