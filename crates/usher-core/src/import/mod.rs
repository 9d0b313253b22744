//! Bulk import and export of users (`usher users import|export`): CSV or JSON
//! lines with the fields `user_id`, `email`, `first_name`, `last_name`, `phone`,
//! `roles`, `groups`, `metadata` and `password_hash`.
//!
//! An import is all or nothing: every line is checked first (the report names
//! each bad line and field), then everything is written in one transaction, in
//! large batches. Users are matched by user ID (case-insensitive): a new one is
//! created, a known one updated, an identical one left alone, so importing the
//! same file twice changes nothing. Empty cells keep what a known user has.
//! Passwords come only as hashes (argon2, bcrypt or PBKDF2); non-argon2id ones
//! are upgraded to argon2id at the user's next sign-in.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use usher_domain::{Email, GroupId, OrgId, Role, UserId, fold, identifier_key};

use crate::{
    Error, RequestContext, Result, Usher,
    audit::{Entry, action},
    metadata::{Metadata, MetadataField, apply_values, search_entries},
    store::{User, UserStatus},
};

mod lines;

use lines::{Line, check_lines, line_error, records};

pub use crate::hashing::check_password_hash;

/// The columns of an import or export, in export order.
pub const COLUMNS: [&str; 9] =
    ["user_id", "email", "first_name", "last_name", "phone", "roles", "groups", "metadata", "password_hash"];

/// Group names: at most this long (as groups created in the UI).
const GROUP_NAME_MAX: usize = crate::access::NAME_MAX;

/// How users are written in a file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl Format {
    /// `csv`, `jsonl` (or `json`, `ndjson`).
    pub fn parse(s: &str) -> Option<Self> {
        match s.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "jsonl" | "json" | "ndjson" => Some(Format::Jsonl),
            _ => None,
        }
    }

    /// The format a file name suggests: `.csv` is CSV, anything else JSON lines.
    pub fn for_path(path: &std::path::Path) -> Self {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Format::Csv,
            _ => Format::Jsonl,
        }
    }
}

/// One refused value: the line of the file (1-based, the header is line 1 in
/// CSV) and the field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    pub line: u64,
    pub field: String,
    pub message: String,
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}: {}", self.line, self.field, self.message)
    }
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportSummary {
    pub lines: u64,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Groups named in the file that did not exist yet.
    pub groups_created: Vec<String>,
    pub dry_run: bool,
}

/// The result of an import: done, or refused with every bad line.
#[derive(Debug, Clone)]
pub enum ImportOutcome {
    Done(ImportSummary),
    Refused(Vec<LineError>),
}

/// Where a long import or export reports how far it is.
pub trait Progress: Send + Sync {
    /// A new phase (`reading`, `checking`, `writing`, `exporting`) of `total` steps.
    fn phase(&self, name: &str, total: u64);
    /// `done` steps of the current phase are finished.
    fn set(&self, done: u64);
}

/// Progress nobody watches.
pub struct NoProgress;

impl Progress for NoProgress {
    fn phase(&self, _: &str, _: u64) {}
    fn set(&self, _: u64) {}
}

/// A group to create with the import.
#[derive(Debug, Clone)]
pub struct NewGroup {
    pub id: GroupId,
    pub name: String,
    pub name_key: String,
}

/// One user to write: every column, with the keys search and uniqueness use.
#[derive(Debug, Clone)]
pub struct ImportedUser {
    pub id: UserId,
    pub user_id: String,
    pub user_id_key: String,
    pub email: Option<String>,
    pub email_key: Option<String>,
    pub first_name: Option<String>,
    pub first_name_key: String,
    pub last_name: Option<String>,
    pub last_name_key: String,
    pub phone: Option<String>,
    pub status: UserStatus,
    pub roles: Vec<Role>,
    pub groups: Vec<GroupId>,
    pub metadata: Metadata,
    pub metadata_entries: Vec<(String, String)>,
    /// The password hash to set; for an update, `None` keeps the current one.
    pub password_hash: Option<String>,
    /// For an update: which related sets changed and must be rewritten.
    pub roles_changed: bool,
    pub groups_changed: bool,
    pub metadata_changed: bool,
}

