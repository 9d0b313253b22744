//! Personal API tokens in the web UI: the "API tokens" tab of My profile, and
//! the page where an Administrator or User Manager manages another user's
//! tokens. A new or regenerated secret is shown once on the list the POST
//! redirects to (`web::reveal`): it is in no URL, and reloading the list
//! neither makes another token nor shows the secret again.

use askama::Template;
use axum::{
    Form,
    extract::{
        Path, State,
        rejection::{FormRejection, PathRejection},
    },
    http::StatusCode,
    response::IntoResponse,
};
use axum_extra::extract::CookieJar;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use usher_core::{
    Error,
    store::{ApiToken, TokenFilter, User},
    tokens::{Expiry, IssuedToken, TokenSpec, TokenStatus},
};
use usher_domain::{FieldError, TimeZone, TokenId, UserId};

use self::form::{ExpiryOption, ExpiryPicker, TokenForm, never_allowed, token_errors};
use super::{
    i18n::{Tr, local_time_short},
    page::{CsrfForm, Input, Layout, SignedIn, WebQuery, WebResult, render, see_other},
    scopes::ScopePicker,
};
use crate::{app::AppState, extract::Ctx};

mod confirm;
mod edit;
mod form;

pub use confirm::{confirm_delete, confirm_delete_user_token, confirm_regenerate, confirm_revoke};
pub use edit::{edit_page, save_token};

/// Clients people often make tokens for, suggested in the form (free text).
const CLIENTS: &[&str] = &[
    "curl",
    "Jenkins",
    "GitHub Actions",
    "GitLab CI",
    "Azure DevOps",
    "Terraform",
    "Ansible",
    "Postman",
    "Python",
    "PowerShell",
];

/// How many tokens each list shows.
const LIST_LIMIT: u32 = 100;

/// Whose tokens a page is about, and through which address.
struct Target {
    owner: User,
    /// An administrator's view of another user (`/admin/users/{id}/tokens`).
    managed: bool,
}

impl Target {
    /// Whose tokens, as the core's token services take it.
    fn owner_arg(&self) -> Option<UserId> {
        self.managed.then_some(self.owner.id)
    }

    fn base(&self) -> String {
        if self.managed { format!("/admin/users/{}/tokens", self.owner.id) } else { "/profile/tokens".to_owned() }
    }
}

/// The caller's own tokens.
async fn own(state: &AppState, me: &SignedIn) -> WebResult<Target> {
    let owner = state.usher.token_holder(&me.0, None).await.map_err(|e| me.core_error(e))?;
    Ok(Target { owner, managed: false })
}

/// Another user's tokens: the core checks the organization, the caller's role
/// and that a User Manager does not reach an Administrator.
async fn managed(state: &AppState, me: &SignedIn, id: UserId) -> WebResult<Target> {
    let owner = state.usher.token_holder(&me.0, Some(id)).await.map_err(|e| me.core_error(e))?;
    Ok(Target { owner, managed: true })
}

/// A path that does not hold the ids it should names no page.
fn path<T>(me: &SignedIn, path: Result<Path<T>, PathRejection>) -> WebResult<T> {
    path.map(|Path(v)| v).map_err(|_| me.error(StatusCode::NOT_FOUND, "not_found"))
}

/// A link of a token's row: to the edit page, or to the confirmation page of
/// a destructive action.
pub struct RowAction {
    pub name: &'static str,
    pub label: String,
    pub href: String,
    /// Leads to a confirmation (a dialog with JavaScript).
    pub confirm: bool,
    pub style: &'static str,
}

/// A local time in two parts, so a narrow column breaks between date and time.
pub struct Stamp {
    pub date: String,
    pub time: Option<String>,
}

impl Stamp {
    fn at(at: DateTime<Utc>, tz: TimeZone) -> Self {
        let text = local_time_short(at, tz);
        match text.split_once(' ') {
            Some((date, time)) => Self { date: date.to_owned(), time: Some(time.to_owned()) },
            None => Self { date: text, time: None },
        }
    }
}

