//! Invitations in the web UI: "Invite new user" for Administrators and User
//! Managers (the list with resend and withdraw, and the invite form with "send my
//! own invitation"), the invitation email template page (Administrators), and the
//! public registration page an invitation link opens.

use askama::Template;
use axum::{
    Form,
    extract::{Path, State, rejection::FormRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::CookieJar;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use usher_core::{
    Conflict, Error,
    invitations::{Acceptance, Invitation, InvitationStatus, InvitationTemplate},
};
use usher_domain::{FieldError, InvitationId, PasswordPolicy, Role};

use super::{
    i18n::{Tr, local_time_short},
    page::{
        CsrfForm, FieldErrors, Input, Layout, SignedIn, Visitor, WebError, WebQuery, WebResult, form_status, render,
        see_other, session_cookie,
    },
};
use crate::{app::AppState, extract::Ctx};

/// Translates a field error, with this area's own messages first.
fn message(t: Tr, e: &FieldError, policy: Option<&PasswordPolicy>) -> String {
    match t.try_get(&format!("invitations.errors.{}", e.code)) {
        Some(msg) => msg.into_owned(),
        None => t.field_error(e, policy),
    }
}

fn translate(t: Tr, errors: &[FieldError], policy: Option<&PasswordPolicy>) -> FieldErrors {
    let mut out = FieldErrors::default();
    for e in errors {
        out.add(&e.field, message(t, e, policy));
    }
    out
}

/// One invitation in the list.
pub struct Row {
    pub id: InvitationId,
    pub email: String,
    pub status: &'static str,
    pub status_label: String,
    pub invited_by: String,
    pub created: String,
    pub expires: String,
    pub can_resend: bool,
    pub can_withdraw: bool,
}

/// A role offered by the invite form.
pub struct RoleOption {
    pub value: &'static str,
    pub label: String,
    pub selected: bool,
}

#[derive(Template)]
#[template(path = "invite.html")]
struct InvitePage {
    l: Layout,
    csrf: String,
    notice: Option<String>,
    problem: Option<String>,
    summary: bool,
    email: Input,
    roles: Vec<RoleOption>,
    send_own: bool,
    /// The link to pass on, after "send my own invitation".
    link: Option<String>,
    link_for: String,
    rows: Vec<Row>,
    zone: String,
    next: Option<String>,
    first: Option<&'static str>,
}

#[derive(Debug, Default, Deserialize)]
pub struct ListQuery {
    cursor: Option<String>,
    done: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct InviteForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
    /// `email` (Usher sends it) or `link` (send my own).
    #[serde(default)]
    delivery: String,
}

impl CsrfForm for InviteForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf_token: String,
}

impl CsrfForm for ActionForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// What the invite page shows besides the list.
#[derive(Default)]
struct Outcome {
    form: InviteForm,
    errors: Vec<FieldError>,
    notice: Option<String>,
    problem: Option<String>,
    link: Option<(String, String)>,
}

fn row(t: Tr, zone: usher_domain::TimeZone, i: &Invitation, actionable: bool, now: DateTime<Utc>) -> Row {
    let status = InvitationStatus::of(i, now);
    let open = actionable && matches!(status, InvitationStatus::Pending | InvitationStatus::Expired);
    Row {
        id: i.id,
        email: i.email.clone(),
        status: status.as_str(),
        status_label: t.get(&format!("invitations.status_{}", status.as_str())).into_owned(),
        invited_by: i.invited_by_name.clone().unwrap_or_else(|| t.get("invitations.nobody").into_owned()),
        created: local_time_short(i.created_at, zone),
        expires: local_time_short(i.expires_at, zone),
        can_resend: open,
        can_withdraw: open,
    }
}

async fn show(state: &AppState, me: &SignedIn, q: &ListQuery, o: Outcome, status: StatusCode) -> WebResult {
    let t = me.t();
    let zone = me.0.user.profile.timezone;
    let cursor = match q.cursor.as_deref().filter(|c| !c.is_empty()) {
        Some(c) => Some(c.parse::<InvitationId>().map_err(|_| me.error(StatusCode::BAD_REQUEST, "bad_request"))?),
        None => None,
    };
    let page = state.usher.invitations(&me.0, cursor, 50).await.map_err(|e| me.core_error(e))?;
    let now = state.usher.now();
    let errors = translate(t, &o.errors, None);
    let chosen = if o.form.role.is_empty() { "user" } else { o.form.role.as_str() };
    let roles = usher_core::access::policy::grantable_roles(&me.0)
        .into_iter()
        .rev()
        .map(|r| RoleOption {
            value: r.as_str(),
            label: t.get(&format!("roles.{}", r.as_str())).into_owned(),
            selected: r.as_str() == chosen,
        })
        .collect();
    let (link, link_for) = o.link.map_or((None, String::new()), |(link, to)| (Some(link), to));
    let page = InvitePage {
        l: me.layout("invitations.title", "invitations"),
        csrf: me.nav().csrf,
        notice: o.notice,
        problem: o.problem,
        summary: !errors.is_empty(),
        email: Input::new(t, "email", "invitations.email", &o.form.email)
            .kind("email")
            .autocomplete("off")
            .hint(t, "invitations.email_hint")
            .required()
            .errors(&errors),
        roles,
        send_own: o.form.delivery == "link",
        link,
        link_for,
        rows: page.items.iter().zip(&page.actionable).map(|(i, a)| row(t, zone, i, *a, now)).collect(),
        zone: zone.name().to_owned(),
        next: page.next_cursor.map(|c| format!("/admin/invitations?cursor={c}")),
        first: cursor.map(|_| "/admin/invitations"),
    };
    Ok(render(status, &page))
}

/// `GET /admin/invitations`: the invite form and the organization's invitations.
pub async fn invitations_page(
    State(state): State<AppState>,
    me: SignedIn,
    jar: CookieJar,
    WebQuery(q): WebQuery<ListQuery>,
) -> WebResult {
    let notice = q
        .done
        .as_deref()
        .filter(|d| matches!(*d, "sent" | "resent" | "withdrawn"))
        .map(|d| me.t().get(&format!("invitations.done_{d}")).into_owned());
    // A link made by the last POST, shown this once (`web::reveal`).
    let (link, jar) = super::reveal::take::<(String, String)>(&state, &me, jar).await?;
    let page = show(&state, &me, &q, Outcome { notice, link, ..Outcome::default() }, StatusCode::OK).await?;
    Ok((jar, page).into_response())
}

/// `POST /admin/invitations`: invites; shows the link when the inviter sends it.
pub async fn invite(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<InviteForm>, FormRejection>,
) -> WebResult {
    let form = me.accept(form)?;
    let admin = &me.0;
    let t = me.t();
    let role = match form.role.parse::<Role>() {
        Ok(r) => r,
        Err(_) if form.role.is_empty() => Role::User,
        Err(_) => {
            me.refused_unless(usher_core::access::policy::Operation::ManageUsers)?;
            return Err(me.error(StatusCode::BAD_REQUEST, "bad_request"));
        }
    };
    let send = form.delivery != "link";
    let q = ListQuery::default();
    match state.usher.invite(&ctx, admin, &form.email, Some(vec![role]), send).await {
        Ok(_) if send => Ok(see_other("/admin/invitations?done=sent")),
        Ok(done) => {
            let link = (done.link, done.invitation.email.clone());
            super::reveal::redirect(&state, &me, &link, "/admin/invitations").await
        }
        Err(Error::Invalid(e)) => {
            show(&state, &me, &q, Outcome { form, errors: e.0, ..Outcome::default() }, StatusCode::UNPROCESSABLE_ENTITY)
                .await
        }
        Err(Error::Conflict(Conflict::InvitationPending)) => {
            let problem = Some(t.get("invitations.pending_exists").into_owned());
            show(&state, &me, &q, Outcome { form, problem, ..Outcome::default() }, StatusCode::CONFLICT).await
        }
        Err(Error::Forbidden(_)) => {
            let problem = Some(t.get("invitations.role_forbidden").into_owned());
            show(&state, &me, &q, Outcome { form, problem, ..Outcome::default() }, StatusCode::FORBIDDEN).await
        }
        Err(e) => Err(me.core_error(e)),
    }
}

fn id_of(me: &SignedIn, raw: &str) -> WebResult<InvitationId> {
    raw.parse().map_err(|_| me.error(StatusCode::NOT_FOUND, "not_found"))
}

/// `POST /admin/invitations/{id}/resend`: a new link by email.
pub async fn resend(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> WebResult {
    me.accept(form)?;
    let admin = &me.0;
    let id = id_of(&me, &id)?;
    match state.usher.resend_invitation(&ctx, admin, id, true).await {
        Ok(_) => Ok(see_other("/admin/invitations?done=resent")),
        Err(Error::Conflict(Conflict::InvitationClosed)) => {
            let problem = Some(me.t().get("invitations.not_open").into_owned());
            show(&state, &me, &ListQuery::default(), Outcome { problem, ..Outcome::default() }, StatusCode::CONFLICT)
                .await
        }
        Err(e) => Err(me.core_error(e)),
    }
}

/// `POST /admin/invitations/{id}/withdraw`: the link stops working.
pub async fn withdraw(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    Path(id): Path<String>,
    form: Result<Form<ActionForm>, FormRejection>,
) -> WebResult {
    me.accept(form)?;
    let admin = &me.0;
    let id = id_of(&me, &id)?;
    match state.usher.withdraw_invitation(&ctx, admin, id).await {
        Ok(_) => Ok(see_other("/admin/invitations?done=withdrawn")),
        Err(Error::Conflict(Conflict::InvitationClosed)) => {
            let problem = Some(me.t().get("invitations.not_open").into_owned());
            show(&state, &me, &ListQuery::default(), Outcome { problem, ..Outcome::default() }, StatusCode::CONFLICT)
                .await
        }
        Err(e) => Err(me.core_error(e)),
    }
}

/// `GET /admin/invitations/{id}/withdraw`: the link stops working; asks first.
pub async fn confirm_withdraw(State(state): State<AppState>, me: SignedIn, Path(id): Path<String>) -> WebResult {
    me.refused_unless(usher_core::access::policy::Operation::ManageUsers)?;
    let id = id_of(&me, &id)?;
    let invitation = state.usher.invitation_to_withdraw(&me.0, id).await.map_err(|e| me.core_error(e))?;
    let t = me.t();
    let c = super::confirm::Confirm::new(
        t.with("confirm.withdraw", "name", &invitation.email),
        format!("/admin/invitations/{id}/withdraw"),
        t.get("invitations.withdraw").into_owned(),
        "/admin/invitations".to_owned(),
    )
    .line(t.get("confirm.withdraw_text").into_owned());
    super::confirm::page(&me, "invitations", c)
}

#[derive(Template)]
#[template(path = "admin_invitation_template.html")]
struct TemplatePage {
    l: Layout,
    csrf: String,
    saved: bool,
    custom: bool,
    summary: bool,
    subject: Input,
    body: String,
    body_errors: Vec<String>,
    placeholders: Vec<&'static str>,
    preview: Option<(String, String)>,
    /// Administrators save; User Managers read and preview.
    may_edit: bool,
}

#[derive(Debug, Default, Deserialize)]
pub struct TemplateForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    body: String,
    /// `preview` or `save`.
    #[serde(default)]
    action: String,
}

impl CsrfForm for TemplateForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct SavedQuery {
    saved: Option<String>,
}

fn template_page(
    me: &SignedIn,
    t: &InvitationTemplate,
    errors: &[FieldError],
    preview: Option<(String, String)>,
    saved: bool,
) -> TemplatePage {
    let tr = me.t();
    let errors = translate(tr, errors, None);
    TemplatePage {
        l: me.layout("invitations.template_title", "invitation_template"),
        csrf: me.nav().csrf,
        saved,
        custom: t.custom,
        summary: !errors.is_empty(),
        subject: Input::new(tr, "subject", "invitations.subject", &t.subject).required().errors(&errors),
        body: t.body.clone(),
        body_errors: errors.get("body").to_vec(),
        placeholders: usher_core::invitations::PLACEHOLDERS.to_vec(),
        preview,
        may_edit: usher_core::access::policy::permits(&me.0, usher_core::access::policy::Operation::ChangeSettings),
    }
}

/// `GET /admin/settings/invitation-template`: the template with a preview.
pub async fn template_page_get(
    State(state): State<AppState>,
    me: SignedIn,
    WebQuery(q): WebQuery<SavedQuery>,
) -> WebResult {
    let admin = &me.0;
    let template = state.usher.invitation_template_for(admin).await.map_err(|e| me.core_error(e))?;
    let preview = state.usher.preview_invitation_template(admin, None).await.map_err(|e| me.core_error(e))?;
    Ok(render(StatusCode::OK, &template_page(&me, &template, &[], Some(preview), q.saved.is_some())))
}

/// `POST /admin/settings/invitation-template`: previews or saves the posted text.
pub async fn template_post(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<TemplateForm>, FormRejection>,
) -> WebResult {
    let form = me.accept(form)?;
    let admin = &me.0;
    // Browsers send text areas with CRLF line ends; emails are written with LF.
    let template = InvitationTemplate { subject: form.subject, body: form.body.replace("\r\n", "\n"), custom: true };
    let outcome = if form.action == "save" {
        state.usher.set_invitation_template(&ctx, admin, template.clone()).await.map(|_| None)
    } else {
        state.usher.preview_invitation_template(admin, Some(template.clone())).await.map(Some)
    };
    match outcome {
        Ok(None) => Ok(see_other("/admin/settings/invitation-template?saved=1")),
        Ok(Some(preview)) => Ok(render(StatusCode::OK, &template_page(&me, &template, &[], Some(preview), false))),
        Err(Error::Invalid(e)) => {
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &template_page(&me, &template, &e.0, None, false)))
        }
        Err(e) => Err(me.core_error(e)),
    }
}

