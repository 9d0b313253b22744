//! Administration pages: the password policy (the audit log is `audit.rs`).
//! Each handler calls one core service, which refuses anyone the policy does
//! not allow (a 403 page).

use askama::Template;
use axum::{
    Form,
    extract::{State, rejection::FormRejection},
    http::StatusCode,
};
use serde::Deserialize;
use usher_core::Error;
use usher_domain::{FieldError, PasswordPolicy};

use super::page::{
    Choice, CsrfForm, FieldErrors, Input, Layout, Select, SignedIn, WebQuery, WebResult, render, see_other,
};
use crate::{app::AppState, extract::Ctx};

/// A preset offered on the policy page, described by its own rules.
pub struct PresetOption {
    pub name: &'static str,
    pub title: String,
    pub rules: String,
    pub checked: bool,
}

/// A checkbox of the policy form.
pub struct Check {
    pub name: &'static str,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "admin_policy.html")]
struct PolicyPage {
    l: Layout,
    csrf: String,
    presets: Vec<PresetOption>,
    preset_loaded: bool,
    saved: bool,
    summary: bool,
    min_length: Input,
    checks: Vec<Check>,
    forbid_user_id: Check,
    min_strength: Select,
    history: Input,
    max_age_days: Input,
}

/// The policy form as posted: numbers as text (so a typo is a field error,
/// not an unreadable form) and checkboxes present only when ticked.
#[derive(Debug, Default, Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    min_length: String,
    require_digit: Option<String>,
    require_special: Option<String>,
    require_digit_or_special: Option<String>,
    require_upper: Option<String>,
    require_lower: Option<String>,
    forbid_user_id: Option<String>,
    #[serde(default)]
    min_strength: String,
    #[serde(default)]
    history: String,
    #[serde(default)]
    max_age_days: String,
}

impl CsrfForm for PolicyForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

fn on(b: bool) -> Option<String> {
    b.then(|| "on".to_owned())
}

impl PolicyForm {
    fn of(p: &PasswordPolicy) -> Self {
        Self {
            csrf_token: String::new(),
            min_length: p.min_length.to_string(),
            require_digit: on(p.require_digit),
            require_special: on(p.require_special),
            require_digit_or_special: on(p.require_digit_or_special),
            require_upper: on(p.require_upper),
            require_lower: on(p.require_lower),
            forbid_user_id: on(p.forbid_user_id),
            min_strength: p.min_strength.to_string(),
            history: p.history.to_string(),
            max_age_days: p.max_age_days.map(|d| d.to_string()).unwrap_or_default(),
        }
    }

    /// The policy, or every field that is not a number.
    fn parse(&self) -> Result<PasswordPolicy, Vec<FieldError>> {
        let mut errors = Vec::new();
        let mut number = |field: &str, text: &str| -> u32 {
            text.trim().parse::<u32>().unwrap_or_else(|_| {
                errors.push(FieldError::new(field, "not_a_number", "Enter a whole number."));
                0
            })
        };
        let min_length = number("min_length", &self.min_length);
        let min_strength = number("min_strength", &self.min_strength);
        let history = number("history", &self.history);
        let max_age_days = Some(self.max_age_days.trim()).filter(|d| !d.is_empty()).map(|d| number("max_age_days", d));
        let policy = PasswordPolicy {
            min_length,
            require_digit: self.require_digit.is_some(),
            require_special: self.require_special.is_some(),
            require_digit_or_special: self.require_digit_or_special.is_some(),
            require_upper: self.require_upper.is_some(),
            require_lower: self.require_lower.is_some(),
            forbid_user_id: self.forbid_user_id.is_some(),
            // Out-of-range values are the policy's own check (`validate`).
            min_strength: u8::try_from(min_strength).unwrap_or(u8::MAX),
            history,
            max_age_days,
        };
        if errors.is_empty() { Ok(policy) } else { Err(errors) }
    }
}

