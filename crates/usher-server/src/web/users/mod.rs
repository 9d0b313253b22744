//! The Users pages, for Administrators and User Managers: "Create user" and each
//! user's details page with its actions (the list itself is `web::directory`).

mod confirm;
mod create;
mod custom;
mod details;

use axum::{
    extract::{Path, rejection::PathRejection},
    http::StatusCode,
};
pub use confirm::{confirm_disable, confirm_end_sessions, confirm_reset_password, confirm_reset_two_step};
pub use create::{create_user, new_user_page};
pub use details::{
    confirm_delete_page, delete_user, disable_user, enable_user, end_sessions, reset_password, save_user, user_page,
};

use super::page::{SignedIn, WebResult};

/// A path that does not hold the ids it should names no page.
fn path<T>(me: &SignedIn, path: Result<Path<T>, PathRejection>) -> WebResult<T> {
    path.map(|Path(v)| v).map_err(|_| me.error(StatusCode::NOT_FOUND, "not_found"))
}

/// The address of a user's details page.
fn user_href(id: usher_domain::UserId) -> String {
    format!("/admin/users/{id}")
}

#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use crate::web::i18n::Tr;

    #[test]
    fn every_status_has_words_in_every_language() {
        for lang in Language::ALL {
            for status in ["invited", "active", "disabled"] {
                assert!(Tr(lang).try_get(&format!("users.statuses.{status}")).is_some(), "{lang}: {status}");
            }
        }
    }
}
