//! The API token policy page (administrators): default and longest lifetime,
//! whether tokens may never expire, and which scopes tokens may be given.

use askama::Template;
use axum::{
    Form,
    extract::{State, rejection::FormRejection},
    http::StatusCode,
};
use serde::Deserialize;
use usher_core::Error;
use usher_domain::{FieldError, TokenPolicy};

use super::{
    page::{CsrfForm, FieldErrors, Input, Layout, SignedIn, WebQuery, WebResult, render, see_other},
    scopes::ScopePicker,
};
use crate::{app::AppState, extract::Ctx};

#[derive(Template)]
#[template(path = "admin_token_policy.html")]
struct TokenPolicyPage {
    l: Layout,
    csrf: String,
    saved: bool,
    summary: bool,
    default_lifetime_days: Input,
    max_lifetime_days: Input,
    allow_never_expiring: bool,
    never_errors: Vec<String>,
    scopes: ScopePicker,
}

/// The policy form as posted: numbers as text (a typo is a field error), the
/// checkbox present only when ticked, `scopes` once per ticked box.
#[derive(Debug, Default, Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub struct TokenPolicyForm {
    csrf_token: String,
    default_lifetime_days: String,
    max_lifetime_days: String,
    allow_never_expiring: bool,
    scopes: Vec<String>,
}

impl From<Vec<(String, String)>> for TokenPolicyForm {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "csrf_token" => form.csrf_token = value,
                "default_lifetime_days" => form.default_lifetime_days = value,
                "max_lifetime_days" => form.max_lifetime_days = value,
                "allow_never_expiring" => form.allow_never_expiring = true,
                "scopes" => form.scopes.push(value),
                _ => {}
            }
        }
        form
    }
}

impl CsrfForm for TokenPolicyForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

impl TokenPolicyForm {
    fn of(p: &TokenPolicy) -> Self {
        Self {
            csrf_token: String::new(),
            default_lifetime_days: p.default_lifetime_days.to_string(),
            max_lifetime_days: p.max_lifetime_days.map(|d| d.to_string()).unwrap_or_default(),
            allow_never_expiring: p.allow_never_expiring,
            scopes: p.scopes.clone(),
        }
    }

    /// The policy, or every field that is not a number. Bounds are the
    /// policy's own check (`TokenPolicy::validate`).
    fn parse(&self) -> Result<TokenPolicy, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut number = |field: &str, text: &str| -> u32 {
            text.trim().parse::<u32>().unwrap_or_else(|_| {
                errors.push(FieldError::new(field, "not_a_number", "Enter a whole number."));
                0
            })
        };
        let default_lifetime_days = number("default_lifetime_days", &self.default_lifetime_days);
        let max_lifetime_days =
            Some(self.max_lifetime_days.trim()).filter(|d| !d.is_empty()).map(|d| number("max_lifetime_days", d));
        let policy = TokenPolicy {
            default_lifetime_days,
            max_lifetime_days,
            allow_never_expiring: self.allow_never_expiring,
            scopes: self.scopes.clone(),
        };
        if errors.is_empty() { Ok(policy) } else { Err(errors) }
    }
}

fn policy_form(me: &SignedIn, f: &TokenPolicyForm, errors: &FieldErrors, saved: bool) -> TokenPolicyPage {
    let t = me.t();
    let all: Vec<String> = usher_domain::Scope::all().iter().map(ToString::to_string).collect();
    TokenPolicyPage {
        l: me.layout("token_policy.title", "token_policy"),
        csrf: me.nav().csrf,
        saved,
        summary: !errors.is_empty(),
        default_lifetime_days: Input::new(
            t,
            "default_lifetime_days",
            "token_policy.default_lifetime_days",
            &f.default_lifetime_days,
        )
        .kind("number")
        .hint(t, "token_policy.default_lifetime_hint")
        .required()
        .errors(errors),
        max_lifetime_days: Input::new(t, "max_lifetime_days", "token_policy.max_lifetime_days", &f.max_lifetime_days)
            .kind("number")
            .hint(t, "token_policy.max_lifetime_hint")
            .errors(errors),
        allow_never_expiring: f.allow_never_expiring,
        never_errors: errors.get("allow_never_expiring").to_vec(),
        scopes: ScopePicker::new(t, &all, &f.scopes, errors),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenPolicyQuery {
    saved: Option<String>,
}

/// `GET /admin/settings/token-policy`.
pub async fn token_policy_page(
    State(state): State<AppState>,
    me: SignedIn,
    WebQuery(q): WebQuery<TokenPolicyQuery>,
) -> WebResult {
    let admin = &me.0;
    let policy = state.usher.token_policy_for(admin).await.map_err(|e| me.core_error(e))?;
    let page = policy_form(&me, &TokenPolicyForm::of(&policy), &FieldErrors::default(), q.saved.is_some());
    Ok(render(StatusCode::OK, &page))
}

/// `POST /admin/settings/token-policy`: replaces the policy.
pub async fn save_token_policy(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<TokenPolicyForm>, FormRejection>,
) -> WebResult {
    let admin = &me.0;
    let form = me.accept(form)?;
    me.refused_unless(usher_core::access::policy::Operation::ChangeSettings)?;
    let invalid = |errors: &[FieldError]| {
        let errors = FieldErrors::translate(me.t(), errors, None);
        Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &policy_form(&me, &form, &errors, false)))
    };
    let policy = match form.parse() {
        Ok(policy) => policy,
        Err(errors) => return invalid(&errors),
    };
    match state.usher.set_token_policy(&ctx, admin, policy).await {
        Ok(_) => Ok(see_other("/admin/settings/token-policy?saved=1")),
        Err(Error::Invalid(e)) => invalid(&e.0),
        Err(e) => Err(me.core_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_form_round_trips() {
        let capped = TokenPolicy { max_lifetime_days: Some(90), scopes: vec!["read".into()], ..TokenPolicy::default() };
        let open = TokenPolicy { allow_never_expiring: true, ..TokenPolicy::default() };
        for policy in [TokenPolicy::default(), capped, open] {
            assert_eq!(TokenPolicyForm::of(&policy).parse().unwrap(), policy);
        }
    }

    #[test]
    fn posted_pairs_fill_the_form_and_typos_are_field_errors() {
        let pairs = [
            ("csrf_token", "c"),
            ("default_lifetime_days", "thirty"),
            ("max_lifetime_days", "-1"),
            ("allow_never_expiring", "on"),
            ("scopes", "read"),
            ("scopes", "audit:read"),
        ];
        let form = TokenPolicyForm::from(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>());
        assert!(form.allow_never_expiring && form.scopes == ["read", "audit:read"]);
        let fields: Vec<_> = form.parse().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["default_lifetime_days", "max_lifetime_days"]);
        let empty_cap = TokenPolicyForm { default_lifetime_days: "30".into(), ..Default::default() };
        assert_eq!(empty_cap.parse().unwrap().max_lifetime_days, None);
    }
}