/// Everything an import writes, in one transaction.
#[derive(Debug, Clone)]
pub struct ImportPlan {
    pub org_id: OrgId,
    pub at: DateTime<Utc>,
    pub new_groups: Vec<NewGroup>,
    pub inserts: Vec<ImportedUser>,
    pub updates: Vec<ImportedUser>,
}

/// A user the import names who already exists, as stored.
#[derive(Debug, Clone)]
pub struct ExistingUser {
    pub id: UserId,
    pub user_id: String,
    pub user_id_key: String,
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub phone: Option<String>,
    pub status: UserStatus,
    pub roles: Vec<Role>,
    pub groups: Vec<GroupId>,
    pub metadata: Metadata,
    pub password_hash: Option<String>,
}

/// What the store knows about the names in an import file.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    /// The users with one of the file's user IDs.
    pub users: Vec<ExistingUser>,
    /// (email key, user ID key) of the users holding one of the file's emails.
    pub email_owners: Vec<(String, String)>,
    /// Every group of the organization: (name key, id).
    pub groups: Vec<(String, GroupId)>,
}

/// A user as exported, with group names and password hash.
#[derive(Debug, Clone)]
pub struct ExportedUser {
    pub user: User,
    pub groups: Vec<String>,
    pub password_hash: Option<String>,
}

