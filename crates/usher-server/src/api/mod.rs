//! REST API v1 under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`.

mod apps;
mod audit;
mod auth;
mod directory;
mod groups;
pub mod invitations;
mod me;
mod metadata;
pub mod mfa;
mod problems;
pub mod recovery;
mod roles;
mod sessions;
mod settings;
pub mod tokens;
mod users;

use axum::{Json, extract::State};
use usher_api_types::{Health, UserBody};
use usher_core::store::User;
use utoipa::OpenApi;
use utoipa_axum::{router::OpenApiRouter, routes};

use crate::{app::AppState, error::ApiError};

/// Input the edge reads before the service sees it: when it is bad, someone
/// the policy refuses `op` gets the refusal (403), not the input's problems.
pub(crate) fn bad_input(
    me: &usher_core::auth::Principal,
    op: usher_core::access::policy::Operation,
    e: usher_domain::Invalid,
) -> ApiError {
    match usher_core::access::policy::check(me, op, Default::default()) {
        Err(refusal) => refusal.into(),
        Ok(()) => e.into(),
    }
}

#[derive(OpenApi)]
#[openapi(
    info(title = "Usher API", description = "User and access management: accounts, sign-in, profile, passwords, API tokens, audit."),
    components(schemas(usher_api_types::Problem, usher_api_types::ProblemField)),
    modifiers(&SessionAuth),
)]
struct ApiDoc;

struct SessionAuth;

impl utoipa::Modify for SessionAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::new(crate::extract::SESSION_COOKIE))),
        );
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(utoipa::openapi::security::Http::new(
                utoipa::openapi::security::HttpAuthScheme::Bearer,
            )),
        );
    }
}

/// Every API route with its OpenAPI description.
pub fn router() -> OpenApiRouter<AppState> {
    let v1 = OpenApiRouter::new()
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(mfa::login_mfa))
        .routes(routes!(mfa::mfa_status))
        .routes(routes!(mfa::start_totp, mfa::disable_totp))
        .routes(routes!(mfa::confirm_totp))
        .routes(routes!(mfa::regenerate_recovery_codes))
        .routes(routes!(mfa::get_mfa_setting, mfa::put_mfa_setting))
        .routes(routes!(mfa::user_security))
        .routes(routes!(mfa::reset_user_mfa))
        .routes(routes!(mfa::unlock_user))
        .routes(routes!(sessions::list_my_sessions, sessions::end_my_sessions))
        .routes(routes!(sessions::end_my_session))
        .routes(routes!(recovery::request_password_reset))
        .routes(routes!(recovery::complete_password_reset))
        .routes(routes!(invitations::list_invitations, invitations::create_invitation))
        .routes(routes!(invitations::get_public_invitation, invitations::withdraw_invitation))
        .routes(routes!(invitations::resend_invitation))
        .routes(routes!(invitations::accept_invitation))
        .routes(routes!(invitations::get_invitation_template, invitations::put_invitation_template))
        .routes(routes!(invitations::preview_invitation_template))
        .routes(routes!(me::get_me, me::patch_me))
        .routes(routes!(me::change_password))
        .routes(routes!(settings::get_password_policy, settings::put_password_policy))
        .routes(routes!(settings::password_policy_presets))
        .routes(routes!(settings::get_token_policy, settings::put_token_policy))
        .routes(routes!(metadata::get_metadata_fields, metadata::put_metadata_fields))
        .routes(routes!(audit::list_audit_events))
        .routes(routes!(audit::export_audit_events))
        .routes(routes!(tokens::list_my_tokens, tokens::create_my_token))
        .routes(routes!(tokens::get_my_token, tokens::patch_my_token, tokens::delete_my_token))
        .routes(routes!(tokens::revoke_my_token))
        .routes(routes!(tokens::regenerate_my_token))
        .routes(routes!(users::list_users, users::create_user))
        .routes(routes!(users::get_user, users::patch_user, users::delete_user))
        .routes(routes!(users::failed_logins))
        .routes(routes!(users::list_sessions, users::end_sessions))
        .routes(routes!(users::reset_password))
        .routes(routes!(users::disable_user))
        .routes(routes!(users::enable_user))
        .routes(routes!(tokens::list_user_tokens, tokens::create_user_token))
        .routes(routes!(tokens::delete_user_token))
        .routes(routes!(roles::get_roles, roles::put_roles))
        .routes(routes!(groups::list_groups, groups::create_group))
        .routes(routes!(groups::get_group, groups::patch_group, groups::delete_group))
        .routes(routes!(groups::list_members, groups::put_members, groups::add_member))
        .routes(routes!(groups::remove_member))
        .routes(routes!(apps::list_apps, apps::create_app))
        .routes(routes!(apps::get_app, apps::patch_app, apps::delete_app))
        .routes(routes!(apps::get_app_groups, apps::put_app_groups))
        .routes(routes!(apps::my_apps));
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", v1)
        .routes(routes!(healthz))
        .routes(routes!(readyz));
    let mut doc = router.get_openapi().clone();
    problems::document(&mut doc);
    router.route("/api/openapi.json", axum::routing::get(move || std::future::ready(Json(doc.clone()))))
}

