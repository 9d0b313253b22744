//! "Create user": user ID, email, names, phone, the organization's custom
//! fields, organization roles, and whether to invite the user to set their
//! password (by email, or by a link shown to the administrator).

use askama::Template;
use axum::{
    Form,
    extract::{State, rejection::FormRejection},
    http::StatusCode,
};
use serde::Deserialize;
use usher_core::{
    Error,
    metadata::MetadataField,
    users::{CreateUser, Invite, UserFormOptions},
};
use usher_domain::Role;

use super::{
    custom::{self, CustomInput, Typed},
    details, user_href,
};
use crate::{
    app::AppState,
    extract::Ctx,
    web::{
        i18n::Tr,
        page::{CsrfForm, FieldErrors, Input, Layout, SignedIn, WebResult, render, see_other},
    },
};

/// The organization roles, in the order the form lists them.
const ROLES: [Role; 4] = [Role::User, Role::Developer, Role::UserManager, Role::Administrator];

/// A checkbox of the roles fieldset.
pub struct RoleBox {
    pub value: &'static str,
    pub label: String,
    pub hint: String,
    pub checked: bool,
}

/// A radio button of the invitation choice.
pub struct InviteChoice {
    pub value: &'static str,
    pub label: String,
    pub checked: bool,
}

#[derive(Template)]
#[template(path = "admin_user_new.html")]
struct NewUserPage {
    l: Layout,
    csrf: String,
    inputs: Vec<Input>,
    /// One input per custom metadata field, in the fields' order.
    custom: Vec<CustomInput>,
    roles: Vec<RoleBox>,
    role_errors: Vec<String>,
    invites: Vec<InviteChoice>,
    summary: bool,
}

/// The form as posted; read from the raw pairs, as `roles` repeats once per ticked box.
#[derive(Debug, Default, Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub struct NewUserForm {
    csrf_token: String,
    user_id: String,
    email: String,
    first_name: String,
    last_name: String,
    phone: String,
    roles: Vec<String>,
    /// `none`, `email` or `link`.
    invite: String,
    /// The custom fields' values, posted as `metadata.<name>`.
    metadata: Typed,
}

impl From<Vec<(String, String)>> for NewUserForm {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "csrf_token" => form.csrf_token = value,
                "user_id" => form.user_id = value,
                "email" => form.email = value,
                "first_name" => form.first_name = value,
                "last_name" => form.last_name = value,
                "phone" => form.phone = value,
                "roles" => form.roles.push(value),
                "invite" => form.invite = value,
                key => {
                    form.metadata.take(key, &value);
                }
            }
        }
        form
    }
}

impl CsrfForm for NewUserForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

impl NewUserForm {
    fn blank() -> Self {
        Self { roles: vec![Role::User.as_str().to_owned()], invite: "none".into(), ..Self::default() }
    }

    fn invite(&self) -> Invite {
        match self.invite.as_str() {
            "email" => Invite::Email,
            "link" => Invite::Link,
            _ => Invite::No,
        }
    }

    /// The user to create; with custom `fields`, their values too (required ones needed).
    fn input(&self, fields: &[MetadataField]) -> CreateUser {
        let optional = |v: &str| Some(v.to_owned()).filter(|v| !v.trim().is_empty());
        CreateUser {
            user_id: self.user_id.clone(),
            email: optional(&self.email),
            first_name: self.first_name.clone(),
            last_name: self.last_name.clone(),
            phone: optional(&self.phone),
            roles: Some(self.roles.clone()),
            invite: self.invite(),
            metadata: Some(self.metadata.patch(fields)).filter(|_| !fields.is_empty()),
        }
    }
}

