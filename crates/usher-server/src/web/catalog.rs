//! "My apps" (`/apps`): the apps the signed-in user may use, through their
//! groups or as an owner or developer, each with its address.

use askama::Template;
use axum::{extract::State, http::StatusCode};
use usher_core::{
    Error,
    access::policy::{self, Operation},
};

use super::{
    groups::PageQuery,
    page::{Layout, SignedIn, WebQuery, WebResult, render},
};
use crate::app::AppState;

/// One app card.
pub struct AppCard {
    pub name: String,
    pub description: String,
    pub url: Option<String>,
    /// Why the user sees it: group, owner, developer (translated).
    pub badges: Vec<String>,
    /// The app's page, for its owners and developers.
    pub manage: Option<String>,
}

#[derive(Template)]
#[template(path = "my_apps.html")]
struct MyAppsPage {
    l: Layout,
    cards: Vec<AppCard>,
    all_apps: bool,
    next: Option<String>,
    first: Option<&'static str>,
}

/// `GET /apps`.
pub async fn my_apps_page(State(state): State<AppState>, me: SignedIn, WebQuery(q): WebQuery<PageQuery>) -> WebResult {
    let t = me.t();
    let page = match state.usher.my_apps(&me.0, q.cursor(), 60).await {
        Ok(page) => page,
        Err(Error::Invalid(_)) => return Err(me.error(StatusCode::BAD_REQUEST, "bad_request")),
        Err(e) => return Err(me.core_error(e)),
    };
    let cards = page
        .items
        .iter()
        .map(|m| {
            let badges = [(m.access.via_group, "group"), (m.access.owner, "owner"), (m.access.developer, "developer")]
                .into_iter()
                .filter(|(on, _)| *on)
                .map(|(_, k)| t.get(&format!("access.my_apps.via_{k}")).into_owned())
                .collect();
            AppCard {
                name: m.app.name.clone(),
                description: m.app.description.clone(),
                url: m.app.url.clone(),
                badges,
                manage: (m.access.owner || m.access.developer).then(|| format!("/admin/apps/{}", m.app.id)),
            }
        })
        .collect();
    let page = MyAppsPage {
        l: me.layout("access.my_apps.title", "my_apps"),
        cards,
        all_apps: policy::permits(&me.0, Operation::ListApps),
        next: page.next_cursor.as_deref().map(|c| {
            let q = url::form_urlencoded::Serializer::new(String::new()).append_pair("cursor", c).finish();
            format!("/apps?{q}")
        }),
        first: q.cursor().map(|_| "/apps"),
    };
    Ok(render(StatusCode::OK, &page))
}