/// Builds the plan from checked lines and what the store holds; every conflict
/// becomes a line error.
fn plan(
    org_id: OrgId,
    lines: Vec<Line>,
    existing: Existing,
    fields: &[MetadataField],
    at: DateTime<Utc>,
) -> std::result::Result<(ImportPlan, u64), Vec<LineError>> {
    let mut errors = Vec::new();
    // Within the file: each user ID and email once.
    let mut ids: HashMap<String, u64> = HashMap::with_capacity(lines.len());
    let mut emails: HashMap<String, (u64, String)> = HashMap::with_capacity(lines.len());
    for l in &lines {
        if let Some(first) = ids.insert(l.user_id.key(), l.line) {
            errors.push(line_error(l.line, "user_id", format!("This user ID is also on line {first}.")));
            ids.insert(l.user_id.key(), first);
        }
        if let Some(e) = &l.email
            && let Some((first, _)) = emails.get(&e.key())
        {
            errors.push(line_error(l.line, "email", format!("This email address is also on line {first}.")));
        } else if let Some(e) = &l.email {
            emails.insert(e.key(), (l.line, l.user_id.key()));
        }
    }
    let owners: HashMap<String, String> = existing.email_owners.into_iter().collect();
    let mut known: HashMap<String, ExistingUser> =
        existing.users.into_iter().map(|u| (u.user_id_key.clone(), u)).collect();
    let mut groups: HashMap<String, GroupId> = existing.groups.into_iter().collect();
    let mut new_groups = Vec::new();
    let mut inserts = Vec::new();
    let mut updates = Vec::new();
    let mut unchanged = 0;
    for l in lines {
        let key = l.user_id.key();
        let before = known.remove(&key);
        if let Some(e) = &l.email
            && let Some(owner) = owners.get(&e.key())
            && owner != &key
        {
            errors.push(line_error(l.line, "email", "This email address is already used by another user."));
        }
        let email = l.email.as_ref().map(|e| e.as_str().to_owned()).or(before.as_ref().and_then(|b| b.email.clone()));
        let roles = l.roles.clone().or(before.as_ref().map(|b| b.roles.clone())).unwrap_or_else(|| vec![Role::User]);
        if roles.contains(&Role::Administrator) && email.is_none() {
            errors.push(line_error(l.line, "email", "Administrators must have an email address."));
        }
        let metadata = match (&l.metadata, &before) {
            (Some(input), b) => apply_values(fields, input, b.as_ref().map(|b| &b.metadata)),
            (None, Some(b)) => Ok(b.metadata.clone()),
            (None, None) => apply_values(fields, &Metadata::new(), None),
        };
        let metadata = match metadata {
            Ok(m) => m,
            Err(invalid) => {
                errors.extend(invalid.0.into_iter().map(|e| line_error(l.line, &e.field, e.message)));
                continue;
            }
        };
        let group_ids: Option<Vec<GroupId>> = l.groups.as_ref().map(|names| {
            let mut out: Vec<GroupId> = names
                .iter()
                .map(|name| {
                    *groups.entry(fold(name)).or_insert_with(|| {
                        let g = NewGroup { id: GroupId::generate(), name: name.clone(), name_key: fold(name) };
                        let id = g.id;
                        new_groups.push(g);
                        id
                    })
                })
                .collect();
            out.sort();
            out.dedup();
            out
        });
        if !errors.is_empty() {
            continue; // keep finding errors, but build nothing more
        }
        let first_name = l.first_name.or(before.as_ref().and_then(|b| b.first_name.clone()));
        let last_name = l.last_name.or(before.as_ref().and_then(|b| b.last_name.clone()));
        let phone = l.phone.or(before.as_ref().and_then(|b| b.phone.clone()));
        let groups_now = group_ids.or(before.as_ref().map(|b| b.groups.clone())).unwrap_or_default();
        let mut user = ImportedUser {
            id: before.as_ref().map_or_else(UserId::generate, |b| b.id),
            user_id: l.user_id.as_str().to_owned(),
            user_id_key: key,
            email_key: email.as_deref().map(identifier_key),
            email,
            first_name_key: fold(first_name.as_deref().unwrap_or("")),
            first_name,
            last_name_key: fold(last_name.as_deref().unwrap_or("")),
            last_name,
            phone,
            status: if l.password_hash.is_some() { UserStatus::Active } else { UserStatus::Invited },
            roles,
            groups: groups_now,
            metadata_entries: search_entries(&metadata),
            metadata,
            password_hash: l.password_hash,
            roles_changed: true,
            groups_changed: true,
            metadata_changed: true,
        };
        match before {
            None => inserts.push(user),
            Some(b) => {
                let mut b_groups = b.groups.clone();
                b_groups.sort();
                user.roles_changed = user.roles != b.roles;
                user.groups_changed = user.groups != b_groups;
                user.metadata_changed = user.metadata != b.metadata;
                if user.password_hash == b.password_hash {
                    user.password_hash = None;
                }
                user.status = match (b.status, &user.password_hash) {
                    (UserStatus::Invited, Some(_)) => UserStatus::Active,
                    (s, _) => s,
                };
                let same = user.user_id == b.user_id
                    && user.email == b.email
                    && user.first_name == b.first_name
                    && user.last_name == b.last_name
                    && user.phone == b.phone
                    && user.password_hash.is_none()
                    && !user.roles_changed
                    && !user.groups_changed
                    && !user.metadata_changed;
                if same {
                    unchanged += 1;
                } else {
                    updates.push(user);
                }
            }
        }
    }
    if errors.is_empty() {
        Ok((ImportPlan { org_id, at, new_groups, inserts, updates }, unchanged))
    } else {
        Err(errors)
    }
}

