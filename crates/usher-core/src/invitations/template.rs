//! The invitation email's subject and body, editable per organization, with
//! `{{placeholders}}` replaced as plain text (no template engine: nothing in an
//! administrator's text can run).

use serde::{Deserialize, Serialize};
use serde_json::json;
use usher_domain::{FieldError, Invalid, Language, OrgId};

use crate::{
    Error, RequestContext, Result, Usher,
    access::policy::{self, Operation},
    audit::{Entry, action},
    auth::Principal,
    mail::texts,
};

const SETTING: &str = "invitation_template";

/// The placeholders a template may use.
pub const PLACEHOLDERS: [&str; 5] = ["{{link}}", "{{organization}}", "{{inviter}}", "{{email}}", "{{expires_at}}"];

/// An invitation email template.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InvitationTemplate {
    pub subject: String,
    pub body: String,
    /// Whether this is the organization's own text (false: Usher's default).
    #[serde(default, skip_serializing)]
    pub custom: bool,
}

impl InvitationTemplate {
    /// Usher's default text, in the inviter's language.
    pub fn default_for(lang: Language) -> Self {
        let (subject, body) = texts::default_invitation(lang);
        Self { subject: subject.to_owned(), body: body.to_owned(), custom: false }
    }

    /// Checks a template: subject one line of at most 200 characters, body at most
    /// 10,000 characters and containing `{{link}}`; unknown `{{…}}` are errors.
    pub fn validate(&self) -> Result<(), Invalid> {
        let mut errors = Vec::new();
        let subject = self.subject.trim();
        if subject.is_empty() {
            errors.push(FieldError::new("subject", "required", "The subject is required."));
        } else if subject.chars().count() > 200 {
            errors.push(FieldError::new("subject", "too_long", "At most 200 characters."));
        } else if subject.chars().any(char::is_control) {
            errors.push(FieldError::new("subject", "invalid", "The subject must be one line."));
        }
        if self.body.chars().count() > 10_000 {
            errors.push(FieldError::new("body", "too_long", "At most 10000 characters."));
        } else if let Err(e) = usher_domain::text::check_multiline("body", &self.body) {
            errors.extend(e.0);
        }
        if !self.body.contains("{{link}}") {
            errors.push(FieldError::new(
                "body",
                "missing_link",
                "The body must contain {{link}}, the registration link.",
            ));
        }
        for (field, text) in [("subject", &self.subject), ("body", &self.body)] {
            if let Some(unknown) = unknown_placeholder(text) {
                errors.push(FieldError::new(
                    field,
                    "unknown_placeholder",
                    format!("Unknown placeholder {unknown}; use {}.", PLACEHOLDERS.join(", ")),
                ));
            }
        }
        if errors.is_empty() { Ok(()) } else { Err(Invalid(errors)) }
    }

    /// Subject and text with the placeholders replaced.
    pub fn render(
        &self,
        link: &str,
        organization: &str,
        inviter: &str,
        email: &str,
        expires_at: &str,
    ) -> (String, String) {
        let fill = |s: &str| {
            s.replace("{{link}}", link)
                .replace("{{organization}}", organization)
                .replace("{{inviter}}", inviter)
                .replace("{{email}}", email)
                .replace("{{expires_at}}", expires_at)
        };
        // The subject is one line whatever a value holds.
        let subject = fill(self.subject.trim()).replace(['\r', '\n'], " ");
        (subject, fill(&self.body))
    }
}

fn unknown_placeholder(text: &str) -> Option<String> {
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start..];
        let end = after.find("}}").map_or(after.len(), |e| e + 2);
        let candidate = &after[..end];
        if !PLACEHOLDERS.contains(&candidate) {
            return Some(candidate.chars().take(40).collect());
        }
        rest = &after[end..];
    }
    None
}

impl Usher {
    /// The organization's template, or Usher's default in `lang`.
    pub(crate) async fn invitation_template(&self, org_id: OrgId, lang: Language) -> Result<InvitationTemplate> {
        match self.store.setting(org_id, SETTING).await? {
            Some(value) => {
                let mut t: InvitationTemplate = serde_json::from_value(value)
                    .map_err(|e| Error::internal(format!("stored invitation template: {e}")))?;
                t.custom = true;
                Ok(t)
            }
            None => Ok(InvitationTemplate::default_for(lang)),
        }
    }