/// One token, ready to show.
pub struct TokenRow {
    pub id: TokenId,
    pub description: String,
    pub client: String,
    pub scopes: Vec<String>,
    pub hint: String,
    pub created: Stamp,
    pub expires: Stamp,
    pub last_used: Stamp,
    pub status: &'static str,
    pub status_label: String,
    /// When it was revoked or expired.
    pub ended: Option<Stamp>,
    pub actions: Vec<RowAction>,
}

/// What can be done to a token: the owner edits, regenerates and revokes an
/// active one, regenerates an expired one and deletes an inactive one; an
/// administrator deletes any.
fn actions(t: Tr, base: &str, managed: bool, token: &ApiToken, status: TokenStatus) -> Vec<RowAction> {
    let action = |name: &'static str, confirm: bool, style: &'static str| RowAction {
        name,
        label: t.get(&format!("tokens.{name}")).into_owned(),
        href: format!("{base}/{}/{name}", token.id),
        confirm,
        style,
    };
    match (managed, status) {
        (true, _) => vec![action("delete", true, "danger")],
        (false, TokenStatus::Active) => vec![
            action("edit", false, "secondary"),
            action("regenerate", true, "secondary"),
            action("revoke", true, "danger"),
        ],
        (false, TokenStatus::Expired) => {
            vec![action("regenerate", true, "secondary"), action("delete", true, "danger")]
        }
        (false, TokenStatus::Revoked) => vec![action("delete", true, "danger")],
    }
}

fn token_row(t: Tr, tz: TimeZone, target: &Target, token: &ApiToken, now: DateTime<Utc>) -> TokenRow {
    let never = || Stamp { date: t.get("profile.never").into_owned(), time: None };
    let status = TokenStatus::of(token, now);
    let ended = match status {
        TokenStatus::Revoked => token.revoked_at,
        TokenStatus::Expired => token.expires_at,
        TokenStatus::Active => None,
    };
    TokenRow {
        id: token.id,
        description: token.description.clone(),
        client: if token.client.is_empty() { t.get("audit.none").into_owned() } else { token.client.clone() },
        scopes: token.scopes.clone(),
        hint: format!("{}…{}", token.first_chars, token.last_chars),
        created: Stamp::at(token.created_at, tz),
        expires: token.expires_at.map_or_else(never, |at| Stamp::at(at, tz)),
        last_used: token.last_used_at.map_or_else(never, |at| Stamp::at(at, tz)),
        status: status.as_str(),
        status_label: t.get(&format!("tokens.status_{}", status.as_str())).into_owned(),
        ended: ended.map(|at| Stamp::at(at, tz)),
        actions: actions(t, &target.base(), target.managed, token, status),
    }
}

/// The secret panel's content.
#[derive(serde::Serialize, Deserialize)]
pub struct Issued {
    pub heading: String,
    pub secret: String,
}

impl Issued {
    fn of(t: Tr, key: &str, issued: IssuedToken) -> Self {
        Self { heading: t.with(key, "name", &issued.token.description), secret: issued.secret }
    }
}

/// The owner of a token list that is not the reader's own.
pub struct Owner {
    pub heading: String,
    pub user_id: String,
    /// The user's details page, whose tabs this page shares.
    pub details: String,
}

#[derive(Template)]
#[template(path = "tokens.html")]
struct TokensPage {
    l: Layout,
    csrf: String,
    base: String,
    owner: Option<Owner>,
    notice: Option<String>,
    problem: Option<String>,
    issued: Option<Issued>,
    summary: bool,
    description: Input,
    client: Input,
    clients: &'static [&'static str],
    scopes: ScopePicker,
    expiry: ExpiryPicker,
    facts: Vec<(String, String)>,
    example: String,
    zone_note: String,
    active: Vec<TokenRow>,
    inactive: Vec<TokenRow>,
}

/// What a tokens page shows besides the lists.
#[derive(Default)]
struct Outcome {
    form: TokenForm,
    errors: Vec<FieldError>,
    issued: Option<Issued>,
    notice: Option<String>,
    problem: Option<String>,
}

