//! What a conflict (409) is about, as a value every edge can match on: the API
//! puts its [`Conflict::code`] in the problem body, the web shows a translated
//! text per kind, the CLI prints [`Conflict::message`].
//!
//! A store reports a broken uniqueness or guard rule by the names in
//! [`constraint`]; [`Conflict::of_constraint`] is the one place that gives each
//! name its meaning. A name it does not know becomes [`Conflict::Exists`] and
//! goes to the log only, so no constraint name reaches a client.

use usher_domain::FieldError;

/// The rule names stores report in `StoreError::Conflict { constraint }`.
pub mod constraint {
    /// A user ID already used in the organization (case-insensitive).
    pub const USER_ID: &str = "users_user_id";
    /// An email address already used in the organization (case-insensitive).
    pub const EMAIL: &str = "users_email";
    /// A group name already used in the organization.
    pub const GROUP_NAME: &str = "groups_name";
    /// An app name already used in the organization.
    pub const APP_NAME: &str = "apps_name";
    /// A change that would leave the organization without an active Administrator.
    pub const LAST_ADMINISTRATOR: &str = "last_administrator";
    /// A second pending invitation to one email address.
    pub const INVITATION_PENDING: &str = "invitations_pending";
    /// A new authenticator while a confirmed one is on.
    pub const MFA_ENABLED: &str = "mfa_enabled";
}

/// Why a change conflicts with the current state. Each kind has a stable
/// [`code`](Conflict::code) for programs and a [`message`](Conflict::message) for people.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Conflict {
    /// Another user of the organization has this user ID.
    #[error("This user ID is already taken.")]
    UserIdTaken,
    /// Another user of the organization has this email address.
    #[error("This email address is already used by another user.")]
    EmailTaken,
    /// The change would leave the organization without an active Administrator.
    #[error("The organization must keep at least one active Administrator.")]
    LastAdministrator,
    /// Another group of the organization has this name.
    #[error("A group with this name already exists.")]
    GroupNameTaken,
    /// Another app of the organization has this name.
    #[error("An app with this name already exists.")]
    AppNameTaken,
    /// An invitation to this email address is already pending.
    #[error("A pending invitation to this email address exists; resend it instead.")]
    InvitationPending,
    /// The invitation was accepted or withdrawn: it can no longer be withdrawn or sent.
    #[error("This invitation was already accepted or withdrawn.")]
    InvitationClosed,
    /// The invitation link was used, withdrawn or has expired.
    #[error("This invitation link is no longer valid (used, withdrawn or expired); ask for a new one.")]
    InvitationLinkClosed,
    /// The invited account got a password or changed meanwhile.
    #[error("This account is no longer waiting for a password.")]
    NotAwaitingPassword,
    /// Two-step verification is on: turn it off before adding another authenticator.
    #[error("Two-step verification is already on; turn it off before adding another authenticator.")]
    TwoStepOn,
    /// Two-step verification is off, so there are no recovery codes.
    #[error("Two-step verification is off: there are no recovery codes.")]
    TwoStepOff,
    /// The authenticator being confirmed was replaced meanwhile.
    #[error("The authenticator changed meanwhile; start again.")]
    AuthenticatorChanged,
    /// A revoked token is final: it cannot be changed or regenerated.
    #[error("This token is revoked: it can no longer be changed or regenerated; create a new one.")]
    TokenRevoked,
    /// Another change took a user ID or email of an import file while it was
    /// imported; nothing was imported.
    #[error("Another change took a user ID or email address of this file while it was imported; nothing was imported.")]
    TakenDuringImport,
    /// Something already exists that this change would duplicate (a rule
    /// without a more precise meaning).
    #[error("This conflicts with existing data.")]
    Exists,
}

impl Conflict {
    /// Every kind, for documentation and tests.
    pub const ALL: [Conflict; 15] = [
        Conflict::UserIdTaken,
        Conflict::EmailTaken,
        Conflict::LastAdministrator,
        Conflict::GroupNameTaken,
        Conflict::AppNameTaken,
        Conflict::InvitationPending,
        Conflict::InvitationClosed,
        Conflict::InvitationLinkClosed,
        Conflict::NotAwaitingPassword,
        Conflict::TwoStepOn,
        Conflict::TwoStepOff,
        Conflict::AuthenticatorChanged,
        Conflict::TokenRevoked,
        Conflict::TakenDuringImport,
        Conflict::Exists,
    ];