    /// The template as an administrator reads it (Administrators and User
    /// Managers, scope `settings:read`).
    pub async fn invitation_template_for(&self, p: &Principal) -> Result<InvitationTemplate> {
        let admin = &policy::authorize(p, Operation::ReadInvitationTemplate)?;
        self.invitation_template(admin.org_id(), admin.user().profile.language).await
    }

    /// Replaces the template (Administrators only, scope `settings:write`).
    pub async fn set_invitation_template(
        &self,
        ctx: &RequestContext,
        p: &Principal,
        template: InvitationTemplate,
    ) -> Result<InvitationTemplate> {
        let admin = &policy::authorize(p, Operation::ChangeSettings)?;
        template.validate()?;
        let template = InvitationTemplate { subject: template.subject.trim().to_owned(), custom: true, ..template };
        let value = json!({ "subject": template.subject, "body": template.body });
        self.store.put_setting(admin.org_id(), SETTING, &value, self.now()).await?;
        self.audit(
            ctx,
            Entry {
                org_id: admin.org_id(),
                action: action::INVITATION_TEMPLATE_UPDATED,
                actor: Some(admin.user()),
                target: None,
                details: value,
            },
        )
        .await?;
        Ok(template)
    }

    /// Renders a template (the given one, checked, or the stored one) with sample
    /// values, as an invitation from this administrator would look.
    pub async fn preview_invitation_template(
        &self,
        p: &Principal,
        template: Option<InvitationTemplate>,
    ) -> Result<(String, String)> {
        let admin = &policy::authorize(p, Operation::ReadInvitationTemplate)?;
        let template = match template {
            Some(t) => {
                t.validate()?;
                t
            }
            None => self.invitation_template(admin.org_id(), admin.user().profile.language).await?,
        };
        let org = self.store.organization(admin.org_id()).await?.ok_or(Error::NotFound)?;
        let expires = texts::when(self.now() + super::INVITATION_LIFETIME, admin.user().profile.timezone);
        let link = format!("{}/register/EXAMPLE-LINK", self.config.base_url);
        Ok(template.render(&link, &org.name, &admin.user().display_name(), "new.user@example.org", &expires))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(subject: &str, body: &str) -> InvitationTemplate {
        InvitationTemplate { subject: subject.into(), body: body.into(), custom: true }
    }

    #[test]
    fn defaults_are_valid_in_every_language() {
        for lang in Language::ALL {
            InvitationTemplate::default_for(lang).validate().unwrap();
        }
    }

    #[test]
    fn the_body_needs_the_link_and_known_placeholders() {
        let codes = |t: InvitationTemplate| t.validate().unwrap_err().0.into_iter().map(|e| e.code).collect::<Vec<_>>();
        assert_eq!(codes(t("Hi", "no link")), ["missing_link"]);
        assert_eq!(codes(t("Hi {{name}}", "{{link}}")), ["unknown_placeholder"]);
        assert_eq!(codes(t("", "{{link}} {{oops")), ["required", "unknown_placeholder"]);
        assert!(t("Join {{organization}}", "Go: {{link}}").validate().is_ok());
    }

    #[test]
    fn the_body_keeps_line_breaks_but_no_other_control() {
        assert!(t("Hi", "Hello,\r\n\tjoin: {{link}}\n").validate().is_ok());
        for bad in ["{{link}}\u{0}", "{{link}}\u{1b}[2J", "{{link}}\u{85}x"] {
            assert!(t("Hi", bad).validate().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn rendering_is_plain_replacement() {
        let (s, b) = t("{{inviter}} → {{organization}}", "{{link}} {{email}} {{expires_at}} {{link}}").render(
            "https://x/register/1",
            "Acme",
            "Ann\nB",
            "a@b.c",
            "tomorrow",
        );
        assert_eq!(s, "Ann B → Acme");
        assert_eq!(b, "https://x/register/1 a@b.c tomorrow https://x/register/1");
    }
}
