//! Confirmation pages of what an administrator does to another user that
//! cannot be taken back: disabling them, setting a temporary password (the
//! current one stops working), ending their sessions and resetting their
//! two-step verification.

use axum::extract::{Path, State, rejection::PathRejection};
use serde::Deserialize;
use usher_core::users::UserAction;
use usher_domain::UserId;

use super::{path, user_href};
use crate::{
    app::AppState,
    web::{
        confirm::{self, Confirm},
        page::{SignedIn, WebQuery, WebResult},
    },
};

async fn confirm_user(state: &AppState, me: &SignedIn, id: UserId, action: UserAction) -> WebResult {
    let user = state.usher.user_to_act_on(&me.0, id, action).await.map_err(|e| me.core_error(e))?;
    let t = me.t();
    let name = user.display_name();
    let base = user_href(user.id);
    let (key, path, button) = match action {
        UserAction::Disable => ("disable", "disable", "user_admin.disable"),
        UserAction::ResetPassword => ("temporary", "password-reset", "user_admin.reset_temporary"),
        UserAction::EndSessions => ("end_sessions", "sessions/end", "user_admin.end_sessions"),
        UserAction::ResetTwoStep => ("reset_two_step", "security/mfa-reset", "lockout.mfa_reset"),
        UserAction::Delete => return Err(me.error(axum::http::StatusCode::NOT_FOUND, "not_found")),
    };
    let mut c = Confirm::new(
        t.with(&format!("confirm.user_{key}"), "name", &name),
        format!("{base}/{path}"),
        t.get(button).into_owned(),
        base,
    )
    .line(t.get(&format!("confirm.user_{key}_text")).into_owned());
    if action == UserAction::ResetPassword {
        c = c.field("mode", "temporary");
    }
    confirm::page(me, "users", c)
}

/// `GET /admin/users/{id}/disable`.
pub async fn confirm_disable(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<UserId>, PathRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    confirm_user(&state, &me, id, UserAction::Disable).await
}

/// `GET /admin/users/{id}/security/mfa-reset`.
pub async fn confirm_reset_two_step(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<UserId>, PathRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    confirm_user(&state, &me, id, UserAction::ResetTwoStep).await
}

/// `GET /admin/users/{id}/sessions/end`.
pub async fn confirm_end_sessions(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<UserId>, PathRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    confirm_user(&state, &me, id, UserAction::EndSessions).await
}

#[derive(Debug, Default, Deserialize)]
pub struct ResetQuery {
    #[serde(default)]
    mode: String,
}

/// `GET /admin/users/{id}/password-reset?mode=temporary`: a temporary password
/// replaces the current one, so it is confirmed; a reset link (`mode=link`)
/// changes nothing until it is used and is sent from the user's page at once.
pub async fn confirm_reset_password(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<UserId>, PathRejection>,
    WebQuery(q): WebQuery<ResetQuery>,
) -> WebResult {
    let id = path(&me, id)?;
    if q.mode != "temporary" {
        me.refused_unless(usher_core::access::policy::Operation::ManageUsers)?;
        return Err(me.error(axum::http::StatusCode::NOT_FOUND, "not_found"));
    }
    confirm_user(&state, &me, id, UserAction::ResetPassword).await
}

#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use crate::web::i18n::Tr;

    #[test]
    fn every_confirmation_has_words_in_every_language() {
        for lang in Language::ALL {
            for key in ["disable", "temporary", "end_sessions", "reset_two_step"] {
                for key in [format!("confirm.user_{key}"), format!("confirm.user_{key}_text")] {
                    assert!(Tr(lang).try_get(&key).is_some(), "{lang}: {key}");
                }
            }
        }
    }
}
