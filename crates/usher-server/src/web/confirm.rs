//! Confirmation before anything destructive. Each destructive action `POST X`
//! has a page `GET X` that names what will be lost and holds the one form that
//! does it; lists link to that page. Without JavaScript the link opens the
//! page; with it, `usher.js` fetches the page and shows its card in a dialog,
//! so the words are written once, here on the server.

use askama::Template;
use axum::http::StatusCode;

use super::page::{Layout, SignedIn, WebResult, render};

/// What a confirmation page says and does.
pub struct Confirm {
    /// "Delete the group “Sales”?"
    pub heading: String,
    /// What will be lost, one paragraph each.
    pub lines: Vec<String>,
    /// Said last, as a warning ("This cannot be undone.").
    pub warning: Option<String>,
    /// Where the form posts (the action itself).
    pub action: String,
    /// The button that does it ("Delete group").
    pub button: String,
    /// Where "Cancel" leads back to.
    pub cancel: String,
    /// Hidden fields the action needs besides the CSRF token.
    pub fields: Vec<(&'static str, String)>,
}

impl Confirm {
    pub fn new(heading: String, action: String, button: String, cancel: String) -> Self {
        Self { heading, lines: Vec::new(), warning: None, action, button, cancel, fields: Vec::new() }
    }

    pub fn line(mut self, text: String) -> Self {
        self.lines.push(text);
        self
    }

    pub fn warning(mut self, text: String) -> Self {
        self.warning = Some(text);
        self
    }

    pub fn field(mut self, name: &'static str, value: &str) -> Self {
        self.fields.push((name, value.to_owned()));
        self
    }
}

#[derive(Template)]
#[template(path = "confirm.html")]
struct ConfirmPage {
    l: Layout,
    csrf: String,
    c: Confirm,
}

/// Renders the confirmation page in the section the action belongs to.
pub fn page(me: &SignedIn, section: &'static str, c: Confirm) -> WebResult {
    let mut l = me.layout("confirm.title", section);
    l.title.clone_from(&c.heading);
    Ok(render(StatusCode::OK, &ConfirmPage { csrf: me.nav().csrf, l, c }))
}