impl Usher {
    /// Imports users into an organization (the default one when `organization`
    /// is `None`) from a CSV or JSON-lines file, as the server's operator (the
    /// `usher` command). All or nothing; see the module documentation.
    pub async fn import_users(
        &self,
        ctx: &RequestContext,
        organization: Option<&str>,
        data: &[u8],
        format: Format,
        dry_run: bool,
        progress: &dyn Progress,
    ) -> Result<ImportOutcome> {
        let org = self.organization(organization).await?.ok_or(Error::NotFound)?;
        progress.phase("reading", 0);
        let (records, mut errors) = records(format, data);
        let count = records.len() as u64;
        progress.phase("checking", count);
        let (lines, line_errors) = check_lines(records, progress);
        errors.extend(line_errors);
        // Lines that passed on their own are still checked against the
        // database, so one report names every problem.
        let keys: Vec<String> = lines.iter().map(|l| l.user_id.key()).collect();
        let email_keys: Vec<String> = lines.iter().filter_map(|l| l.email.as_ref().map(Email::key)).collect();
        let existing = self.store.import_lookup(org.id, &keys, &email_keys).await?;
        let fields = self.metadata_fields(org.id).await?;
        let planned = plan(org.id, lines, existing, &fields, self.now());
        let (plan, unchanged) = match planned {
            Ok(p) if errors.is_empty() => p,
            Ok(_) => {
                errors.sort_by_key(|e| e.line);
                return Ok(ImportOutcome::Refused(errors));
            }
            Err(more) => {
                errors.extend(more);
                errors.sort_by_key(|e| e.line);
                return Ok(ImportOutcome::Refused(errors));
            }
        };
        progress.set(count);
        let summary = ImportSummary {
            lines: count,
            created: plan.inserts.len() as u64,
            updated: plan.updates.len() as u64,
            unchanged,
            groups_created: plan.new_groups.iter().map(|g| g.name.clone()).collect(),
            dry_run,
        };
        if dry_run || (plan.inserts.is_empty() && plan.updates.is_empty()) {
            return Ok(ImportOutcome::Done(summary));
        }
        progress.phase("writing", (plan.inserts.len() + plan.updates.len()) as u64);
        self.store.apply_import(&plan, &|n| progress.set(n)).await.map_err(|e| match e {
            crate::StoreError::Conflict { constraint } => {
                tracing::info!(%constraint, "an import met a concurrent change");
                Error::Conflict(crate::Conflict::TakenDuringImport)
            }
            other => other.into(),
        })?;
        let details = json!({
            "lines": summary.lines, "created": summary.created, "updated": summary.updated,
            "unchanged": summary.unchanged, "groups_created": summary.groups_created,
        });
        let entry = Entry { org_id: org.id, action: action::USERS_IMPORTED, actor: None, target: None, details };
        self.audit(ctx, entry).await?;
        Ok(ImportOutcome::Done(summary))
    }