#[derive(Template)]
#[template(path = "register.html")]
struct RegisterPage {
    l: Layout,
    action: String,
    organization: String,
    email: String,
    existing_user: bool,
    user_id_fixed: String,
    inputs: Vec<Input>,
    rules: Vec<String>,
    summary: bool,
    expires: String,
}

#[derive(Template)]
#[template(path = "register_closed.html")]
struct ClosedPage {
    l: Layout,
    heading: String,
    text: String,
}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    user_id: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    repeat_password: String,
}

/// The page for a link that cannot be used, with the reason.
fn closed(t: Tr, why: &str, status: StatusCode) -> Response {
    let page = ClosedPage {
        l: Layout::new(t, "register.closed_title", None, ""),
        heading: t.get("register.closed_title").into_owned(),
        text: t.get(&format!("register.closed_{why}")).into_owned(),
    };
    render(status, &page)
}

fn register_form(
    t: Tr,
    token: &str,
    view: &usher_core::invitations::InvitationView,
    policy: &PasswordPolicy,
    f: &RegisterForm,
    errors: &FieldErrors,
) -> RegisterPage {
    let mut inputs = Vec::new();
    if !view.existing_user {
        inputs.push(
            Input::new(t, "user_id", "register.user_id", &f.user_id)
                .hint(t, "register.user_id_hint")
                .autocomplete("username")
                .required()
                .errors(errors),
        );
    }
    inputs.extend([
        Input::new(t, "first_name", "register.first_name", &f.first_name)
            .autocomplete("given-name")
            .required()
            .errors(errors),
        Input::new(t, "last_name", "register.last_name", &f.last_name)
            .autocomplete("family-name")
            .required()
            .errors(errors),
        Input::new(t, "phone", "register.phone", &f.phone)
            .kind("tel")
            .autocomplete("tel")
            .hint(t, "register.phone_hint")
            .errors(errors),
        Input::new(t, "password", "register.password", "")
            .kind("password")
            .autocomplete("new-password")
            .required()
            .described_by_element("password-rules")
            .errors(errors),
        Input::new(t, "repeat_password", "register.repeat_password", "")
            .kind("password")
            .autocomplete("new-password")
            .required()
            .errors(errors),
    ]);
    RegisterPage {
        l: Layout::new(t, "register.title", None, ""),
        action: format!("/register/{token}"),
        organization: view.organization.clone(),
        email: view.email.clone(),
        existing_user: view.existing_user,
        user_id_fixed: view.user_id.clone(),
        inputs,
        rules: t.policy_rules(policy),
        summary: !errors.is_empty(),
        expires: super::i18n::local_time(view.expires_at, usher_domain::TimeZone::default()),
    }
}

