//! The confirmation pages of a token's destructive actions: regenerate,
//! revoke and delete one's own token, and an administrator's delete of
//! another user's token. Each names the token and what stops working.

use axum::extract::{Path, State, rejection::PathRejection};
use usher_domain::{TokenId, UserId};

use super::{Target, managed, own, path};
use crate::{
    app::AppState,
    web::{
        confirm::{self, Confirm},
        page::{SignedIn, WebResult},
    },
};

/// The three actions on one's own token that need a confirmation.
#[derive(Debug, Clone, Copy)]
enum Action {
    Regenerate,
    Revoke,
    Delete,
}

impl Action {
    fn name(self) -> &'static str {
        match self {
            Action::Regenerate => "regenerate",
            Action::Revoke => "revoke",
            Action::Delete => "delete",
        }
    }
}

async fn confirm_token(state: &AppState, me: &SignedIn, target: &Target, id: TokenId, action: Action) -> WebResult {
    let token = state.usher.token(&me.0, target.owner_arg(), id).await.map_err(|e| me.core_error(e))?;
    let t = me.t();
    let name = action.name();
    let mut c = Confirm::new(
        t.with(&format!("confirm.token_{name}"), "name", &token.description),
        format!("{}/{id}/{name}", target.base()),
        t.get(&format!("tokens.{name}")).into_owned(),
        target.base(),
    )
    .line(t.get(&format!("confirm.token_{name}_text")).into_owned());
    if !token.client.is_empty() {
        c = c.line(t.with("confirm.token_client", "name", &token.client));
    }
    if matches!(action, Action::Delete) {
        c = c.warning(t.get("confirm.final").into_owned());
    }
    confirm::page(me, if target.managed { "users" } else { "profile" }, c)
}

/// `GET /profile/tokens/{id}/regenerate`.
pub async fn confirm_regenerate(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<TokenId>, PathRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let target = own(&state, &me).await?;
    confirm_token(&state, &me, &target, id, Action::Regenerate).await
}

/// `GET /profile/tokens/{id}/revoke`.
pub async fn confirm_revoke(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<TokenId>, PathRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let target = own(&state, &me).await?;
    confirm_token(&state, &me, &target, id, Action::Revoke).await
}

/// `GET /profile/tokens/{id}/delete`.
pub async fn confirm_delete(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<TokenId>, PathRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let target = own(&state, &me).await?;
    confirm_token(&state, &me, &target, id, Action::Delete).await
}

/// `GET /admin/users/{id}/tokens/{token_id}/delete`.
pub async fn confirm_delete_user_token(
    State(state): State<AppState>,
    me: SignedIn,
    ids: Result<Path<(UserId, TokenId)>, PathRejection>,
) -> WebResult {
    let (id, token_id) = path(&me, ids)?;
    let target = managed(&state, &me, id).await?;
    confirm_token(&state, &me, &target, token_id, Action::Delete).await
}

#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use crate::web::i18n::Tr;

    #[test]
    fn every_confirmation_has_words_in_every_language() {
        for lang in Language::ALL {
            let t = Tr(lang);
            for name in ["regenerate", "revoke", "delete"] {
                for key in [format!("confirm.token_{name}"), format!("confirm.token_{name}_text")] {
                    assert!(t.try_get(&key).is_some(), "{lang}: {key}");
                }
            }
        }
    }
}
