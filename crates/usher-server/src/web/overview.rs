//! `GET /admin`: the console's overview, where administrators land. Counts of
//! users, groups, apps and pending invitations, the newest pending
//! invitations and the newest failed sign-ins, each part only for a reader the
//! policy allows (the core's `overview` decides).

use askama::Template;
use axum::{extract::State, http::StatusCode};
use usher_core::{invitations::Invitation, overview::Overview, store::AuditEvent, store::OrgCounts};

use super::{
    i18n::{Tr, local_time_short},
    page::{Layout, SignedIn, WebResult, render},
};
use crate::app::AppState;

/// One tile of counts.
pub struct Tile {
    pub label: String,
    pub value: String,
    pub note: Option<String>,
    pub href: &'static str,
}

pub struct PendingRow {
    pub email: String,
    pub invited_by: String,
    pub expires: String,
}

pub struct FailedRow {
    pub time: String,
    pub login: String,
    pub reason: String,
    pub address: String,
    pub client: String,
    pub client_full: String,
}

#[derive(Template)]
#[template(path = "admin_overview.html")]
struct OverviewPage {
    l: Layout,
    tiles: Vec<Tile>,
    pending: Option<Vec<PendingRow>>,
    failed: Option<Vec<FailedRow>>,
}

/// A count as shown: exact, or "10,000+" past the cap.
fn count(t: Tr, n: u64) -> String {
    if n >= OrgCounts::CAP { t.with("console.more_than", "n", OrgCounts::CAP - 1) } else { n.to_string() }
}

fn tiles(t: Tr, o: &Overview) -> Vec<Tile> {
    let mut tiles = Vec::new();
    if let Some((users, disabled)) = o.users {
        let note = (disabled > 0).then(|| t.with("console.disabled_users", "n", count(t, disabled)));
        tiles.push(Tile { label: t.get("nav.users").into_owned(), value: count(t, users), note, href: "/admin/users" });
    }
    if let Some((pending, _)) = &o.invitations {
        let label = t.get("console.pending_invitations").into_owned();
        tiles.push(Tile { label, value: pending.to_string(), note: None, href: "/admin/invitations" });
    }
    if let Some(groups) = o.groups {
        let label = t.get("access.nav_groups").into_owned();
        tiles.push(Tile { label, value: groups.to_string(), note: None, href: "/admin/groups" });
    }
    if let Some(apps) = o.apps {
        let label = t.get("access.nav_apps").into_owned();
        tiles.push(Tile { label, value: apps.to_string(), note: None, href: "/admin/apps" });
    }
    tiles
}

fn pending_row(t: Tr, tz: usher_domain::TimeZone, i: &Invitation) -> PendingRow {
    PendingRow {
        email: i.email.clone(),
        invited_by: i.invited_by_name.clone().unwrap_or_else(|| t.get("invitations.nobody").into_owned()),
        expires: local_time_short(i.expires_at, tz),
    }
}

fn failed_row(t: Tr, tz: usher_domain::TimeZone, e: &AuditEvent) -> FailedRow {
    let text = |key: &str| e.details.get(key).and_then(|v| v.as_str()).unwrap_or_default().to_owned();
    let reason = text("reason");
    let client_full = e.client.clone().unwrap_or_default();
    FailedRow {
        time: local_time_short(e.at, tz),
        login: e.target_name.clone().unwrap_or_else(|| text("login")),
        reason: t.try_get(&format!("user_admin.reasons.{reason}")).map_or(reason, |r| r.into_owned()),
        address: e.address.clone().unwrap_or_default(),
        client: usher_core::sessions::describe_client(Some(&client_full)).unwrap_or_default(),
        client_full,
    }
}

/// `GET /admin`.
pub async fn overview_page(State(state): State<AppState>, me: SignedIn) -> WebResult {
    let overview = state.usher.overview(&me.0).await.map_err(|e| me.core_error(e))?;
    let (t, tz) = (me.t(), me.0.user.profile.timezone);
    let page = OverviewPage {
        tiles: tiles(t, &overview),
        pending: overview.invitations.as_ref().map(|(_, list)| list.iter().map(|i| pending_row(t, tz, i)).collect()),
        failed: overview.failed_sign_ins.as_ref().map(|list| list.iter().map(|e| failed_row(t, tz, e)).collect()),
        l: me.layout("console.overview_title", "overview"),
    };
    Ok(render(StatusCode::OK, &page))
}