    /// The stable machine code (snake_case) of this kind, e.g. `email_taken`.
    pub fn code(self) -> &'static str {
        match self {
            Conflict::UserIdTaken => "user_id_taken",
            Conflict::EmailTaken => "email_taken",
            Conflict::LastAdministrator => "last_administrator",
            Conflict::GroupNameTaken => "group_name_taken",
            Conflict::AppNameTaken => "app_name_taken",
            Conflict::InvitationPending => "invitation_pending",
            Conflict::InvitationClosed => "invitation_closed",
            Conflict::InvitationLinkClosed => "invitation_link_closed",
            Conflict::NotAwaitingPassword => "not_awaiting_password",
            Conflict::TwoStepOn => "two_step_on",
            Conflict::TwoStepOff => "two_step_off",
            Conflict::AuthenticatorChanged => "authenticator_changed",
            Conflict::TokenRevoked => "token_revoked",
            Conflict::TakenDuringImport => "taken_during_import",
            Conflict::Exists => "exists",
        }
    }

    /// What happened, in English, for people (API `detail`, CLI).
    pub fn message(self) -> String {
        self.to_string()
    }

    /// The input field a value already taken belongs to, as a field error
    /// (code `taken`) to show next to it; `None` for the other kinds.
    pub fn field_error(self) -> Option<FieldError> {
        let field = match self {
            Conflict::UserIdTaken => "user_id",
            Conflict::EmailTaken => "email",
            _ => return None,
        };
        Some(FieldError::new(field, "taken", self.message()))
    }

    /// The meaning of a rule a store reports as broken. An unknown name is a
    /// generic [`Conflict::Exists`]; the name is logged, never shown.
    pub fn of_constraint(name: &str) -> Conflict {
        match name {
            constraint::USER_ID => Conflict::UserIdTaken,
            constraint::EMAIL => Conflict::EmailTaken,
            constraint::GROUP_NAME => Conflict::GroupNameTaken,
            constraint::APP_NAME => Conflict::AppNameTaken,
            constraint::LAST_ADMINISTRATOR => Conflict::LastAdministrator,
            constraint::INVITATION_PENDING => Conflict::InvitationPending,
            constraint::MFA_ENABLED => Conflict::TwoStepOn,
            other => {
                tracing::warn!(constraint = other, "a uniqueness rule without a meaning of its own was broken");
                Conflict::Exists
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn codes_are_distinct_snake_case_and_messages_name_no_rule() {
        let codes: HashSet<_> = Conflict::ALL.iter().map(|c| c.code()).collect();
        assert_eq!(codes.len(), Conflict::ALL.len());
        for c in Conflict::ALL {
            assert!(c.code().chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'), "{}", c.code());
            let message = c.message();
            assert!(message.ends_with('.'), "{message}");
            for name in ["users_", "groups_", "apps_", "invitations_", "_key", "constraint", "unique"] {
                assert!(!message.contains(name), "{message}");
            }
        }
    }

    #[test]
    fn each_store_rule_has_its_meaning_and_unknown_ones_are_generic() {
        assert_eq!(Conflict::of_constraint(constraint::USER_ID), Conflict::UserIdTaken);
        assert_eq!(Conflict::of_constraint(constraint::EMAIL), Conflict::EmailTaken);
        assert_eq!(Conflict::of_constraint(constraint::GROUP_NAME), Conflict::GroupNameTaken);
        assert_eq!(Conflict::of_constraint(constraint::APP_NAME), Conflict::AppNameTaken);
        assert_eq!(Conflict::of_constraint(constraint::LAST_ADMINISTRATOR), Conflict::LastAdministrator);
        assert_eq!(Conflict::of_constraint(constraint::INVITATION_PENDING), Conflict::InvitationPending);
        assert_eq!(Conflict::of_constraint(constraint::MFA_ENABLED), Conflict::TwoStepOn);
        assert_eq!(Conflict::of_constraint("organizations_slug_key"), Conflict::Exists);
        assert_eq!(Conflict::of_constraint("unique"), Conflict::Exists);
    }

    #[test]
    fn only_taken_user_ids_and_emails_belong_to_a_field() {
        assert_eq!(
            Conflict::UserIdTaken.field_error().map(|f| (f.field, f.code)),
            Some(("user_id".into(), "taken".into()))
        );
        assert_eq!(Conflict::EmailTaken.field_error().map(|f| f.field), Some("email".into()));
        assert!(Conflict::LastAdministrator.field_error().is_none());
        assert!(Conflict::InvitationPending.field_error().is_none());
    }
}
