//! The token form (create and edit): what it posts, how a date becomes an
//! expiry, and the expiry radio group it draws.

use chrono::{DateTime, Duration, NaiveDate, TimeZone as _, Utc};
use serde::Deserialize;
use usher_core::tokens::Expiry;
use usher_domain::{FieldError, TimeZone, TokenPolicy};

use crate::web::{
    i18n::Tr,
    page::{CsrfForm, FieldErrors},
};

/// The token form as posted (create and edit). Read from the raw pairs, as
/// `scopes` repeats once per ticked box.
#[derive(Debug, Default, Deserialize)]
#[serde(from = "Vec<(String, String)>")]
pub struct TokenForm {
    pub csrf_token: String,
    pub description: String,
    pub client: String,
    pub scopes: Vec<String>,
    /// `default`, `date`, `never`, or `keep` (edit page).
    pub expiry: String,
    /// `YYYY-MM-DD`, when `expiry` is `date`.
    pub expires_at: String,
}

impl From<Vec<(String, String)>> for TokenForm {
    fn from(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "csrf_token" => form.csrf_token = value,
                "description" => form.description = value,
                "client" => form.client = value,
                "scopes" => form.scopes.push(value),
                "expiry" => form.expiry = value,
                "expires_at" => form.expires_at = value,
                _ => {}
            }
        }
        form
    }
}

impl CsrfForm for TokenForm {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

impl TokenForm {
    /// The expiry asked for; `None` keeps the current one (edit page).
    pub fn expiry(&self, tz: TimeZone) -> Result<Option<Expiry>, FieldError> {
        match self.expiry.as_str() {
            "never" => Ok(Some(Expiry::Never)),
            "keep" => Ok(None),
            "date" if self.expires_at.trim().is_empty() => {
                Err(FieldError::new("expires_at", "required", "Choose a date."))
            }
            "date" => end_of_day(&self.expires_at, tz)
                .map(|at| Some(Expiry::At(at)))
                .ok_or_else(|| FieldError::new("expires_at", "invalid", "This is not a date.")),
            _ => Ok(Some(Expiry::Default)),
        }
    }
}

/// The last second of a day in the reader's zone, in UTC: a token "valid until
/// 10 March" works all of 10 March where its owner lives.
pub fn end_of_day(date: &str, tz: TimeZone) -> Option<DateTime<Utc>> {
    let day = NaiveDate::parse_from_str(date.trim(), "%Y-%m-%d").ok()?;
    let local = day.and_hms_opt(23, 59, 59)?;
    tz.tz().from_local_datetime(&local).latest().map(|at| at.with_timezone(&Utc))
}

/// The day a time falls on for the reader, as a date input wants it.
pub fn local_date(at: DateTime<Utc>, tz: TimeZone) -> String {
    at.with_timezone(&tz.tz()).format("%Y-%m-%d").to_string()
}

/// Field errors in the reader's language, with the policy's numbers.
pub fn token_errors(t: Tr, errors: &[FieldError], policy: &TokenPolicy) -> FieldErrors {
    let mut out = FieldErrors::default();
    for e in errors {
        let message = match (e.field.as_str(), e.code.as_str()) {
            ("expires_at", "above_max") => {
                t.with("errors.field.expires_at.above_max", "n", policy.max_lifetime_days.unwrap_or_default())
            }
            _ => t.field_error(e, None),
        };
        out.add(&e.field, message);
    }
    out
}

/// One choice of the expiry radio group.
pub struct ExpiryOption {
    pub value: &'static str,
    pub label: String,
    pub checked: bool,
}

/// The expiry radio group and its date input (`expiry` in `macros.html`).
pub struct ExpiryPicker {
    pub options: Vec<ExpiryOption>,
    pub date: String,
    /// Today and the last day the policy allows, for the date picker.
    pub min: String,
    pub max: String,
    pub zone: String,
    pub hint: Option<String>,
    pub errors: Vec<String>,
}

impl ExpiryPicker {
    /// `first` is the option before "On date": the default lifetime (create) or
    /// the current expiry (edit). `today` bounds the dates offered.
    pub fn new(
        t: Tr,
        tz: TimeZone,
        today: DateTime<Utc>,
        policy: &TokenPolicy,
        first: ExpiryOption,
        form: &TokenForm,
        errors: &FieldErrors,
    ) -> Self {
        let chosen = if form.expiry.is_empty() { first.value } else { form.expiry.as_str() };
        let mut options =
            vec![first, ExpiryOption { value: "date", label: t.get("tokens.expiry_on").into_owned(), checked: false }];
        if never_allowed(policy) {
            options.push(ExpiryOption {
                value: "never",
                label: t.get("tokens.expiry_never").into_owned(),
                checked: false,
            });
        }
        let known = options.iter().any(|o| o.value == chosen);
        for (i, o) in options.iter_mut().enumerate() {
            o.checked = if known { o.value == chosen } else { i == 0 };
        }
        Self {
            options,
            date: form.expires_at.clone(),
            min: local_date(today, tz),
            max: policy
                .max_lifetime_days
                .map(|d| local_date(today + Duration::days(i64::from(d)), tz))
                .unwrap_or_default(),
            zone: t.with("tokens.expiry_zone", "n", tz.name()),
            hint: policy.max_lifetime_days.map(|d| t.with("tokens.expiry_cap", "n", d)),
            errors: errors.get("expires_at").to_vec(),
        }
    }

    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push("expiry-hint");
        }
        if !self.errors.is_empty() {
            ids.push("expires_at-error");
        }
        ids.join(" ")
    }
}

