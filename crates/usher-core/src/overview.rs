//! The console's overview: what an administrator sees first. Each part is
//! shown only to a caller the policy lets read it (users and invitations,
//! groups, apps, the audit log); someone who may read none is refused.

use crate::{
    Error, Result, Usher,
    access::policy::{self, Operation},
    audit::action,
    auth::Principal,
    invitations::{Invitation, InvitationStatus},
    store::{AuditEvent, AuditQuery, OrgCounts},
};

/// How many pending invitations and failed sign-ins the overview lists.
pub const RECENT: usize = 6;

/// The overview of the caller's organization; `None` where they may not look.
#[derive(Debug, Clone, Default)]
pub struct Overview {
    /// Users (up to [`OrgCounts::CAP`]) and disabled users.
    pub users: Option<(u64, u64)>,
    pub groups: Option<u64>,
    pub apps: Option<u64>,
    /// How many invitations are pending, and the newest of them.
    pub invitations: Option<(u64, Vec<Invitation>)>,
    /// The newest failed sign-ins, newest first.
    pub failed_sign_ins: Option<Vec<AuditEvent>>,
}

impl Usher {
    /// The overview of the caller's organization (any administrative reader).
    pub async fn overview(&self, p: &Principal) -> Result<Overview> {
        let may = |op| policy::authorize(p, op).ok();
        let (users, groups, apps, audit) = (
            may(Operation::ReadUsers),
            may(Operation::ListGroups),
            may(Operation::ListApps),
            may(Operation::ReadAudit),
        );
        let Some(org_id) = [&users, &groups, &apps, &audit].into_iter().flatten().map(|m| m.org_id()).next() else {
            return Err(Error::Forbidden("Only administrators see the overview."));
        };
        let now = self.now();
        let counts = if users.is_some() || groups.is_some() || apps.is_some() {
            self.store.counts(org_id, now).await?
        } else {
            OrgCounts::default()
        };
        let invitations = match users {
            Some(_) => {
                let newest = self.store.invitations_page(org_id, None, 50).await?;
                let pending = newest
                    .into_iter()
                    .filter(|i| InvitationStatus::of(i, now) == InvitationStatus::Pending)
                    .take(RECENT)
                    .collect();
                Some((counts.pending_invitations, pending))
            }
            None => None,
        };
        let failed_sign_ins = match audit {
            Some(_) => {
                let query = AuditQuery {
                    action: Some(action::LOGIN_FAILED.to_owned()),
                    limit: RECENT as u32,
                    ..AuditQuery::default()
                };
                Some(self.store.audit_events(org_id, &query).await?)
            }
            None => None,
        };
        Ok(Overview {
            users: users.map(|_| (counts.users, counts.disabled_users)),
            groups: groups.map(|_| counts.groups),
            apps: apps.map(|_| counts.apps),
            invitations,
            failed_sign_ins,
        })
    }
}
