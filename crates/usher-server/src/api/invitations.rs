//! Invitations: Administrators and User Managers invite by email, list, resend and
//! withdraw; the invitee reads and accepts theirs through the link's token
//! (public); Administrators edit the invitation email template.
//!
//! One path parameter name serves both kinds of `/invitations/{id}` routes: the
//! invitation's id for administrators, the link's token for the public ones.

use axum::{
    Json,
    extract::State,
    http::{HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
};
use axum_extra::extract::cookie::CookieJar;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use usher_api_types::{
    InvitationAccept, InvitationBody, InvitationCreate, InvitationCreated, InvitationPublic, InvitationResend,
    InvitationTemplateBody, Page, Problem, RenderedEmail, UserBody,
};
use usher_core::access::policy::Operation;
use usher_core::invitations::{self, Acceptance, Invitation, InvitationStatus, InvitationTemplate};
use usher_domain::{Invalid, InvitationId, Role};

use super::user_body;
use crate::{
    app::AppState,
    error::ApiResult,
    extract::{ApiJson, ApiPath, ApiQuery, Authed, CSRF_HEADER, Ctx, session_cookie},
};

/// The API view of an invitation; its status as of `now`.
pub fn invitation_body(i: &Invitation, now: DateTime<Utc>) -> InvitationBody {
    InvitationBody {
        id: i.id.into(),
        email: i.email.clone(),
        status: InvitationStatus::of(i, now).as_str().to_owned(),
        roles: i.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        invited_by: i.invited_by.map(Into::into),
        invited_by_name: i.invited_by_name.clone(),
        user: i.user.map(Into::into),
        created_at: i.created_at,
        expires_at: i.expires_at,
        accepted_at: i.accepted_at,
        accepted_user: i.accepted_user.map(Into::into),
        withdrawn_at: i.withdrawn_at,
    }
}

fn created(c: invitations::InvitationCreated, now: DateTime<Utc>) -> InvitationCreated {
    InvitationCreated { details: invitation_body(&c.invitation, now), sent: c.sent, link: (!c.sent).then_some(c.link) }
}

fn parse_roles(roles: Option<Vec<String>>) -> Result<Option<Vec<Role>>, Invalid> {
    roles
        .map(|names| {
            names
                .iter()
                .map(|n| {
                    n.parse::<Role>().map_err(|_| {
                        Invalid::one(
                            "roles",
                            "invalid",
                            format!("Unknown role {n:?}: use administrator, user_manager, developer or user."),
                        )
                    })
                })
                .collect()
        })
        .transpose()
}

/// An optional JSON body: none at all is `None`; anything sent must parse.
pub struct OptionalJson<T>(pub Option<T>);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> axum::extract::FromRequest<S> for OptionalJson<T> {
    type Rejection = crate::error::ApiError;

    async fn from_request(req: axum::extract::Request, state: &S) -> ApiResult<Self> {
        let bytes = axum::body::Bytes::from_request(req, state).await.map_err(|e| {
            crate::error::ApiError::new(e.status(), "bad-request", "The request body could not be read", e.body_text())
        })?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(Self(None));
        }
        // `null` counts as no body too.
        serde_json::from_slice::<Option<T>>(&bytes).map(Self).map_err(|e| {
            crate::error::ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid-body",
                "The JSON body does not have the expected fields and types",
                e.to_string(),
            )
        })
    }
}

fn parse_id(raw: &str) -> ApiResult<InvitationId> {
    raw.parse().map_err(|_| crate::error::ApiError::not_found())
}

/// Invite someone by email (Administrators and User Managers). `send: false`
/// answers the link instead of emailing it ("send my own invitation").
#[utoipa::path(post, path = "/invitations", tag = "invitations", request_body = InvitationCreate,
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 201, body = InvitationCreated),
        (status = 403, body = Problem),
        (status = 409, body = Problem, description = "A pending invitation of this address exists: resend it (`invitation_pending`)"),
        (status = 422, body = Problem, description = "Invalid address, or already used by a user (`taken`)"),
    ))]