/// Whether "Never" may be chosen: allowed, and no cap on lifetimes.
pub fn never_allowed(policy: &TokenPolicy) -> bool {
    policy.allows_never_expiring()
}

#[cfg(test)]
mod tests {
    use usher_domain::Language;

    use super::*;

    #[test]
    fn a_date_means_the_end_of_that_day_where_the_reader_lives() {
        let paris = TimeZone::parse("Europe/Paris").unwrap();
        assert_eq!(end_of_day("2026-03-10", paris).unwrap().to_rfc3339(), "2026-03-10T22:59:59+00:00");
        assert_eq!(end_of_day(" 2026-07-01 ", paris).unwrap().to_rfc3339(), "2026-07-01T21:59:59+00:00");
        assert_eq!(end_of_day("2026-03-10", TimeZone::default()).unwrap().to_rfc3339(), "2026-03-10T23:59:59+00:00");
        for bad in ["", "10/03/2026", "2026-02-30", "tomorrow"] {
            assert!(end_of_day(bad, paris).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_form_reads_repeated_scopes_and_every_expiry_choice() {
        let form: TokenForm = serde_urlencoded_pairs(
            "csrf_token=c&description=CI&scopes=read&scopes=users%3Awrite&expiry=date&expires_at=2030-01-31&x=1",
        );
        assert_eq!(form.scopes, ["read", "users:write"]);
        assert_eq!(form.csrf_token(), "c");
        let tz = TimeZone::default();
        assert!(matches!(form.expiry(tz), Ok(Some(Expiry::At(_)))));
        let with = |expiry: &str, date: &str| TokenForm {
            expiry: expiry.into(),
            expires_at: date.into(),
            ..Default::default()
        };
        assert!(matches!(with("", "").expiry(tz), Ok(Some(Expiry::Default))));
        assert!(matches!(with("never", "").expiry(tz), Ok(Some(Expiry::Never))));
        assert!(matches!(with("keep", "2030-01-01").expiry(tz), Ok(None)));
        assert_eq!(with("date", " ").expiry(tz).unwrap_err().code, "required");
        assert_eq!(with("date", "31/01/2030").expiry(tz).unwrap_err().code, "invalid");
    }

    fn serde_urlencoded_pairs(body: &str) -> TokenForm {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body.as_bytes()).into_owned().collect();
        TokenForm::from(pairs)
    }

    #[test]
    fn never_is_offered_only_without_a_cap() {
        let t = Tr(Language::En);
        let tz = TimeZone::default();
        let first = || ExpiryOption { value: "default", label: String::new(), checked: false };
        let values = |p: &TokenPolicy| {
            let picker =
                ExpiryPicker::new(t, tz, Utc::now(), p, first(), &TokenForm::default(), &FieldErrors::default());
            picker.options.iter().map(|o| (o.value, o.checked)).collect::<Vec<_>>()
        };
        let mut policy = TokenPolicy::default();
        assert_eq!(values(&policy), [("default", true), ("date", false)]);
        policy.allow_never_expiring = true;
        assert_eq!(values(&policy), [("default", true), ("date", false), ("never", false)]);
        policy.max_lifetime_days = Some(30);
        assert_eq!(values(&policy), [("default", true), ("date", false)]);
        let capped =
            ExpiryPicker::new(t, tz, Utc::now(), &policy, first(), &TokenForm::default(), &FieldErrors::default());
        assert_eq!(capped.hint.as_deref(), Some("Tokens may live at most 30 days in your organization."));
        assert!(!capped.max.is_empty() && capped.described_by() == "expiry-hint");
        let bogus = TokenForm { expiry: "forever".into(), ..Default::default() };
        let picker = ExpiryPicker::new(t, tz, Utc::now(), &policy, first(), &bogus, &FieldErrors::default());
        assert!(picker.options[0].checked, "an unknown choice falls back to the first");
    }
}