/// The invitation behind a link and its organization's password policy, or the
/// page to show instead.
async fn open_invitation(
    state: &AppState,
    t: Tr,
    token: &str,
) -> WebResult<Result<(usher_core::invitations::InvitationView, PasswordPolicy), Response>> {
    if token.len() > 100 {
        return Ok(Err(closed(t, "unknown", StatusCode::NOT_FOUND)));
    }
    let view = match state.usher.invitation_view(token).await {
        Ok(v) => v,
        Err(Error::NotFound) => return Ok(Err(closed(t, "unknown", StatusCode::NOT_FOUND))),
        Err(e) => return Err(WebError::from_core(e, t, None)),
    };
    if view.status != InvitationStatus::Pending {
        return Ok(Err(closed(t, view.status.as_str(), StatusCode::GONE)));
    }
    let policy = state.usher.password_policy(view.org_id).await.map_err(|e| WebError::from_core(e, t, None))?;
    Ok(Ok((view, policy)))
}

/// `GET /register/{token}`: the registration form, user ID prefilled with the email.
pub async fn register_page(State(state): State<AppState>, v: Visitor, Path(token): Path<String>) -> WebResult {
    if v.me.is_some() {
        // Someone signed in opening a link meant for someone else: sign out first.
        return Ok(closed(v.t, "signed_in", StatusCode::CONFLICT));
    }
    let (view, policy) = match open_invitation(&state, v.t, &token).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let form = RegisterForm {
        user_id: view.user_id.clone(),
        first_name: view.first_name.clone().unwrap_or_default(),
        last_name: view.last_name.clone().unwrap_or_default(),
        ..RegisterForm::default()
    };
    Ok(render(StatusCode::OK, &register_form(v.t, &token, &view, &policy, &form, &FieldErrors::default())))
}