pub async fn create_invitation(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(req): ApiJson<InvitationCreate>,
) -> ApiResult<(StatusCode, Json<InvitationCreated>)> {
    let roles = parse_roles(req.roles).map_err(|e| super::bad_input(&me, Operation::ManageUsers, e))?;
    let done = state.usher.invite(&ctx, &me, &req.email, roles, req.send).await?;
    Ok((StatusCode::CREATED, Json(created(done, state.usher.now()))))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct InvitationListParams {
    /// 1–200, default 50.
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The organization's invitations, newest first.
#[utoipa::path(get, path = "/invitations", tag = "invitations", params(InvitationListParams),
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = Page<InvitationBody>), (status = 403, body = Problem)))]
pub async fn list_invitations(
    State(state): State<AppState>,
    Authed(me): Authed,
    ApiQuery(p): ApiQuery<InvitationListParams>,
) -> ApiResult<Json<Page<InvitationBody>>> {
    let cursor = p
        .cursor
        .map(|c| c.parse::<InvitationId>().map_err(|_| Invalid::one("cursor", "invalid", "This cursor is not valid.")))
        .transpose()
        .map_err(|e| super::bad_input(&me, Operation::ReadUsers, e))?;
    let page = state.usher.invitations(&me, cursor, p.limit.unwrap_or(50)).await?;
    let now = state.usher.now();
    Ok(Json(Page {
        items: page.items.iter().map(|i| invitation_body(i, now)).collect(),
        next_cursor: page.next_cursor.map(|c| c.to_string()),
    }))
}

/// Withdraw an invitation: its link stops working.
#[utoipa::path(delete, path = "/invitations/{id}", tag = "invitations",
    params(("id" = Uuid, Path, description = "The invitation's id")),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, body = InvitationBody),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Already accepted or withdrawn (`invitation_closed`)"),
    ))]
pub async fn withdraw_invitation(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<Json<InvitationBody>> {
    let invitation = state.usher.withdraw_invitation(&ctx, &me, parse_id(&id)?).await?;
    Ok(Json(invitation_body(&invitation, state.usher.now())))
}

/// Send an invitation again: a new link (the old one stops working) valid 7 days.
/// The body is optional; `{"send": false}` answers the link instead of emailing it.
#[utoipa::path(post, path = "/invitations/{id}/resend", tag = "invitations",
    params(("id" = Uuid, Path, description = "The invitation's id")),
    request_body(content = Option<InvitationResend>),
    security(("session" = []), ("bearer" = [])),
    responses(
        (status = 200, body = InvitationCreated),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "Accepted or withdrawn (`invitation_closed`), or the \
            address has another pending invitation (`invitation_pending`)"),
    ))]
pub async fn resend_invitation(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiPath(id): ApiPath<String>,
    OptionalJson(body): OptionalJson<InvitationResend>,
) -> ApiResult<Json<InvitationCreated>> {
    let send = body.is_none_or(|b| b.send);
    let done = state.usher.resend_invitation(&ctx, &me, parse_id(&id)?, send).await?;
    Ok(Json(created(done, state.usher.now())))
}

/// What an invitation link shows before registering (public: the token is the proof).
#[utoipa::path(get, path = "/invitations/{id}", tag = "invitations",
    params(("id" = String, Path, description = "The token from the invitation link (`/register/{token}`)")),
    responses((status = 200, body = InvitationPublic), (status = 404, body = Problem)))]
pub async fn get_public_invitation(
    State(state): State<AppState>,
    ApiPath(token): ApiPath<String>,
) -> ApiResult<Json<InvitationPublic>> {
    let v = state.usher.invitation_view(&token).await?;
    Ok(Json(InvitationPublic {
        status: v.status.as_str().to_owned(),
        organization: v.organization,
        expires_at: v.expires_at,
        email: v.email,
        user_id: v.user_id,
        existing_user: v.existing_user,
        first_name: v.first_name,
        last_name: v.last_name,
    }))
}

