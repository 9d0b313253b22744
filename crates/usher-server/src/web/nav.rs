//! The console's navigation: entries grouped by what an administrator does
//! (directory, applications, security, customization; the audit log on its
//! own), each shown only
//! when the one policy lets the visitor open its page. The header keeps the
//! user menu; the groups live in a side navigation that becomes a menu at
//! phone width.

use usher_core::access::policy::Capabilities;

use super::i18n::Tr;

/// One link of the navigation.
#[derive(Debug, Clone)]
pub struct NavItem {
    pub href: &'static str,
    pub label: String,
    /// The `Layout::section` of the pages this entry stands for.
    pub section: &'static str,
}

/// A titled group of links (the first group, the visitor's own pages, has no title).
#[derive(Debug, Clone)]
pub struct NavGroup {
    /// Stable id, for `aria-labelledby`.
    pub id: &'static str,
    pub label: Option<String>,
    pub items: Vec<NavItem>,
}

/// Whether the visitor works in the console (any administration page) or only
/// on their own account (My profile and My apps).
pub fn is_console(can: &Capabilities) -> bool {
    can.users || can.groups || can.apps || can.settings || can.people_settings || can.audit
}

/// Where a signed-in visitor lands: the console's overview, or their profile.
pub fn landing(can: &Capabilities) -> &'static str {
    if is_console(can) { OVERVIEW } else { "/profile" }
}

/// The administrator's landing page.
pub const OVERVIEW: &str = "/admin";

/// The navigation for a visitor with these capabilities, in their language.
pub fn menu(t: Tr, can: &Capabilities) -> Vec<NavGroup> {
    let item = |href, key: &str, section| NavItem { href, label: t.get(key).into_owned(), section };
    let mut own = Vec::new();
    if is_console(can) {
        own.push(item(OVERVIEW, "console.nav_overview", "overview"));
    }
    own.push(item("/profile", "nav.profile", "profile"));
    own.push(item("/apps", "access.nav_my_apps", "my_apps"));

    let mut directory = Vec::new();
    if can.users {
        directory.push(item("/admin/users", "nav.users", "users"));
        directory.push(item("/admin/invitations", "invitations.nav", "invitations"));
    }
    if can.groups {
        directory.push(item("/admin/groups", "access.nav_groups", "groups"));
    }
    let mut applications = Vec::new();
    if can.apps {
        applications.push(item("/admin/apps", "access.nav_apps", "apps"));
    }
    let mut security = Vec::new();
    if can.settings {
        security.push(item("/admin/settings/password-policy", "nav.policy", "policy"));
        security.push(item("/admin/settings/two-step", "two_step.nav", "mfa"));
        security.push(item("/admin/settings/token-policy", "nav.token_policy", "token_policy"));
    }
    let mut customization = Vec::new();
    if can.people_settings {
        customization.push(item("/admin/settings/metadata-fields", "directory.nav_metadata", "metadata"));
        customization.push(item(
            "/admin/settings/invitation-template",
            "invitations.nav_template",
            "invitation_template",
        ));
    }
    let mut audit = Vec::new();
    if can.audit {
        audit.push(item("/admin/audit", "nav.audit", "audit"));
    }

    let group = |id, key: Option<&str>, items| NavGroup { id, label: key.map(|k| t.get(k).into_owned()), items };
    [
        group("nav-own", None, own),
        group("nav-directory", Some("console.group_directory"), directory),
        group("nav-applications", Some("console.group_applications"), applications),
        group("nav-security", Some("console.group_security"), security),
        group("nav-customization", Some("console.group_customization"), customization),
        group("nav-audit", None, audit),
    ]
    .into_iter()
    .filter(|g| !g.items.is_empty())
    .collect()
}

#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use super::*;

    fn caps(all: bool) -> Capabilities {
        Capabilities {
            users: all,
            groups: all,
            apps: all,
            settings: all,
            people_settings: all,
            audit: all,
            administrator: all,
        }
    }

    #[test]
    fn a_user_without_admin_roles_sees_only_their_own_pages() {
        let menu = menu(Tr(Language::En), &caps(false));
        let hrefs: Vec<_> = menu.iter().flat_map(|g| g.items.iter().map(|i| i.href)).collect();
        assert_eq!(hrefs, ["/profile", "/apps"]);
        assert_eq!(landing(&caps(false)), "/profile");
    }

    #[test]
    fn an_administrator_sees_every_group_with_a_title_in_every_language() {
        for lang in Language::ALL {
            let menu = menu(Tr(lang), &caps(true));
            assert_eq!(menu.len(), 6, "{lang}");
            assert_eq!(menu.iter().map(|g| g.items.len()).sum::<usize>(), 13, "{lang}");
            let titled = menu.iter().filter(|g| !matches!(g.id, "nav-own" | "nav-audit"));
            assert!(titled.clone().count() == 4, "{lang}");
            assert!(titled.into_iter().all(|g| g.label.as_deref().is_some_and(|l| !l.is_empty())), "{lang}");
        }
        assert_eq!(landing(&caps(true)), OVERVIEW);
    }

    #[test]
    fn an_auditor_sees_only_the_audit_group_beside_their_own_pages() {
        let can = Capabilities { audit: true, ..caps(false) };
        let menu = menu(Tr(Language::En), &can);
        let ids: Vec<_> = menu.iter().map(|g| g.id).collect();
        assert_eq!(ids, ["nav-own", "nav-audit"]);
    }
}
