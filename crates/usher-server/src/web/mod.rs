//! The server-rendered web UI: sign-in, first-administrator setup, "My profile"
//! (profile, security, API tokens) and the administration pages. Pages are askama templates (escaped by
//! default), translated into English, French and Russian, and work without
//! JavaScript. Handlers stay thin: they read a form, call one `usher-core`
//! service and render the outcome.

mod admin;
mod assets;
mod auth;
pub mod i18n;
mod page;
mod profile;
mod scopes;
mod token_policy;
mod tokens;
mod users;

use axum::{
    Router,
    routing::{get, post},
};

use crate::app::AppState;

/// Every web UI route; `app.rs` merges it next to the API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(auth::root))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/setup/{token}", get(auth::setup_page).post(auth::setup))
        .route("/profile", get(profile::profile_page).post(profile::save_profile))
        .route("/profile/security", get(profile::security_page))
        .route("/profile/security/password", post(profile::change_password))
        .route("/profile/tokens", get(tokens::tokens_page).post(tokens::create_token))
        .route("/profile/tokens/{id}/edit", get(tokens::edit_page).post(tokens::save_token))
        .route("/profile/tokens/{id}/regenerate", post(tokens::regenerate_token))
        .route("/profile/tokens/{id}/revoke", post(tokens::revoke_token))
        .route("/profile/tokens/{id}/delete", post(tokens::delete_token))
        .route("/admin/users", get(users::users_page))
        .route("/admin/users/{id}/tokens", get(tokens::user_tokens_page).post(tokens::create_user_token))
        .route("/admin/users/{id}/tokens/{token_id}/delete", post(tokens::delete_user_token))
        .route("/admin/settings/password-policy", get(admin::policy_page).post(admin::save_policy))
        .route(
            "/admin/settings/token-policy",
            get(token_policy::token_policy_page).post(token_policy::save_token_policy),
        )
        .route("/admin/audit", get(admin::audit_page))
        .route("/static/usher.css", get(assets::css))
        .route("/static/usher.js", get(assets::js))
        .route("/static/favicon.svg", get(assets::favicon))
}