/// Register through an invitation: creates the account (every bad field reported
/// at once), signs in (session cookie and `X-CSRF-Token`, as `/auth/login`), and
/// emails the inviter. The link works once.
#[utoipa::path(post, path = "/invitations/{id}/accept", tag = "invitations",
    params(("id" = String, Path, description = "The token from the invitation link")),
    request_body = InvitationAccept,
    responses(
        (status = 201, body = UserBody, headers(("x-csrf-token" = String, description = "Send back on changes"))),
        (status = 404, body = Problem),
        (status = 409, body = Problem, description = "The link was used, withdrawn or expired (`invitation_link_closed`), \
            or the account no longer waits for a password (`not_awaiting_password`)"),
        (status = 422, body = Problem),
        (status = 429, body = Problem, description = "Too many registration forms with this link: wait `Retry-After` seconds"),
    ))]
pub async fn accept_invitation(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    jar: CookieJar,
    ApiPath(token): ApiPath<String>,
    ApiJson(req): ApiJson<InvitationAccept>,
) -> ApiResult<Response> {
    let form = Acceptance {
        user_id: req.user_id,
        first_name: req.first_name,
        last_name: req.last_name,
        password: req.password,
        phone: req.phone,
    };
    let outcome = state.usher.accept_invitation(&ctx, &token, form).await?;
    let mut headers = HeaderMap::new();
    if let Ok(v) = HeaderValue::from_str(&outcome.csrf_token) {
        headers.insert(CSRF_HEADER, v);
    }
    let jar = jar.add(session_cookie(&state, outcome.session_secret));
    Ok((StatusCode::CREATED, jar, headers, Json(user_body(&outcome.user))).into_response())
}

fn template_body(t: InvitationTemplate) -> InvitationTemplateBody {
    InvitationTemplateBody { subject: t.subject, body: t.body, custom: t.custom }
}

fn template_of(b: InvitationTemplateBody) -> InvitationTemplate {
    InvitationTemplate { subject: b.subject, body: b.body, custom: true }
}

/// The invitation email's subject and body (Administrators and User Managers).
#[utoipa::path(get, path = "/settings/invitation-template", tag = "settings",
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = InvitationTemplateBody), (status = 403, body = Problem)))]
pub async fn get_invitation_template(
    State(state): State<AppState>,
    Authed(me): Authed,
) -> ApiResult<Json<InvitationTemplateBody>> {
    Ok(Json(template_body(state.usher.invitation_template_for(&me).await?)))
}

/// Replace the invitation email template (Administrators). The body must contain
/// `{{link}}`; placeholders are replaced as plain text.
#[utoipa::path(put, path = "/settings/invitation-template", tag = "settings", request_body = InvitationTemplateBody,
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = InvitationTemplateBody), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn put_invitation_template(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    Authed(me): Authed,
    ApiJson(req): ApiJson<InvitationTemplateBody>,
) -> ApiResult<Json<InvitationTemplateBody>> {
    Ok(Json(template_body(state.usher.set_invitation_template(&ctx, &me, template_of(req)).await?)))
}

/// Render a template (the one sent, or the stored one when the body is empty)
/// with sample values, as the invitee would receive it.
#[utoipa::path(post, path = "/settings/invitation-template/preview", tag = "settings",
    request_body(content = Option<InvitationTemplateBody>),
    security(("session" = []), ("bearer" = [])),
    responses((status = 200, body = RenderedEmail), (status = 403, body = Problem), (status = 422, body = Problem)))]
pub async fn preview_invitation_template(
    State(state): State<AppState>,
    Authed(me): Authed,
    OptionalJson(body): OptionalJson<InvitationTemplateBody>,
) -> ApiResult<Json<RenderedEmail>> {
    let (subject, text) = state.usher.preview_invitation_template(&me, body.map(template_of)).await?;
    Ok(Json(RenderedEmail { subject, text }))
}
