//! Accounts: creating users, the self-service profile and password change.

use serde_json::json;
use usher_domain::{Email, FieldError, Invalid, Language, LoginName, OrgId, Phone, Role, ShortText, TimeZone, UserId};

use crate::{
    Error, RequestContext, Result, Usher,
    access::policy::{self, Operation},
    audit::{Entry, action},
    auth::Principal,
    passwords::{PasswordOwner, check_policy},
    store::{NewUser, Profile, User, UserStatus},
};

/// A user to create, already parsed.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub user_id: LoginName,
    pub email: Option<Email>,
    pub first_name: Option<ShortText>,
    pub last_name: Option<ShortText>,
    pub roles: Vec<Role>,
    pub password: Option<String>,
}

/// A profile change as it arrives: `None` leaves a field alone, `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct ProfileInput {
    pub first_name: Option<Option<String>>,
    pub last_name: Option<Option<String>>,
    pub phone: Option<Option<String>>,
    pub contact_person: Option<Option<String>>,
    pub company: Option<Option<String>>,
    pub language: Option<String>,
    pub timezone: Option<String>,
    /// The email address is not part of a profile change: any value given is
    /// refused (`immutable`) with the other fields' problems.
    pub email: Option<Option<String>>,
}

impl ProfileInput {
    /// Applies the change to a profile, parsing every field and reporting every
    /// problem at once.
    pub fn apply_to(self, mut profile: Profile) -> Result<Profile, Invalid> {
        let mut errors: Vec<FieldError> = Vec::new();
        if self.email.is_some() {
            errors.push(FieldError::new("email", "immutable", "The email address cannot be changed."));
        }
        let mut text = |field: &str, value: Option<Option<String>>, slot: &mut Option<String>| {
            if let Some(v) = value {
                match ShortText::parse(field, v.as_deref().unwrap_or("")) {
                    Ok(t) => *slot = t.map(ShortText::into_string),
                    Err(e) => errors.extend(e.0),
                }
            }
        };
        text("first_name", self.first_name, &mut profile.first_name);
        text("last_name", self.last_name, &mut profile.last_name);
        text("contact_person", self.contact_person, &mut profile.contact_person);
        text("company", self.company, &mut profile.company);
        if let Some(phone) = self.phone {
            match phone.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
                None => profile.phone = None,
                Some(p) => match Phone::parse(p) {
                    Ok(p) => profile.phone = Some(p.as_str().to_owned()),
                    Err(e) => errors.extend(e.0),
                },
            }
        }
        if let Some(lang) = self.language {
            match lang.parse::<Language>() {
                Ok(l) => profile.language = l,
                Err(e) => errors.extend(e.0),
            }
        }
        if let Some(tz) = self.timezone {
            match TimeZone::parse(&tz) {
                Ok(t) => profile.timezone = t,
                Err(e) => errors.extend(e.0),
            }
        }
        if errors.is_empty() { Ok(profile) } else { Err(Invalid(errors)) }
    }
}

fn owner_of(user: &User) -> PasswordOwner<'_> {
    PasswordOwner {
        user_id: &user.user_id,
        email: user.email.as_deref(),
        names: [user.profile.first_name.as_deref(), user.profile.last_name.as_deref()],
    }
}

impl Usher {
    /// Creates a user in an organization. The password, when given, must meet the
    /// organization's policy; administrators must have an email address.
    pub async fn create_user(
        &self,
        ctx: &RequestContext,
        actor: Option<&User>,
        org_id: OrgId,
        account: NewAccount,
    ) -> Result<User> {
        if account.roles.contains(&Role::Administrator) && account.email.is_none() {
            return Err(Invalid::one("email", "required", "Administrators must have an email address.").into());
        }
        let profile = Profile {
            first_name: account.first_name.map(ShortText::into_string),
            last_name: account.last_name.map(ShortText::into_string),
            ..Profile::default()
        };
        let password_hash = match &account.password {
            Some(password) => {
                let policy = self.password_policy(org_id).await?;
                let owner = PasswordOwner {
                    user_id: account.user_id.as_str(),
                    email: account.email.as_ref().map(Email::as_str),
                    names: [profile.first_name.as_deref(), profile.last_name.as_deref()],
                };
                let errors = check_policy(&policy, password, &owner, "password");
                if !errors.is_empty() {
                    return Err(Invalid(errors).into());
                }
                Some(self.hasher.hash(password).await?)
            }
            None => None,
        };
        let mut roles = account.roles.clone();
        roles.sort();
        roles.dedup();
        let new = NewUser {
            id: UserId::generate(),
            org_id,
            user_id: account.user_id.as_str().to_owned(),
            user_id_key: account.user_id.key(),
            email: account.email.as_ref().map(|e| e.as_str().to_owned()),
            email_key: account.email.as_ref().map(Email::key),
            profile,
            status: if password_hash.is_some() { UserStatus::Active } else { UserStatus::Invited },
            roles,
            password_hash,
            created_at: self.now(),
        };
        // A value taken meanwhile is shown next to its field, like the other checks.
        self.store.insert_user(&new).await.map_err(|e| match Error::from(e) {
            Error::Conflict(c) => c.field_error().map_or(Error::Conflict(c), |f| Invalid::from(f).into()),
            other => other,
        })?;
        let user = self.store.user(new.id).await?.ok_or(Error::NotFound)?;
        let details = json!({ "roles": user.roles });
        self.audit(ctx, Entry { org_id, action: action::USER_CREATED, actor, target: Some(&user), details }).await?;
        Ok(user)
    }