async fn show(state: &AppState, me: &SignedIn, target: &Target, o: Outcome, status: StatusCode) -> WebResult {
    let t = me.t();
    let tz = me.0.user.profile.timezone;
    let fail = |e| me.core_error(e);
    let policy = state.usher.token_policy(target.owner.org_id).await.map_err(fail)?;
    let list = |filter| state.usher.tokens(&me.0, target.owner_arg(), filter, None, LIST_LIMIT);
    let (active, inactive) =
        (list(TokenFilter::Active).await.map_err(fail)?, list(TokenFilter::Inactive).await.map_err(fail)?);
    let now = state.usher.now();
    let rows = |items: Vec<ApiToken>| items.iter().map(|tok| token_row(t, tz, target, tok, now)).collect();
    let errors = token_errors(t, &o.errors, &policy);
    let f = &o.form;
    let default = ExpiryOption {
        value: "default",
        label: t.with("tokens.expiry_default", "n", policy.default_lifetime_days),
        checked: false,
    };
    let yes_no = |b: bool| t.get(if b { "tokens.allowed" } else { "tokens.not_allowed" }).into_owned();
    let page = TokensPage {
        l: if target.managed { me.layout("admin_tokens.title", "users") } else { me.layout("tokens.title", "profile") },
        csrf: me.nav().csrf,
        base: target.base(),
        owner: target.managed.then(|| Owner {
            heading: t.with("admin_tokens.heading", "name", target.owner.display_name()),
            user_id: target.owner.user_id.clone(),
            details: format!("/admin/users/{}", target.owner.id),
        }),
        notice: o.notice,
        problem: o.problem,
        issued: o.issued,
        summary: !errors.is_empty(),
        description: Input::new(t, "description", "tokens.description", &f.description)
            .hint(t, "tokens.description_hint")
            .required()
            .errors(&errors),
        client: Input::new(t, "client", "tokens.client", &f.client)
            .hint(t, "tokens.client_hint")
            .list("known-clients")
            .errors(&errors),
        clients: CLIENTS,
        scopes: ScopePicker::new(t, &policy.scopes, &f.scopes, &errors),
        expiry: ExpiryPicker::new(t, tz, now, &policy, default, f, &errors),
        facts: vec![
            (t.get("tokens.fact_default").into_owned(), t.with("tokens.days", "n", policy.default_lifetime_days)),
            (
                t.get("tokens.fact_max").into_owned(),
                policy
                    .max_lifetime_days
                    .map_or_else(|| t.get("tokens.no_cap").into_owned(), |d| t.with("tokens.days", "n", d)),
            ),
            (t.get("tokens.fact_never").into_owned(), yes_no(never_allowed(&policy))),
        ],
        example: format!("curl -H \"Authorization: Bearer ush_…\" {}/api/v1/me", state.config.base_url),
        zone_note: t.with("tokens.zone_note", "n", tz.name()),
        active: rows(active.items),
        inactive: rows(inactive.items),
    };
    Ok(render(status, &page))
}

/// `?done=` after a change that redirects back to the list.
#[derive(Debug, Default, Deserialize)]
pub struct DoneQuery {
    done: Option<String>,
}

impl DoneQuery {
    fn notice(&self, t: Tr) -> Option<String> {
        let key = match self.done.as_deref()? {
            "saved" => "tokens.done_saved",
            "revoked" => "tokens.done_revoked",
            "deleted" => "tokens.done_deleted",
            _ => return None,
        };
        Some(t.get(key).into_owned())
    }
}