fn new_user_form(me: &SignedIn, options: &UserFormOptions, f: &NewUserForm, errors: &FieldErrors) -> NewUserPage {
    let t = me.t();
    let fields = &options.metadata_fields;
    let roles = ROLES
        .into_iter()
        .filter(|r| options.roles.contains(r))
        .map(|r| RoleBox {
            value: r.as_str(),
            label: t.get(&format!("roles.{}", r.as_str())).into_owned(),
            hint: t.get(&format!("user_admin.role_hints.{}", r.as_str())).into_owned(),
            checked: f.roles.iter().any(|x| x == r.as_str()),
        })
        .collect();
    let invites = ["none", "email", "link"]
        .into_iter()
        .map(|value| InviteChoice {
            value,
            label: t.get(&format!("user_admin.invite_{value}")).into_owned(),
            checked: f.invite == value || (value == "none" && !["email", "link"].contains(&f.invite.as_str())),
        })
        .collect();
    NewUserPage {
        l: me.layout("user_admin.new_title", "users"),
        csrf: me.nav().csrf,
        inputs: vec![
            Input::new(t, "user_id", "user_admin.user_id", &f.user_id)
                .hint(t, "user_admin.user_id_hint")
                .required()
                .errors(errors),
            Input::new(t, "email", "user_admin.email", &f.email)
                .kind("email")
                .hint(t, "user_admin.email_hint")
                .errors(errors),
            Input::new(t, "first_name", "profile.first_name", &f.first_name).required().errors(errors),
            Input::new(t, "last_name", "profile.last_name", &f.last_name).required().errors(errors),
            Input::new(t, "phone", "profile.phone", &f.phone).kind("tel").hint(t, "profile.phone_hint").errors(errors),
        ],
        custom: custom::inputs(t, fields, &f.metadata, errors),
        roles,
        role_errors: errors.get("roles").to_vec(),
        invites,
        summary: !errors.is_empty(),
    }
}

/// `GET /admin/users/new`.
pub async fn new_user_page(State(state): State<AppState>, me: SignedIn) -> WebResult {
    let options = state.usher.user_form_options(&me.0).await.map_err(|e| me.core_error(e))?;
    let page = new_user_form(&me, &options, &NewUserForm::blank(), &FieldErrors::default());
    Ok(render(StatusCode::OK, &page))
}

/// Translated field errors of a creation, with a uniqueness conflict next to its field.
fn creation_errors(t: Tr, fields: &[MetadataField], e: Error) -> Result<FieldErrors, Error> {
    match e {
        Error::Invalid(invalid) => Ok(custom::translate(t, fields, &invalid.0)),
        Error::Conflict(conflict) => match conflict.field_error() {
            Some(field) => Ok(FieldErrors::translate(t, &[field], None)),
            None => Err(Error::Conflict(conflict)),
        },
        other => Err(other),
    }
}

/// `POST /admin/users/new`: creates the user and opens their details page (with
/// the invitation link, once, when one was asked for), or shows the form again
/// with every problem next to its field.
pub async fn create_user(
    State(state): State<AppState>,
    Ctx(ctx): Ctx,
    me: SignedIn,
    form: Result<Form<NewUserForm>, FormRejection>,
) -> WebResult {
    let form = me.accept(form)?;
    let options = state.usher.user_form_options(&me.0).await.map_err(|e| me.core_error(e))?;
    let fields = &options.metadata_fields;
    let input = form.input(fields);
    match state.usher.admin_create_user(&ctx, &me.0, input).await {
        Ok(created) => match created.invitation_link {
            Some(link) => {
                let secret = details::OneTime::InvitationLink(link);
                crate::web::reveal::redirect(&state, &me, &secret, &user_href(created.user.id)).await
            }
            None => {
                let done = if form.invite() == Invite::Email { "invited" } else { "created" };
                Ok(see_other(&format!("{}?done={done}", user_href(created.user.id))))
            }
        },
        Err(e) => {
            let status =
                if matches!(e, Error::Conflict(_)) { StatusCode::CONFLICT } else { StatusCode::UNPROCESSABLE_ENTITY };
            let errors = creation_errors(me.t(), fields, e).map_err(|e| me.core_error(e))?;
            Ok(render(status, &new_user_form(&me, &options, &form, &errors)))
        }
    }
}

#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use super::*;

    #[test]
    fn the_form_reads_repeated_roles_and_the_invitation_choice() {
        let body = "csrf_token=c&user_id=ada&email=&first_name=Ada&last_name=L&roles=user&roles=developer&invite=link";
        let form = NewUserForm::from(url::form_urlencoded::parse(body.as_bytes()).into_owned().collect::<Vec<_>>());
        let input = form.input(&[]);
        assert_eq!(input.roles.unwrap(), ["user", "developer"]);
        assert_eq!(input.metadata, None, "no custom fields, no values");
        assert_eq!(input.email, None);
        assert_eq!(input.invite, Invite::Link);
        assert_eq!(NewUserForm::blank().invite(), Invite::No);
    }

    #[test]
    fn every_role_and_invitation_choice_has_words_in_every_language() {
        for lang in Language::ALL {
            let t = Tr(lang);
            for role in ROLES {
                assert!(t.try_get(&format!("user_admin.role_hints.{}", role.as_str())).is_some(), "{lang}: {role}");
            }
            for value in ["none", "email", "link"] {
                assert!(t.try_get(&format!("user_admin.invite_{value}")).is_some(), "{lang}: {value}");
            }
        }
    }
}
