//! "My profile": the Profile tab (personal details and preferences). The
//! Security tab is in `security`.

use askama::Template;
use axum::{
    Form,
    extract::{State, rejection::FormRejection},
    http::StatusCode,
};
use serde::Deserialize;
use usher_core::{Error, accounts::ProfileInput, store::User};
use usher_domain::Language;

use super::{
    i18n::local_time,
    page::{Choice, CsrfForm, FieldErrors, Input, Layout, Select, SignedIn, WebQuery, WebResult, render, see_other},
    zones::ZonePicker,
};
use crate::{app::AppState, extract::Ctx};

#[derive(Template)]
#[template(path = "profile.html")]
struct ProfilePage {
    l: Layout,
    csrf: String,
    email: Option<String>,
    user_id: String,
    roles: Vec<String>,
    inputs: Vec<Input>,
    selects: Vec<Select>,
    zone: ZonePicker,
    activity: Vec<(String, String)>,
    saved: bool,
    summary: bool,
}

/// The profile form as posted. Every field is text, so any body decodes and
/// problems are reported next to their fields.
#[derive(Debug, Default, Deserialize)]
pub struct ProfileForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    first_name: String,
    #[serde(default)]
    last_name: String,
    #[serde(default)]
    phone: String,
    #[serde(default)]
    contact_person: String,
    #[serde(default)]
    company: String,
    #[serde(default)]
    language: String,
    #[serde(default)]
    timezone: String,
}

impl CsrfForm for ProfileForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

impl ProfileForm {
    fn of(u: &User) -> Self {
        let p = &u.profile;
        let s = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            csrf_token: String::new(),
            first_name: s(&p.first_name),
            last_name: s(&p.last_name),
            phone: s(&p.phone),
            contact_person: s(&p.contact_person),
            company: s(&p.company),
            language: p.language.code().to_owned(),
            timezone: p.timezone.name().to_owned(),
        }
    }

    /// The change to apply: an empty field clears its value.
    fn input(&self) -> ProfileInput {
        let text = |v: &str| Some(Some(v.to_owned()).filter(|v| !v.trim().is_empty()));
        ProfileInput {
            first_name: text(&self.first_name),
            last_name: text(&self.last_name),
            phone: text(&self.phone),
            contact_person: text(&self.contact_person),
            company: text(&self.company),
            language: Some(self.language.clone()),
            timezone: Some(self.timezone.clone()),
            email: None,
        }
    }
}

pub(super) fn language_choices(current: &str) -> Vec<Choice> {
    Language::ALL
        .into_iter()
        .map(|l| Choice {
            value: l.code().to_owned(),
            label: l.native_name().to_owned(),
            selected: l.code() == current,
            lang: l.code(),
        })
        .collect()
}

fn profile_form(state: &AppState, me: &SignedIn, f: &ProfileForm, errors: &FieldErrors, saved: bool) -> ProfilePage {
    let t = me.t();
    let u = &me.0.user;
    let tz = u.profile.timezone;
    let never = || t.get("profile.never").into_owned();
    let when = |at: Option<chrono::DateTime<chrono::Utc>>| at.map_or_else(never, |at| local_time(at, tz));
    ProfilePage {
        l: me.layout("profile.title", "profile"),
        csrf: me.nav().csrf,
        email: u.email.clone(),
        user_id: u.user_id.clone(),
        roles: u.roles.iter().map(|r| t.get(&format!("roles.{}", r.as_str())).into_owned()).collect(),
        inputs: vec![
            Input::new(t, "first_name", "profile.first_name", &f.first_name).autocomplete("given-name").errors(errors),
            Input::new(t, "last_name", "profile.last_name", &f.last_name).autocomplete("family-name").errors(errors),
            Input::new(t, "phone", "profile.phone", &f.phone)
                .kind("tel")
                .autocomplete("tel")
                .hint(t, "profile.phone_hint")
                .errors(errors),
            Input::new(t, "contact_person", "profile.contact_person", &f.contact_person).errors(errors),
            Input::new(t, "company", "profile.company", &f.company).autocomplete("organization").errors(errors),
        ],
        selects: vec![Select::new(t, "language", "profile.language", language_choices(&f.language)).errors(errors)],
        zone: ZonePicker::new(t, "timezone", &f.timezone, state.usher.now())
            .hint(t, "profile.timezone_hint")
            .errors(errors),
        activity: vec![
            (t.get("profile.created").into_owned(), local_time(u.created_at, tz)),
            (t.get("profile.last_login").into_owned(), when(u.last_login_at)),
            (t.get("profile.password_changed").into_owned(), when(u.password_changed_at)),
        ],
        saved,
        summary: !errors.is_empty(),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ProfileQuery {
    saved: Option<String>,
}

/// `GET /profile`.
pub async fn profile_page(
    State(state): State<AppState>,
    me: SignedIn,
    WebQuery(q): WebQuery<ProfileQuery>,
) -> WebResult {
    let form = ProfileForm::of(&me.0.user);
    Ok(render(StatusCode::OK, &profile_form(&state, &me, &form, &FieldErrors::default(), q.saved.is_some())))
}

/// `POST /profile`: saves the profile, or shows the form again with every
/// problem next to its field (422), keeping what was typed.
pub async fn save_profile(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<ProfileForm>, FormRejection>,
) -> WebResult {
    let form = me.accept(form)?;
    match state.usher.update_profile(&ctx, &me.0, form.input()).await {
        Ok(_) => Ok(see_other("/profile?saved=1")),
        Err(Error::Invalid(e)) => {
            let errors = FieldErrors::translate(me.t(), &e.0, None);
            Ok(render(StatusCode::UNPROCESSABLE_ENTITY, &profile_form(&state, &me, &form, &errors, false)))
        }
        Err(e) => Err(me.core_error(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::web::i18n::Tr;

    #[test]
    fn empty_fields_clear_and_choices_are_sent_as_they_are() {
        let form = ProfileForm {
            first_name: "Ann".into(),
            last_name: "  ".into(),
            phone: "+33 6 12 34 56 78".into(),
            language: "fr".into(),
            timezone: "Europe/Paris".into(),
            ..Default::default()
        };
        let input = form.input();
        assert_eq!(input.first_name, Some(Some("Ann".into())));
        assert_eq!(input.last_name, Some(None));
        assert_eq!(input.company, Some(None));
        assert_eq!(input.phone, Some(Some("+33 6 12 34 56 78".into())));
        assert_eq!(input.language.as_deref(), Some("fr"));
        assert_eq!(input.timezone.as_deref(), Some("Europe/Paris"));
    }

    #[test]
    fn the_language_list_marks_the_current_language() {
        let langs = language_choices("ru");
        assert_eq!(langs.iter().map(|c| c.label.as_str()).collect::<Vec<_>>(), ["English", "Français", "Русский"]);
        assert!(langs[2].selected && !langs[0].selected);
    }

    #[test]
    fn translator_is_the_users_language() {
        assert_eq!(Tr(Language::Fr).get("profile.save"), "Enregistrer");
    }
}