async fn create(
    state: &AppState,
    ctx: &usher_core::RequestContext,
    me: &SignedIn,
    target: &Target,
    form: TokenForm,
) -> WebResult {
    let t = me.t();
    let expires = match form.expiry(me.0.user.profile.timezone) {
        Ok(e) => e.unwrap_or(Expiry::Default),
        Err(e) => {
            let o = Outcome { form, errors: vec![e], ..Outcome::default() };
            return show(state, me, target, o, StatusCode::UNPROCESSABLE_ENTITY).await;
        }
    };
    let spec = TokenSpec {
        description: form.description.clone(),
        client: form.client.clone(),
        scopes: form.scopes.clone(),
        expires,
    };
    match state.usher.create_token(ctx, &me.0, target.owner_arg(), spec).await {
        Ok(issued) => {
            let issued = Issued::of(t, "tokens.created_heading", issued);
            super::reveal::redirect(state, me, &issued, &target.base()).await
        }
        Err(Error::Invalid(e)) => {
            let o = Outcome { form, errors: e.0, ..Outcome::default() };
            show(state, me, target, o, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(me.core_error(e)),
    }
}

/// `GET /profile/tokens`: the create form, then active and inactive tokens
/// (and, once after creating or regenerating one, its secret).
pub async fn tokens_page(
    State(state): State<AppState>,
    me: SignedIn,
    jar: CookieJar,
    WebQuery(q): WebQuery<DoneQuery>,
) -> WebResult {
    let target = own(&state, &me).await?;
    list(&state, &me, &target, jar, &q).await
}

/// The list page, with a secret waiting to be shown once, if any.
async fn list(state: &AppState, me: &SignedIn, target: &Target, jar: CookieJar, q: &DoneQuery) -> WebResult {
    let (issued, jar) = super::reveal::take::<Issued>(state, me, jar).await?;
    let o = Outcome { notice: q.notice(me.t()), issued, ..Outcome::default() };
    Ok((jar, show(state, me, target, o, StatusCode::OK).await?).into_response())
}

/// `POST /profile/tokens`: creates a token and shows its secret once.
pub async fn create_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<TokenForm>, FormRejection>,
) -> WebResult {
    let target = own(&state, &me).await?;
    let form = me.accept(form)?;
    create(&state, &ctx, &me, &target, form).await
}

/// A form that only carries the CSRF token (the row buttons).
#[derive(Debug, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for ActionForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// `POST /profile/tokens/{id}/regenerate`: a new secret, shown once.
pub async fn regenerate_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<TokenId>, PathRejection>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let target = own(&state, &me).await?;
    me.accept(form)?;
    let t = me.t();
    match state.usher.regenerate_token(&ctx, &me.0, target.owner_arg(), id).await {
        Ok(issued) => {
            let issued = Issued::of(t, "tokens.regenerated_heading", issued);
            super::reveal::redirect(&state, &me, &issued, &target.base()).await
        }
        Err(Error::Invalid(e)) => {
            let reasons: Vec<String> = e.0.iter().map(|e| t.field_error(e, None)).collect();
            let problem = format!("{} {}", t.get("tokens.regenerate_failed"), reasons.join(" "));
            let o = Outcome { problem: Some(problem), ..Outcome::default() };
            show(&state, &me, &target, o, StatusCode::UNPROCESSABLE_ENTITY).await
        }
        Err(e) => Err(me.core_error(e)),
    }
}

/// `POST /profile/tokens/{id}/revoke`: the token stops working at once.
pub async fn revoke_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<TokenId>, PathRejection>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let target = own(&state, &me).await?;
    me.accept(form)?;
    state.usher.revoke_token(&ctx, &me.0, target.owner_arg(), id).await.map_err(|e| me.core_error(e))?;
    Ok(see_other("/profile/tokens?done=revoked"))
}

/// `POST /profile/tokens/{id}/delete`.
pub async fn delete_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<TokenId>, PathRejection>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let target = own(&state, &me).await?;
    me.accept(form)?;
    state.usher.delete_token(&ctx, &me.0, target.owner_arg(), id).await.map_err(|e| me.core_error(e))?;
    Ok(see_other("/profile/tokens?done=deleted"))
}

/// `GET /admin/users/{id}/tokens`: a user's tokens, for Administrators and
/// User Managers.
pub async fn user_tokens_page(
    State(state): State<AppState>,
    me: SignedIn,
    jar: CookieJar,
    id: Result<Path<UserId>, PathRejection>,
    WebQuery(q): WebQuery<DoneQuery>,
) -> WebResult {
    let id = path(&me, id)?;
    let target = managed(&state, &me, id).await?;
    list(&state, &me, &target, jar, &q).await
}

/// `POST /admin/users/{id}/tokens`: creates a token for the user.
pub async fn create_user_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<UserId>, PathRejection>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let target = managed(&state, &me, id).await?;
    let form = me.accept(form)?;
    create(&state, &ctx, &me, &target, form).await
}

