//! The server-rendered web UI: sign-in, first-administrator setup, "My profile"
//! (profile, security, API tokens) and the administration pages. Pages are askama templates (escaped by
//! default), translated into English, French and Russian, and work without
//! JavaScript. Handlers stay thin: they read a form, call one `usher-core`
//! service and render the outcome.

mod admin;
mod apps;
mod assets;
mod audit;
mod auth;
mod catalog;
mod confirm;
mod directory;
mod groups;
pub mod i18n;
mod invitations;
mod metadata;
mod nav;
mod overview;
mod page;
mod password_change;
mod profile;
mod recovery;
mod reveal;
mod roles;
mod scopes;
mod security;
mod token_policy;
mod tokens;
mod users;
mod zones;

use axum::{
    Router,
    routing::{MethodRouter, get, post},
};

use crate::app::AppState;

/// Every web UI route; `app.rs` merges it next to the API.
pub fn router() -> Router<AppState> {
    routes().router
}

/// The path of every web UI route, static assets included, from the same list
/// as [`router`] (the authorization matrix test wants a row for each).
pub fn paths() -> Vec<&'static str> {
    routes().paths
}

/// A router that also remembers the paths it was given.
struct Routes {
    router: Router<AppState>,
    paths: Vec<&'static str>,
}

impl Routes {
    fn route(mut self, path: &'static str, methods: MethodRouter<AppState>) -> Self {
        self.paths.push(path);
        self.router = self.router.route(path, methods);
        self
    }
}

/// The one list of web routes.
fn routes() -> Routes {
    Routes { router: Router::new(), paths: Vec::new() }
        .route("/", get(auth::root))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/forgot-password", get(recovery::forgot_page_get).post(recovery::forgot))
        .route("/reset-password/{token}", get(recovery::reset_page).post(recovery::reset))
        .route("/register/{token}", get(invitations::register_page).post(invitations::register))
        .route("/admin/invitations", get(invitations::invitations_page).post(invitations::invite))
        .route("/admin/invitations/{id}/resend", post(invitations::resend))
        .route("/admin/invitations/{id}/withdraw", get(invitations::confirm_withdraw).post(invitations::withdraw))
        .route(
            "/admin/settings/invitation-template",
            get(invitations::template_page_get).post(invitations::template_post),
        )
        .route("/logout", post(auth::logout))
        .route("/setup/{token}", get(auth::setup_page).post(auth::setup))
        .route("/profile", get(profile::profile_page).post(profile::save_profile))
        .route(security::PATH, get(security::security_page))
        .route("/profile/security/password", post(security::change_password))
        .route("/profile/security/two-step/disable", post(security::disable_mfa))
        .route("/profile/security/two-step/recovery-codes", post(security::regenerate_codes))
        .route(security::mfa::ENROL_PATH, get(security::mfa::setup).post(security::mfa::confirm))
        .route(security::mfa::RESTART_PATH, post(security::mfa::restart))
        .route("/profile/security/sessions/{id}/end", get(security::confirm_end_session).post(security::end_session))
        .route(
            "/profile/security/sessions/end-others",
            get(security::confirm_end_others).post(security::end_other_sessions),
        )
        .route("/profile/security/sessions/end-all", get(security::confirm_end_all).post(security::end_all_sessions))
        .route("/login/mfa", post(security::mfa::login_mfa))
        .route("/admin/users/{id}/security", get(security::admin::user_security_page))
        .route(
            "/admin/users/{id}/security/mfa-reset",
            get(users::confirm_reset_two_step).post(security::admin::reset_mfa),
        )
        .route("/admin/users/{id}/security/unlock", post(security::admin::unlock))
        .route("/admin/settings/two-step", get(security::admin::settings_page).post(security::admin::save_settings))
        .route("/profile/tokens", get(tokens::tokens_page).post(tokens::create_token))
        .route("/profile/tokens/{id}/edit", get(tokens::edit_page).post(tokens::save_token))
        .route("/profile/tokens/{id}/regenerate", get(tokens::confirm_regenerate).post(tokens::regenerate_token))
        .route("/profile/tokens/{id}/revoke", get(tokens::confirm_revoke).post(tokens::revoke_token))
        .route("/profile/tokens/{id}/delete", get(tokens::confirm_delete).post(tokens::delete_token))
        .route(nav::OVERVIEW, get(overview::overview_page))
        .route("/admin/users", get(directory::users_page))
        .route("/admin/users/new", get(users::new_user_page).post(users::create_user))
        .route("/admin/users/{id}", get(users::user_page).post(users::save_user))
        .route("/admin/users/{id}/disable", get(users::confirm_disable).post(users::disable_user))
        .route("/admin/users/{id}/enable", post(users::enable_user))
        .route("/admin/users/{id}/password-reset", get(users::confirm_reset_password).post(users::reset_password))
        .route("/admin/users/{id}/sessions/end", get(users::confirm_end_sessions).post(users::end_sessions))
        .route("/admin/users/{id}/delete", get(users::confirm_delete_page).post(users::delete_user))
        .route(password_change::PATH, get(password_change::password_change_page).post(password_change::change_password))
        .route("/admin/users/{id}/tokens", get(tokens::user_tokens_page).post(tokens::create_user_token))
        .route("/admin/users/{id}/roles", get(roles::roles_page).post(roles::save_roles))
        .route("/admin/groups", get(groups::groups_page).post(groups::create_group))
        .route("/admin/groups/{id}", get(groups::group_page).post(groups::save_group))
        .route("/admin/groups/{id}/members", post(groups::add_member))
        .route("/admin/groups/{id}/members/{user_id}/remove", post(groups::remove_member))
        .route("/admin/groups/{id}/delete", get(groups::confirm_delete_group).post(groups::delete_group))
        .route("/admin/apps", get(apps::apps_page).post(apps::create_app))
        .route("/admin/apps/{id}", get(apps::app_page).post(apps::save_app))
        .route("/admin/apps/{id}/groups", post(apps::save_groups))
        .route("/admin/apps/{id}/people/{role}", post(apps::add_person))
        .route("/admin/apps/{id}/people/{role}/{user_id}/remove", post(apps::remove_person))
        .route("/admin/apps/{id}/delete", get(apps::confirm_delete_app).post(apps::delete_app))
        .route("/apps", get(catalog::my_apps_page))
        .route(
            "/admin/users/{id}/tokens/{token_id}/delete",
            get(tokens::confirm_delete_user_token).post(tokens::delete_user_token),
        )
        .route("/admin/settings/password-policy", get(admin::policy_page).post(admin::save_policy))
        .route(
            "/admin/settings/token-policy",
            get(token_policy::token_policy_page).post(token_policy::save_token_policy),
        )
        .route("/admin/settings/metadata-fields", get(metadata::metadata_page).post(metadata::save_metadata))
        .route("/admin/audit", get(audit::audit_page))
        .route("/admin/audit/export", get(audit::export))
        .route("/static/usher.css", get(assets::css))
        .route("/static/usher.js", get(assets::js))
        .route("/static/favicon.svg", get(assets::favicon))
}
