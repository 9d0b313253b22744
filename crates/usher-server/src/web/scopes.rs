//! The scope checkboxes of the token form and of the token policy page:
//! umbrella Read / Write first, then one group per resource, each scope with
//! a translated label and its code.

use usher_domain::{Access, Resource, Scope};

use super::{i18n::Tr, page::FieldErrors};

/// One checkbox.
pub struct ScopeBox {
    pub value: String,
    pub id: String,
    pub label: String,
    pub checked: bool,
}

/// The umbrella scopes or one resource's scopes: a fieldset with its legend.
pub struct ScopeGroup {
    pub id: String,
    pub title: String,
    pub hint: String,
    pub boxes: Vec<ScopeBox>,
}

/// Everything `scopes` in `macros.html` draws.
pub struct ScopePicker {
    pub groups: Vec<ScopeGroup>,
    pub errors: Vec<String>,
}

impl ScopePicker {
    /// The scopes among `offered`, in Usher's order, those in `checked` ticked.
    pub fn new(t: Tr, offered: &[String], checked: &[String], errors: &FieldErrors) -> Self {
        let scopes: Vec<Scope> = Scope::all().into_iter().filter(|s| offered.contains(&s.to_string())).collect();
        let group = |key: &str, members: Vec<Scope>| ScopeGroup {
            id: format!("scopes-{key}"),
            title: t.get(&format!("scopes.{key}")).into_owned(),
            hint: t.get(&format!("scopes.{key}_hint")).into_owned(),
            boxes: members
                .into_iter()
                .map(|s| {
                    let value = s.to_string();
                    let access = match s.access {
                        Access::Read => "scopes.read",
                        Access::Write => "scopes.write",
                    };
                    ScopeBox {
                        id: format!("scope-{}", value.replace(':', "-")),
                        label: t.get(access).into_owned(),
                        checked: checked.contains(&value),
                        value,
                    }
                })
                .collect(),
        };
        let of = |resource: Option<Resource>| scopes.iter().copied().filter(|s| s.resource == resource).collect();
        let groups = std::iter::once(group("all", of(None)))
            .chain(Resource::ALL.into_iter().map(|r| group(r.as_str(), of(Some(r)))))
            .filter(|g| !g.boxes.is_empty())
            .collect();
        Self { groups, errors: errors.get("scopes").to_vec() }
    }
}

#[cfg(test)]
mod tests {
    use usher_domain::{Language, TokenPolicy};

    use super::*;

    #[test]
    fn only_offered_scopes_are_shown_grouped_umbrella_first() {
        let t = Tr(Language::En);
        let all = TokenPolicy::default().scopes;
        let picker = ScopePicker::new(t, &all, &["users:read".into()], &FieldErrors::default());
        let ids: Vec<_> = picker.groups.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(
            ids,
            ["scopes-all", "scopes-profile", "scopes-users", "scopes-tokens", "scopes-settings", "scopes-audit"]
        );
        assert_eq!(picker.groups[0].boxes.iter().map(|b| b.value.as_str()).collect::<Vec<_>>(), ["read", "write"]);
        assert_eq!(picker.groups[5].boxes.len(), 1, "audit is read-only");
        let users = &picker.groups[2].boxes;
        assert!(users[0].checked && !users[1].checked && users[0].id == "scope-users-read");

        let few = ScopePicker::new(t, &["read".into(), "audit:read".into()], &[], &FieldErrors::default());
        let ids: Vec<_> = few.groups.iter().map(|g| g.id.as_str()).collect();
        assert_eq!(ids, ["scopes-all", "scopes-audit"]);
        assert_eq!(few.groups[0].boxes.len(), 1);
    }

    #[test]
    fn every_scope_has_words_in_every_language() {
        for lang in Language::ALL {
            let t = Tr(lang);
            let mut keys = vec!["scopes.read".to_owned(), "scopes.write".to_owned()];
            for key in std::iter::once("all").chain(Resource::ALL.iter().map(|r| r.as_str())) {
                keys.push(format!("scopes.{key}"));
                keys.push(format!("scopes.{key}_hint"));
            }
            for key in keys {
                assert!(t.try_get(&key).is_some(), "{lang}: {key}");
            }
        }
    }
}