fn policy_form(me: &SignedIn, f: &PolicyForm, errors: &FieldErrors, preset: Option<&str>, saved: bool) -> PolicyPage {
    let t = me.t();
    let check = |name: &'static str, value: &Option<String>| Check {
        name,
        label: t.get(&format!("policy.{name}")).into_owned(),
        checked: value.is_some(),
    };
    let presets = PasswordPolicy::presets()
        .into_iter()
        .map(|(name, policy)| PresetOption {
            name,
            title: t.get(&format!("policy.presets.{name}")).into_owned(),
            rules: t.policy_rules(&policy).join(" · "),
            checked: preset == Some(name),
        })
        .collect();
    let strengths = (0..=4)
        .map(|n: u8| Choice {
            value: n.to_string(),
            label: t.get(&format!("policy.strength.{n}")).into_owned(),
            selected: f.min_strength.trim() == n.to_string(),
            lang: "",
        })
        .collect();
    PolicyPage {
        l: me.layout("policy.title", "policy"),
        csrf: me.nav().csrf,
        presets,
        preset_loaded: preset.is_some(),
        saved,
        summary: !errors.is_empty(),
        min_length: Input::new(t, "min_length", "policy.min_length", &f.min_length)
            .kind("number")
            .required()
            .errors(errors),
        checks: vec![
            check("require_digit", &f.require_digit),
            check("require_special", &f.require_special),
            check("require_digit_or_special", &f.require_digit_or_special),
            check("require_upper", &f.require_upper),
            check("require_lower", &f.require_lower),
        ],
        forbid_user_id: check("forbid_user_id", &f.forbid_user_id),
        min_strength: Select::new(t, "min_strength", "policy.min_strength", strengths)
            .hint(t, "policy.min_strength_hint")
            .errors(errors),
        history: Input::new(t, "history", "policy.history", &f.history)
            .kind("number")
            .hint(t, "policy.history_hint")
            .required()
            .errors(errors),
        max_age_days: Input::new(t, "max_age_days", "policy.max_age_days", &f.max_age_days)
            .kind("number")
            .hint(t, "policy.max_age_hint")
            .errors(errors),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct PolicyQuery {
    preset: Option<String>,
    saved: Option<String>,
}

/// `GET /admin/settings/password-policy[?preset=NAME]`: the policy in force,
/// or a preset loaded into the form (saved only when the form is posted).
pub async fn policy_page(State(state): State<AppState>, me: SignedIn, WebQuery(q): WebQuery<PolicyQuery>) -> WebResult {
    let current = state.usher.password_policy_for(&me.0).await.map_err(|e| me.core_error(e))?;
    let presets = usher_core::settings::password_policy_presets(&me.0).map_err(|e| me.core_error(e))?;
    let preset = q.preset.as_deref().and_then(|name| presets.into_iter().find(|(n, _)| *n == name));
    let policy = preset.as_ref().map_or(current, |(_, policy)| policy.clone());
    let page =
        policy_form(&me, &PolicyForm::of(&policy), &FieldErrors::default(), preset.map(|p| p.0), q.saved.is_some());
    Ok(render(StatusCode::OK, &page))
}

/// `POST /admin/settings/password-policy`: replaces the policy.
pub async fn save_policy(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<PolicyForm>, FormRejection>,
) -> WebResult {
    let admin = &me.0;
    let form = me.accept(form)?;
    me.refused_unless(usher_core::access::policy::Operation::ChangeSettings)?;
    let invalid = |errors: &[FieldError]| {
        let errors = FieldErrors::translate(me.t(), errors, None);
        Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &policy_form(&me, &form, &errors, None, false)))
    };
    let policy = match form.parse() {
        Ok(policy) => policy,
        Err(errors) => return invalid(&errors),
    };
    match state.usher.set_password_policy(&ctx, admin, policy).await {
        Ok(_) => Ok(see_other("/admin/settings/password-policy?saved=1")),
        Err(Error::Invalid(e)) => invalid(&e.0),
        Err(e) => Err(me.core_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_policy_form_round_trips() {
        for (_, policy) in PasswordPolicy::presets() {
            assert_eq!(PolicyForm::of(&policy).parse().unwrap(), policy);
        }
    }

    #[test]
    fn every_field_that_is_not_a_number_is_reported() {
        let form = PolicyForm {
            min_length: "eight".into(),
            min_strength: "2".into(),
            history: "".into(),
            max_age_days: "-1".into(),
            ..Default::default()
        };
        let fields: Vec<_> = form.parse().unwrap_err().into_iter().map(|e| e.field).collect();
        assert_eq!(fields, ["min_length", "history", "max_age_days"]);
        let huge = PolicyForm {
            min_length: "8".into(),
            min_strength: "999".into(),
            history: "0".into(),
            ..Default::default()
        };
        assert_eq!(huge.parse().unwrap().min_strength, u8::MAX, "left for validate() to refuse");
    }

    #[test]
    fn every_key_built_at_run_time_exists() {
        use usher_domain::Language;

        use crate::web::i18n::Tr;
        for lang in Language::ALL {
            let t = Tr(lang);
            let mut keys: Vec<String> =
                PasswordPolicy::presets().iter().map(|(n, _)| format!("policy.presets.{n}")).collect();
            keys.extend((0..=4).map(|n| format!("policy.strength.{n}")));
            let checks =
                ["require_digit", "require_special", "require_digit_or_special", "require_upper", "require_lower"];
            keys.extend(checks.iter().chain(&["forbid_user_id"]).map(|c| format!("policy.{c}")));
            for key in keys {
                assert!(t.try_get(&key).is_some(), "{lang}: {key}");
            }
        }
    }
}