/// `POST /admin/users/{id}/tokens/{token_id}/delete`.
pub async fn delete_user_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    ids: Result<Path<(UserId, TokenId)>, PathRejection>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> WebResult {
    let (id, token_id) = path(&me, ids)?;
    let target = managed(&state, &me, id).await?;
    me.accept(form)?;
    state.usher.delete_token(&ctx, &me.0, target.owner_arg(), token_id).await.map_err(|e| me.core_error(e))?;
    Ok(see_other(&format!("{}?done=deleted", target.base())))
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use usher_domain::{Language, OrgId};
    use uuid::Uuid;

    use super::*;

    fn token(revoked: bool, expires_in_days: i64) -> ApiToken {
        let now = Utc::now();
        ApiToken {
            id: TokenId::from_uuid(Uuid::nil()),
            owner: UserId::from_uuid(Uuid::nil()),
            org_id: OrgId::from_uuid(Uuid::nil()),
            description: "CI".into(),
            client: String::new(),
            scopes: vec!["read".into()],
            digest: vec![],
            first_chars: "ush_AbCd".into(),
            last_chars: "x9Qz".into(),
            created_at: now - Duration::days(30),
            expires_at: Some(now + Duration::days(expires_in_days)),
            revoked_at: revoked.then_some(now),
            last_used_at: None,
            created_by: None,
            authority: None,
        }
    }

    #[test]
    fn each_status_offers_its_own_actions() {
        let t = Tr(Language::En);
        let names = |managed: bool, tok: &ApiToken| {
            let status = TokenStatus::of(tok, Utc::now());
            actions(t, "/b", managed, tok, status).into_iter().map(|a| a.name).collect::<Vec<_>>()
        };
        assert_eq!(names(false, &token(false, 5)), ["edit", "regenerate", "revoke"]);
        assert_eq!(names(false, &token(false, -1)), ["regenerate", "delete"], "an expired token can be renewed");
        assert_eq!(names(false, &token(true, 5)), ["delete"]);
        assert_eq!(names(true, &token(false, 5)), ["delete"], "administrators delete any token");
        let row = token_row(t, TimeZone::default(), &target(false), &token(false, 5), Utc::now());
        assert_eq!(row.hint, "ush_AbCd…x9Qz");
        assert_eq!(
            (row.last_used.date.as_str(), row.last_used.time.as_deref(), row.client.as_str()),
            ("Never", None, "—")
        );
        let paris = TimeZone::parse("Europe/Paris").unwrap();
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 11, 24, 23, 30, 0).unwrap();
        let stamp = Stamp::at(at, paris);
        assert_eq!((stamp.date.as_str(), stamp.time.as_deref()), ("2026-11-25", Some("00:30")));
        assert_eq!(row.actions[2].href, format!("/profile/tokens/{}/revoke", Uuid::nil()));
        assert!(row.actions[2].confirm && row.actions[2].style == "danger" && !row.actions[0].confirm);
    }

    fn target(managed: bool) -> Target {
        let now = Utc::now();
        let owner = User {
            id: UserId::from_uuid(Uuid::nil()),
            org_id: OrgId::from_uuid(Uuid::nil()),
            user_id: "ada".into(),
            email: None,
            profile: Default::default(),
            status: usher_core::store::UserStatus::Active,
            roles: vec![],
            must_change_password: false,
            password_changed_at: None,
            created_at: now,
            updated_at: now,
            last_login_at: None,
            metadata: Default::default(),
        };
        Target { owner, managed }
    }

    #[test]
    fn every_key_built_at_run_time_exists() {
        for lang in Language::ALL {
            let t = Tr(lang);
            let mut keys = vec![];
            for name in ["edit", "regenerate", "revoke", "delete"] {
                keys.push(format!("tokens.{name}"));
            }
            for status in ["active", "revoked", "expired"] {
                keys.push(format!("tokens.status_{status}"));
            }
            for key in keys {
                assert!(t.try_get(&key).is_some(), "{lang}: {key}");
            }
        }
    }
}