    /// Writes the organization's users to `out` in the import format, in
    /// creation order; returns how many. Without `password_hashes`, the
    /// `password_hash` column stays empty.
    pub async fn export_users(
        &self,
        organization: Option<&str>,
        format: Format,
        password_hashes: bool,
        out: &mut (dyn std::io::Write + Send),
        progress: &dyn Progress,
    ) -> Result<u64> {
        let org = self.organization(organization).await?.ok_or(Error::NotFound)?;
        let fields = self.metadata_fields(org.id).await?;
        progress.phase("exporting", 0);
        let io = |e: std::io::Error| Error::internal(format!("writing the export: {e}"));
        let csv_error = |e: csv::Error| Error::internal(format!("writing the export: {e}"));
        let new_csv = || csv::WriterBuilder::new().has_headers(false).from_writer(Vec::new());
        if format == Format::Csv {
            let mut w = new_csv();
            w.write_record(COLUMNS).map_err(csv_error)?;
            out.write_all(&w.into_inner().map_err(|e| io(e.into_error()))?).map_err(io)?;
        }
        let mut after = None;
        let mut count = 0u64;
        loop {
            let mut csv = (format == Format::Csv).then(new_csv);
            let batch = self.store.export_users(org.id, after, 5000).await?;
            let Some(last) = batch.last() else { break };
            after = Some(last.user.id);
            for e in &batch {
                let u = &e.user;
                let metadata: Metadata = fields
                    .iter()
                    .filter_map(|f| u.metadata.get(&f.name).map(|v| (f.name.clone(), v.clone())))
                    .collect();
                let hash = if password_hashes { e.password_hash.clone() } else { None };
                let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
                match &mut csv {
                    None => {
                        let obj = json!({
                            "user_id": u.user_id, "email": u.email, "first_name": u.profile.first_name,
                            "last_name": u.profile.last_name, "phone": u.profile.phone, "roles": roles,
                            "groups": e.groups, "metadata": metadata, "password_hash": hash,
                        });
                        serde_json::to_writer(&mut *out, &obj).map_err(|e| Error::internal(e.to_string()))?;
                        out.write_all(b"\n").map_err(io)?;
                    }
                    Some(w) => {
                        let groups = if e.groups.iter().any(|g| g.contains([';', ','])) {
                            serde_json::to_string(&e.groups).unwrap_or_default()
                        } else {
                            e.groups.join(";")
                        };
                        let metadata =
                            if metadata.is_empty() { String::new() } else { Value::Object(metadata).to_string() };
                        let cells = [
                            u.user_id.as_str(),
                            u.email.as_deref().unwrap_or(""),
                            u.profile.first_name.as_deref().unwrap_or(""),
                            u.profile.last_name.as_deref().unwrap_or(""),
                            u.profile.phone.as_deref().unwrap_or(""),
                            &roles.join(";"),
                            &groups,
                            &metadata,
                            hash.as_deref().unwrap_or(""),
                        ];
                        w.write_record(cells.map(crate::csv_cell::escape).iter().map(|c| c.as_bytes()))
                            .map_err(csv_error)?;
                    }
                }
                count += 1;
            }
            if let Some(w) = csv {
                out.write_all(&w.into_inner().map_err(|e| io(e.into_error()))?).map_err(io)?;
            }
            progress.set(count);
        }
        out.flush().map_err(io)?;
        Ok(count)
    }

