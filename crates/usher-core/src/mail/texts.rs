//! The emails Usher writes itself, in English, French and Russian. Plain text,
//! with absolute links; dates in the recipient's time zone. The invitation email
//! is a template each organization may edit (see `invitations`).

use chrono::{DateTime, Utc};
use usher_domain::{Language, TimeZone};

/// A date and time as the recipient reads it, e.g. `2026-05-04 17:30 (Europe/Paris)`.
pub fn when(at: DateTime<Utc>, zone: TimeZone) -> String {
    format!("{} ({})", at.with_timezone(&zone.tz()).format("%Y-%m-%d %H:%M"), zone.name())
}

/// Subject and text of the reminder that an API token expires soon.
pub fn token_reminder(lang: Language, name: &str, token: &str, expires: &str, link: &str) -> (String, String) {
    match lang {
        Language::En => (
            format!("Your API token \"{token}\" expires on {expires}"),
            format!(
                "Hello {name},\n\nYour personal API token \"{token}\" expires on {expires}. Integrations that use \
                 it will stop working then.\n\nTo keep them working, create a new token or extend this one's \
                 expiry:\n{link}\n\nIf you no longer need it, you can ignore this message.\n"
            ),
        ),
        Language::Fr => (
            format!("Votre jeton d'API « {token} » expire le {expires}"),
            format!(
                "Bonjour {name},\n\nVotre jeton d'API personnel « {token} » expire le {expires}. Les intégrations \
                 qui l'utilisent cesseront alors de fonctionner.\n\nPour les garder en service, créez un nouveau \
                 jeton ou prolongez celui-ci :\n{link}\n\nSi vous n'en avez plus besoin, ignorez ce message.\n"
            ),
        ),
        Language::Ru => (
            format!("Срок действия вашего API-токена «{token}» истекает {expires}"),
            format!(
                "Здравствуйте, {name}!\n\nСрок действия вашего личного API-токена «{token}» истекает {expires}. \
                 После этого интеграции, которые его используют, перестанут работать.\n\nЧтобы они продолжили \
                 работать, создайте новый токен или продлите этот:\n{link}\n\nЕсли токен больше не нужен, \
                 просто проигнорируйте это письмо.\n"
            ),
        ),
    }
}

/// Subject and text telling an inviter that the person they invited registered.
pub fn invitation_accepted(lang: Language, inviter: &str, who: &str, user_id: &str, link: &str) -> (String, String) {
    match lang {
        Language::En => (
            format!("{who} has registered"),
            format!(
                "Hello {inviter},\n\n{who} accepted your invitation and registered with the user ID \
                 \"{user_id}\".\n\nTheir details:\n{link}\n"
            ),
        ),
        Language::Fr => (
            format!("{who} s'est inscrit"),
            format!(
                "Bonjour {inviter},\n\n{who} a accepté votre invitation et s'est inscrit avec l'identifiant \
                 « {user_id} ».\n\nSa fiche :\n{link}\n"
            ),
        ),
        Language::Ru => (
            format!("{who} зарегистрировался"),
            format!(
                "Здравствуйте, {inviter}!\n\n{who} принял(а) ваше приглашение и зарегистрировался(ась) с \
                 идентификатором «{user_id}».\n\nКарточка пользователя:\n{link}\n"
            ),
        ),
    }
}

/// Subject and text of a password reset link.
pub fn password_reset(lang: Language, name: &str, link: &str, expires: &str) -> (String, String) {
    match lang {
        Language::En => (
            "Reset your password".to_owned(),
            format!(
                "Hello {name},\n\nSomeone (probably you, or an administrator) asked to reset your password. To \
                 choose a new one, open this link:\n{link}\n\nThe link works once, until {expires}. Your current \
                 password stays valid until you use it.\n\nIf you did not ask for this, ignore this message.\n"
            ),
        ),
        Language::Fr => (
            "Réinitialisez votre mot de passe".to_owned(),
            format!(
                "Bonjour {name},\n\nQuelqu'un (probablement vous, ou un administrateur) a demandé la \
                 réinitialisation de votre mot de passe. Pour en choisir un nouveau, ouvrez ce lien :\n{link}\n\n\
                 Le lien fonctionne une seule fois, jusqu'au {expires}. Votre mot de passe actuel reste valable \
                 tant que vous ne l'avez pas utilisé.\n\nSi vous n'êtes pas à l'origine de cette demande, \
                 ignorez ce message.\n"
            ),
        ),
        Language::Ru => (
            "Сброс пароля".to_owned(),
            format!(
                "Здравствуйте, {name}!\n\nКто-то (вероятно, вы или администратор) запросил сброс вашего пароля. \
                 Чтобы задать новый пароль, откройте ссылку:\n{link}\n\nСсылка действует один раз, до {expires}. \
                 Текущий пароль остаётся в силе, пока вы ею не воспользуетесь.\n\nЕсли вы этого не \
                 запрашивали, просто проигнорируйте это письмо.\n"
            ),
        ),
    }
}

/// The invitation template an organization starts with: subject and body, with
/// `{{placeholders}}`.
pub fn default_invitation(lang: Language) -> (&'static str, &'static str) {
    match lang {
        Language::En => (
            "{{inviter}} invites you to {{organization}}",
            "Hello,\n\n{{inviter}} invites you to join {{organization}}. To create your account ({{email}}), \
             open this link:\n{{link}}\n\nThe invitation expires on {{expires_at}}.\n",
        ),
        Language::Fr => (
            "{{inviter}} vous invite à rejoindre {{organization}}",
            "Bonjour,\n\n{{inviter}} vous invite à rejoindre {{organization}}. Pour créer votre compte \
             ({{email}}), ouvrez ce lien :\n{{link}}\n\nL'invitation expire le {{expires_at}}.\n",
        ),
        Language::Ru => (
            "{{inviter}} приглашает вас в {{organization}}",
            "Здравствуйте!\n\n{{inviter}} приглашает вас присоединиться к {{organization}}. Чтобы создать \
             учётную запись ({{email}}), откройте ссылку:\n{{link}}\n\nПриглашение действует до {{expires_at}}.\n",
        ),
    }
}