/// `POST /register/{token}`: registers, signs in, and opens My profile.
pub async fn register(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    v: Visitor,
    jar: CookieJar,
    Path(token): Path<String>,
    form: Result<Form<RegisterForm>, FormRejection>,
) -> WebResult {
    let t = v.t;
    let Form(form) = form.map_err(|r| WebError::page(form_status(&r), "bad_request", t, None))?;
    let (view, policy) = match open_invitation(&state, t, &token).await? {
        Ok(found) => found,
        Err(page) => return Ok(page),
    };
    let invalid = |errors: &[FieldError]| {
        let errors = translate(t, errors, Some(&policy));
        render(StatusCode::UNPROCESSABLE_ENTITY, &register_form(t, &token, &view, &policy, &form, &errors))
    };
    if form.password != form.repeat_password {
        return Ok(invalid(&[FieldError::new("repeat_password", "mismatch", "The two passwords do not match.")]));
    }
    let acceptance = Acceptance {
        user_id: form.user_id.clone(),
        first_name: form.first_name.clone(),
        last_name: form.last_name.clone(),
        password: form.password.clone(),
        phone: Some(form.phone.clone()),
    };
    match state.usher.accept_invitation(&ctx, &token, acceptance).await {
        Ok(outcome) => {
            Ok((jar.add(session_cookie(&state, outcome.session_secret)), see_other("/profile")).into_response())
        }
        Err(Error::Invalid(e)) => Ok(invalid(&e.0)),
        Err(Error::Locked { .. }) => {
            let wait = FieldError::new("user_id", "too_many_tries", "Too many tries with this link.");
            let mut page = invalid(&[wait]);
            *page.status_mut() = StatusCode::TOO_MANY_REQUESTS;
            Ok(page)
        }
        Err(Error::Conflict(Conflict::InvitationLinkClosed | Conflict::NotAwaitingPassword)) | Err(Error::NotFound) => {
            Ok(closed(t, "accepted", StatusCode::GONE))
        }
        Err(e) => Err(WebError::from_core(e, t, None)),
    }
}

/// Every template of this module renders with the data it needs in each language.
#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use super::*;

    #[test]
    fn closed_pages_have_words_in_every_language() {
        for lang in Language::ALL {
            let t = Tr(lang);
            for why in ["unknown", "expired", "accepted", "withdrawn", "signed_in"] {
                assert!(t.try_get(&format!("register.closed_{why}")).is_some(), "{lang}: {why}");
            }
            for s in ["pending", "accepted", "expired", "withdrawn"] {
                assert!(t.try_get(&format!("invitations.status_{s}")).is_some(), "{lang}: {s}");
            }
            for code in ["missing_link", "unknown_placeholder"] {
                assert!(t.try_get(&format!("invitations.errors.{code}")).is_some(), "{lang}: {code}");
            }
        }
    }
}