    /// Changes the caller's own profile (never the email).
    pub async fn update_profile(&self, ctx: &RequestContext, me: &Principal, input: ProfileInput) -> Result<User> {
        policy::authorize(me, Operation::ChangeOwnAccount)?;
        let before = me.user.profile.clone();
        let after = input.apply_to(before.clone())?;
        if after == before {
            return Ok(me.user.clone());
        }
        self.store.update_profile(me.user.id, &after, self.now()).await?;
        let user = self.store.user(me.user.id).await?.ok_or(Error::NotFound)?;
        let changed = changed_fields(&before, &after);
        self.audit(
            ctx,
            Entry {
                org_id: user.org_id,
                action: action::PROFILE_UPDATED,
                actor: Some(&me.user),
                target: Some(&user),
                details: json!({ "fields": changed }),
            },
        )
        .await?;
        Ok(user)
    }

    /// Changes the caller's password, given the current one, or without it in a
    /// session that may skip it ([`Principal::may_skip_current_password`]: it
    /// signed in with the password to change moments ago). Every policy rule that
    /// fails is reported, the last `history` passwords cannot come back, and a
    /// password that must be changed cannot be chosen again.
    pub async fn change_password(
        &self,
        ctx: &RequestContext,
        me: &Principal,
        current: Option<&str>,
        new: &str,
    ) -> Result<()> {
        policy::authorize(me, Operation::ChangeOwnAccount)?;
        let user = &me.user;
        let stored = self.store.password_hash(user.id).await?;
        let proof = match current {
            Some(current) if !self.hasher.verify(current, stored.clone()).await? => {
                let details = json!({ "reason": "wrong_current_password" });
                self.audit(
                    ctx,
                    Entry {
                        org_id: user.org_id,
                        action: action::PASSWORD_CHANGE_FAILED,
                        actor: Some(user),
                        target: Some(user),
                        details,
                    },
                )
                .await?;
                return Err(
                    Invalid::one("current_password", "incorrect", "The current password is not correct.").into()
                );
            }
            Some(_) => "current_password",
            None if me.may_skip_current_password(self.now()) => "sign_in",
            None => return Err(Invalid::one("current_password", "required", "Give your current password.").into()),
        };
        let policy = self.password_policy(user.org_id).await?;
        let mut errors = check_policy(&policy, new, &owner_of(user), "new_password");
        let mut previous =
            if policy.history > 0 { self.store.password_history(user.id, policy.history).await? } else { Vec::new() };
        if me.must_change_password() {
            // The obligation is to change it: the same password again has its own message.
            if self.hasher.verify(new, stored).await? {
                let message = "Choose a password different from the current one.";
                errors.push(FieldError::new("new_password", "same_as_current", message));
                previous.clear();
            }
        } else if policy.history > 0 {
            previous.extend(stored);
        }
        for old in previous {
            if self.hasher.verify(new, Some(old)).await? {
                errors.push(FieldError::new(
                    "new_password",
                    "history",
                    format!("Choose a password you have not used among your last {}.", policy.history),
                ));
                break;
            }
        }
        if !errors.is_empty() {
            return Err(Invalid(errors).into());
        }
        let hash = self.hasher.hash(new).await?;
        self.store.set_password(user.id, &hash, self.now(), policy.history).await?;
        self.audit(
            ctx,
            Entry {
                org_id: user.org_id,
                action: action::PASSWORD_CHANGED,
                actor: Some(user),
                target: Some(user),
                details: json!({ "proof": proof }),
            },
        )
        .await
    }
}

pub(crate) fn changed_fields(a: &Profile, b: &Profile) -> Vec<&'static str> {
    let mut out = Vec::new();
    let pairs = [
        ("first_name", a.first_name != b.first_name),
        ("last_name", a.last_name != b.last_name),
        ("phone", a.phone != b.phone),
        ("contact_person", a.contact_person != b.contact_person),
        ("company", a.company != b.company),
        ("language", a.language != b.language),
        ("timezone", a.timezone != b.timezone),
    ];
    for (name, changed) in pairs {
        if changed {
            out.push(name);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profile_input_reports_every_bad_field() {
        let input = ProfileInput {
            phone: Some(Some("12".into())),
            language: Some("de".into()),
            timezone: Some("Nowhere/City".into()),
            first_name: Some(Some("Анна".into())),
            ..Default::default()
        };
        let err = input.apply_to(Profile::default()).unwrap_err();
        let fields: Vec<_> = err.0.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["phone", "language", "timezone"]);
    }

    #[test]
    fn profile_input_sets_and_clears() {
        let start = Profile { company: Some("ACME".into()), ..Default::default() };
        let input = ProfileInput {
            company: Some(None),
            phone: Some(Some("+33 6 12 34 56 78".into())),
            timezone: Some("Europe/Paris".into()),
            ..Default::default()
        };
        let p = input.apply_to(start).unwrap();
        assert_eq!(p.company, None);
        assert_eq!(p.phone.as_deref(), Some("+33612345678"));
        assert_eq!(p.timezone.name(), "Europe/Paris");
    }
}