/// Liveness and database reachability.
#[utoipa::path(get, path = "/healthz", tag = "system", responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn healthz(State(state): State<AppState>) -> (axum::http::StatusCode, Json<Health>) {
    match state.usher.ping().await {
        Ok(()) => (axum::http::StatusCode::OK, Json(Health { status: "ok".into() })),
        Err(e) => {
            tracing::warn!(error = %usher_core::Chain(&e), "health check: database unreachable");
            (axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "database unreachable".into() }))
        }
    }
}

/// Readiness: whether the database takes writes now (a write that needs new
/// space, undone at once). A full disk, a read-only database or a lost write
/// lock answer 503, so a load balancer or an operator sees what `/healthz`
/// (the process and database answer) cannot.
#[utoipa::path(get, path = "/readyz", tag = "system", responses(
    (status = 200, body = Health),
    (status = 503, body = Health, headers(("Retry-After" = u64, description = "seconds to wait before checking again"))),
))]
async fn readyz(State(state): State<AppState>) -> axum::response::Response {
    use axum::response::IntoResponse;
    match state.usher.check_writable().await {
        Ok(()) => (axum::http::StatusCode::OK, Json(Health { status: "ok".into() })).into_response(),
        Err(e) => {
            tracing::warn!(error = %usher_core::Chain(&e), "readiness check: the database does not take writes");
            let mut res =
                (axum::http::StatusCode::SERVICE_UNAVAILABLE, Json(Health { status: "database cannot write".into() }))
                    .into_response();
            res.headers_mut()
                .insert(axum::http::header::RETRY_AFTER, crate::error::UNAVAILABLE_RETRY_AFTER_SECS.into());
            res
        }
    }
}

/// Ids as request bodies carry them (plain UUIDs, as the OpenAPI document
/// says), typed for the services.
pub(crate) fn typed<I: From<uuid::Uuid>>(ids: Vec<uuid::Uuid>) -> Vec<I> {
    ids.into_iter().map(I::from).collect()
}

/// Typed ids as response bodies carry them.
pub(crate) fn uuids<I: Into<uuid::Uuid>>(ids: Vec<I>) -> Vec<uuid::Uuid> {
    ids.into_iter().map(Into::into).collect()
}

/// The API view of a user.
pub fn user_body(u: &User) -> UserBody {
    UserBody {
        id: u.id.into(),
        user_id: u.user_id.clone(),
        email: u.email.clone(),
        first_name: u.profile.first_name.clone(),
        last_name: u.profile.last_name.clone(),
        phone: u.profile.phone.clone(),
        contact_person: u.profile.contact_person.clone(),
        company: u.profile.company.clone(),
        language: u.profile.language.code().to_owned(),
        timezone: u.profile.timezone.name().to_owned(),
        status: u.status.as_str().to_owned(),
        roles: u.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        must_change_password: u.must_change_password,
        password_changed_at: u.password_changed_at,
        created_at: u.created_at,
        updated_at: u.updated_at,
        last_login_at: u.last_login_at,
        metadata: u.metadata.clone(),
    }
}
