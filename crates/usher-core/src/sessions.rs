//! A user's own sessions: every device they are signed in on, with the client
//! (browser and system, read from the user agent), address, sign-in and last
//! activity; ending one, all others, or all. Ending a session never ends another.

use std::sync::LazyLock;

use chrono::Duration;
use serde_json::json;
use usher_domain::SessionId;

use crate::{
    Error, RequestContext, Result, Usher,
    access::policy::{self, Operation},
    audit::{Entry, action},
    auth::Principal,
    store::Session,
};

static PARSER: LazyLock<woothee::parser::Parser> = LazyLock::new(woothee::parser::Parser::new);

/// "Browser on System" from a user agent (e.g. "Firefox on Linux"), the
/// program's own name for other clients (e.g. "curl"), or `None` when there is
/// no user agent.
pub fn describe_client(user_agent: Option<&str>) -> Option<String> {
    let ua = user_agent.map(str::trim).filter(|u| !u.is_empty())?;
    let product = || ua.split(['/', ' ']).next().unwrap_or(ua).chars().take(40).collect::<String>();
    let Some(found) = PARSER.parse(ua) else { return Some(product()) };
    if found.name == "UNKNOWN" || found.category == "misc" || found.category == "crawler" {
        return Some(product());
    }
    let os = match found.os {
        "Mac OSX" => "macOS",
        "UNKNOWN" => "",
        os => os,
    };
    Some(if os.is_empty() { found.name.to_owned() } else { format!("{} on {os}", found.name) })
}

/// One of the caller's sessions.
#[derive(Debug, Clone)]
pub struct SessionItem {
    pub session: Session,
    /// The session the request came with.
    pub current: bool,
    /// The client, described for people (see [`describe_client`]).
    pub client: Option<String>,
}

/// One page of sessions, newest first.
#[derive(Debug, Clone)]
pub struct SessionPage {
    pub items: Vec<SessionItem>,
    pub next_cursor: Option<SessionId>,
}

/// Which sessions "end all" ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndSessions {
    /// Every session but the current one.
    Others,
    /// Every session, the current one too.
    All,
}

impl Usher {
    /// The caller's live sessions, newest first (scope `profile:read`).
    pub async fn my_sessions(&self, me: &Principal, cursor: Option<SessionId>, limit: u32) -> Result<SessionPage> {
        policy::authorize(me, Operation::ReadOwnAccount)?;
        let limit = limit.clamp(1, 200);
        let now = self.now();
        let idle = Duration::from_std(self.config.session_idle).unwrap_or(Duration::minutes(30));
        let mut rows = self.store.live_sessions(me.user.id, now, now - idle, cursor, limit + 1).await?;
        let next_cursor = if rows.len() > limit as usize {
            rows.truncate(limit as usize);
            rows.last().map(|s| s.id)
        } else {
            None
        };
        let items = rows
            .into_iter()
            .map(|session| SessionItem {
                current: Some(session.id) == me.session_id,
                client: describe_client(session.client.as_deref()),
                session,
            })
            .collect();
        Ok(SessionPage { items, next_cursor })
    }

    /// Ends one of the caller's sessions, possibly the current one (scope
    /// `profile:write`). Another user's session answers "not found".
    pub async fn end_my_session(&self, ctx: &RequestContext, me: &Principal, id: SessionId) -> Result<()> {
        policy::authorize(me, Operation::ChangeOwnAccount)?;
        if !self.store.delete_own_session(me.user.id, id).await? {
            return Err(Error::NotFound);
        }
        let details = json!({ "session_id": id, "current": Some(id) == me.session_id });
        let user = &me.user;
        let entry = Entry {
            org_id: user.org_id,
            action: action::SESSION_ENDED,
            actor: Some(user),
            target: Some(user),
            details,
        };
        self.audit(ctx, entry).await
    }

    /// Ends every other session of the caller, or all of them (scope
    /// `profile:write`). Returns how many ended.
    pub async fn end_my_sessions(&self, ctx: &RequestContext, me: &Principal, which: EndSessions) -> Result<u64> {
        policy::authorize(me, Operation::ChangeOwnAccount)?;
        let keep = match which {
            EndSessions::Others => me.session_id,
            EndSessions::All => None,
        };
        let ended = self.store.delete_sessions_except(me.user.id, keep).await?;
        let scope = if which == EndSessions::All { "all" } else { "others" };
        let details = json!({ "scope": scope, "sessions_ended": ended });
        let user = &me.user;
        let entry = Entry {
            org_id: user.org_id,
            action: action::SESSIONS_ENDED,
            actor: Some(user),
            target: Some(user),
            details,
        };
        self.audit(ctx, entry).await?;
        Ok(ended)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clients_read_as_browser_on_system() {
        let cases = [
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
                "Chrome on Linux",
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 \
                 Safari/537.36 Edg/124.0.2478.51",
                "Edge on Windows 10",
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
                "Safari on macOS",
            ),
            ("Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0", "Firefox on Linux"),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) \
                 Version/17.4 Mobile/15E148 Safari/604.1",
                "Safari on iPhone",
            ),
            ("curl/8.5.0", "curl"),
            ("usher-tests/1.0", "usher-tests"),
        ];
        for (ua, want) in cases {
            assert_eq!(describe_client(Some(ua)).as_deref(), Some(want), "{ua}");
        }
        assert_eq!(describe_client(None), None);
        assert_eq!(describe_client(Some("  ")), None);
    }
}