    /// After a successful sign-in with a password hash that is not argon2id at
    /// the current cost (e.g. imported bcrypt or PBKDF2), stores an argon2id hash
    /// of the same password. Failures are logged: the sign-in goes on.
    pub(crate) async fn upgrade_password_hash(&self, user: &User, stored: Option<&str>, password: &str) {
        let Some(old) = stored else { return };
        if self.hasher.is_current(old) {
            return;
        }
        let result = async {
            let new = self.hasher.hash(password).await?;
            Ok::<_, Error>(self.store.upgrade_password_hash(user.id, old, &new).await?)
        }
        .await;
        match result {
            Ok(true) => tracing::info!(user = %user.id, "password hash upgraded to argon2id"),
            Ok(false) => {}
            Err(e) => tracing::warn!(user = %user.id, error = %e, "could not upgrade a password hash"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(format: Format, text: &str) -> (Vec<Line>, Vec<LineError>) {
        let (records, mut errors) = records(format, text.as_bytes());
        let (lines, more) = check_lines(records, &NoProgress);
        errors.extend(more);
        errors.sort_by_key(|e| e.line);
        (lines, errors)
    }

    #[test]
    fn csv_and_json_lines_read_the_same_columns() {
        let csv = "user_id,email,first_name,last_name,phone,roles,groups,metadata\n\
                   ada,ada@example.org,Ada,Lovelace,+33 6 12 34 56 78,User Manager;developer,Math;Engines,\"{\"\"departments\"\":\"\"R&D\"\"}\"\n";
        let (lines, errors) = check(Format::Csv, csv);
        assert!(errors.is_empty(), "{errors:?}");
        let json = r#"{"user_id":"ada","email":"ada@example.org","first_name":"Ada","last_name":"Lovelace","phone":"+33612345678","roles":["user_manager","developer"],"groups":["Math","Engines"],"metadata":{"departments":"R&D"}}"#;
        let (jlines, errors) = check(Format::Jsonl, json);
        assert!(errors.is_empty(), "{errors:?}");
        for l in [&lines[0], &jlines[0]] {
            assert_eq!(l.user_id.as_str(), "ada");
            assert_eq!(l.phone.as_deref(), Some("+33612345678"));
            assert_eq!(l.roles.as_deref(), Some(&[Role::UserManager, Role::Developer][..]));
            assert_eq!(l.groups.as_deref(), Some(&["Math".to_owned(), "Engines".to_owned()][..]));
            assert_eq!(l.metadata.as_ref().unwrap().get("departments"), Some(&json!("R&D")));
        }
        assert_eq!(lines[0].line, 2, "the header is line 1");
    }

    #[test]
    fn every_bad_line_and_field_is_named() {
        let text = "{\"user_id\":\"ok\"}\n\
                    {\"user_id\":\"two words\",\"email\":\"nope\"}\n\
                    not json\n\
                    \n\
                    {\"user_id\":\"x\",\"roles\":[\"king\"],\"colour\":1,\"password_hash\":\"md5:abc\"}\n";
        let (lines, errors) = check(Format::Jsonl, text);
        assert_eq!(lines.len(), 1);
        let got: Vec<_> = errors.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(got, [(2, "user_id"), (2, "email"), (3, "line"), (5, "colour"), (5, "roles"), (5, "password_hash")]);
        let (_, errors) = check(Format::Csv, "user_id,shoe_size\nada,42\n");
        assert_eq!((errors[0].line, errors[0].field.as_str()), (1, "shoe_size"));
    }

    #[test]
    fn duplicates_and_conflicts_are_refused_and_known_users_merge() {
        let text = "{\"user_id\":\"ada\",\"email\":\"a@example.org\"}\n\
                    {\"user_id\":\"ADA\"}\n\
                    {\"user_id\":\"bob\",\"email\":\"A@example.org\"}\n\
                    {\"user_id\":\"root\",\"roles\":\"administrator\"}\n";
        let (lines, errors) = check(Format::Jsonl, text);
        assert!(errors.is_empty());
        let err = plan(OrgId::generate(), lines, Existing::default(), &[], DateTime::UNIX_EPOCH).unwrap_err();
        let got: Vec<_> = err.iter().map(|e| (e.line, e.field.as_str())).collect();
        assert_eq!(got, [(2, "user_id"), (3, "email"), (4, "email")]);

        let known = ExistingUser {
            id: UserId::generate(),
            user_id: "ada".into(),
            user_id_key: "ada".into(),
            email: Some("ada@example.org".into()),
            first_name: Some("Ada".into()),
            last_name: None,
            phone: None,
            status: UserStatus::Invited,
            roles: vec![Role::User],
            groups: vec![],
            metadata: Metadata::new(),
            password_hash: None,
        };
        let existing = Existing { users: vec![known.clone()], ..Default::default() };
        let (same, _) = check(Format::Jsonl, "{\"user_id\":\"ada\",\"first_name\":\"Ada\"}\n");
        let (p, unchanged) = plan(OrgId::generate(), same, existing.clone(), &[], DateTime::UNIX_EPOCH).unwrap();
        assert_eq!((p.inserts.len(), p.updates.len(), unchanged), (0, 0, 1), "empty cells keep what is known");
        let (changed, _) =
            check(Format::Jsonl, "{\"user_id\":\"ada\",\"last_name\":\"Lovelace\",\"groups\":\"Math\"}\n");
        let (p, _) = plan(OrgId::generate(), changed, existing, &[], DateTime::UNIX_EPOCH).unwrap();
        assert_eq!(p.updates.len(), 1);
        assert_eq!(p.updates[0].id, known.id);
        assert_eq!(p.updates[0].email.as_deref(), Some("ada@example.org"));
        assert_eq!(p.new_groups.len(), 1);
        assert!(p.updates[0].groups_changed && !p.updates[0].roles_changed);
    }
}
