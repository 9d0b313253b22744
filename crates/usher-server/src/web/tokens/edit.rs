//! Editing a token: its description and expiry. Scopes and client stay as
//! they were; a revoked token cannot be edited.

use askama::Template;
use axum::{
    Form,
    extract::{
        Path, State,
        rejection::{FormRejection, PathRejection},
    },
    http::StatusCode,
};
use usher_core::{Conflict, Error, store::ApiToken};
use usher_domain::{FieldError, TokenId};

use super::{
    Target,
    form::{ExpiryOption, ExpiryPicker, TokenForm, local_date, token_errors},
    own, path,
};
use crate::{
    app::AppState,
    extract::Ctx,
    web::{
        i18n::local_time_short,
        page::{Input, Layout, SignedIn, WebResult, render, see_other},
    },
};

#[derive(Template)]
#[template(path = "token_edit.html")]
struct EditPage {
    l: Layout,
    csrf: String,
    action: String,
    summary: bool,
    description: Input,
    expiry: ExpiryPicker,
    facts: Vec<(String, String)>,
    scopes: Vec<String>,
}

async fn edit_form(
    state: &AppState,
    me: &SignedIn,
    token: &ApiToken,
    form: &TokenForm,
    errors: &[FieldError],
    status: StatusCode,
) -> WebResult {
    let t = me.t();
    let tz = me.0.user.profile.timezone;
    let policy = state.usher.token_policy(me.0.user.org_id).await.map_err(|e| me.core_error(e))?;
    let errors = token_errors(t, errors, &policy);
    let keep = ExpiryOption {
        value: "keep",
        label: match token.expires_at {
            Some(at) => t.with("tokens.expiry_keep", "n", local_time_short(at, tz)),
            None => t.get("tokens.expiry_keep_never").into_owned(),
        },
        checked: false,
    };
    let page = EditPage {
        l: me.layout("tokens.edit_title", "profile"),
        csrf: me.nav().csrf,
        action: format!("/profile/tokens/{}/edit", token.id),
        summary: !errors.is_empty(),
        description: Input::new(t, "description", "tokens.description", &form.description).required().errors(&errors),
        expiry: ExpiryPicker::new(t, tz, state.usher.now(), &policy, keep, form, &errors),
        facts: vec![
            (t.get("tokens.col_token").into_owned(), format!("{}…{}", token.first_chars, token.last_chars)),
            (
                t.get("tokens.col_client").into_owned(),
                if token.client.is_empty() { t.get("audit.none").into_owned() } else { token.client.clone() },
            ),
            (t.get("tokens.col_created").into_owned(), local_time_short(token.created_at, tz)),
        ],
        scopes: token.scopes.clone(),
    };
    Ok(render(status, &page))
}

/// The token to edit: the caller's, and not revoked (a revoked token is final).
async fn editable(state: &AppState, me: &SignedIn, target: &Target, id: TokenId) -> WebResult<ApiToken> {
    let token = state.usher.token(&me.0, target.owner_arg(), id).await.map_err(|e| me.core_error(e))?;
    if token.revoked_at.is_some() {
        return Err(me.core_error(Error::Conflict(Conflict::TokenRevoked)));
    }
    Ok(token)
}

/// `GET /profile/tokens/{id}/edit`: description and expiry.
pub async fn edit_page(
    State(state): State<AppState>,
    me: SignedIn,
    id: Result<Path<TokenId>, PathRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let target = own(&state, &me).await?;
    let token = editable(&state, &me, &target, id).await?;
    let tz = me.0.user.profile.timezone;
    let form = TokenForm {
        description: token.description.clone(),
        expires_at: token.expires_at.map(|at| local_date(at, tz)).unwrap_or_default(),
        ..TokenForm::default()
    };
    edit_form(&state, &me, &token, &form, &[], StatusCode::OK).await
}

/// `POST /profile/tokens/{id}/edit`: saves, then back to the list.
pub async fn save_token(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    id: Result<Path<TokenId>, PathRejection>,
    form: Result<Form<TokenForm>, FormRejection>,
) -> WebResult {
    let id = path(&me, id)?;
    let target = own(&state, &me).await?;
    let form = me.accept(form)?;
    let token = editable(&state, &me, &target, id).await?;
    let unprocessable = StatusCode::UNPROCESSABLE_ENTITY;
    let expires = match form.expiry(me.0.user.profile.timezone) {
        Ok(e) => e,
        Err(e) => return edit_form(&state, &me, &token, &form, &[e], unprocessable).await,
    };
    let description = Some(form.description.clone());
    match state.usher.update_token(&ctx, &me.0, target.owner_arg(), id, description, expires).await {
        Ok(_) => Ok(see_other("/profile/tokens?done=saved")),
        Err(Error::Invalid(e)) => edit_form(&state, &me, &token, &form, &e.0, unprocessable).await,
        Err(e) => Err(me.core_error(e)),
    }
}
