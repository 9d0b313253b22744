//! The time zone picker: one choice per place, grouped by region, each labelled
//! with its city and its UTC offset now. The places are the canonical zones as
//! CLDR keeps them (ICU4X's data): `US/Pacific`, `Zulu` or `Asia/Calcutta` are
//! other names of `America/Los_Angeles`, `UTC` and `Asia/Kolkata`, so they are
//! not offered; but `Europe/Oslo`, which the tz database made a link to
//! `Europe/Berlin` for sharing its rules since 1970, stays a place of its own,
//! as people look for their city. A stored zone that is not offered (another
//! name, or a zone outside the regions such as `Etc/GMT+5`) is shown first and
//! selected, so saving the form keeps it. Without JavaScript the grouped
//! `<select>` is the picker; `usher.js` adds a filter box above it.

use std::sync::LazyLock;

use chrono::{DateTime, Offset, TimeZone as _, Utc};
use chrono_tz::Tz;
use icu_time::zone::iana::IanaParserExtended;

use super::{i18n::Tr, page::FieldErrors};

/// The regions of the tz database's place names, in the order shown. Each has
/// a label under `profile.timezone_regions`.
pub const REGIONS: [&str; 10] =
    ["Africa", "America", "Antarctica", "Arctic", "Asia", "Atlantic", "Australia", "Europe", "Indian", "Pacific"];

/// The name UTC is stored under (the default zone of every user).
const UTC: &str = "UTC";

/// A place the picker offers.
struct Place {
    name: &'static str,
    tz: Tz,
    region: &'static str,
    /// The city as people read it: "Buenos Aires, Argentina".
    city: String,
}

/// Every place, by region then city.
static PLACES: LazyLock<Vec<Place>> = LazyLock::new(|| {
    let mut places: Vec<Place> = IanaParserExtended::new().iter().filter_map(|z| place(z.canonical)).collect();
    let order = |p: &Place| REGIONS.iter().position(|r| *r == p.region);
    places.sort_by(|a, b| (order(a), &a.city).cmp(&(order(b), &b.city)));
    places.dedup_by(|a, b| a.name == b.name);
    places
});

/// The place a canonical zone names, if it is in a region and chrono-tz knows it.
fn place(name: &'static str) -> Option<Place> {
    let (region, rest) = name.split_once('/')?;
    let region = REGIONS.into_iter().find(|r| *r == region)?;
    let tz = name.parse::<Tz>().ok()?;
    Some(Place { name, tz, region, city: city_label(rest) })
}

/// "Argentina/Buenos_Aires" reads "Buenos Aires, Argentina".
fn city_label(path: &str) -> String {
    let mut parts: Vec<String> = path.split('/').map(|p| p.replace('_', " ")).collect();
    parts.reverse();
    parts.join(", ")
}

/// The place (or UTC) `name` is another name of, if it is offered.
fn offered_as(name: &str) -> Option<(&'static str, String)> {
    let canonical = IanaParserExtended::new().parse(name).canonical;
    if matches!(canonical, "Etc/UTC" | "UTC") {
        return Some((UTC, UTC.to_owned()));
    }
    PLACES.iter().find(|p| p.name == canonical).map(|p| (p.name, p.city.clone()))
}

/// The zone's offset from UTC at `at`, in minutes.
fn offset_minutes(tz: Tz, at: DateTime<Utc>) -> i32 {
    tz.offset_from_utc_datetime(&at.naive_utc()).fix().local_minus_utc() / 60
}

/// "UTC+05:30", "UTC-03:00", "UTC+00:00".
fn offset_label(minutes: i32) -> String {
    let sign = if minutes < 0 { '-' } else { '+' };
    let m = minutes.unsigned_abs();
    format!("UTC{sign}{:02}:{:02}", m / 60, m % 60)
}

/// One choice of the picker; `offset` (minutes) lets the filter match "+5:30".
#[derive(Debug, Clone)]
pub struct ZoneOption {
    pub value: String,
    pub label: String,
    pub offset: i32,
    pub selected: bool,
}

/// The places of one region.
#[derive(Debug, Clone)]
pub struct ZoneGroup {
    pub label: String,
    pub options: Vec<ZoneOption>,
}

/// The time zone field (`zone_picker` in `zone_picker.html`): the stored zone
/// when it is not a place (first), UTC, then the places by region.
#[derive(Debug, Clone)]
pub struct ZonePicker {
    pub name: &'static str,
    pub label: String,
    pub hint: Option<String>,
    pub errors: Vec<String>,
    pub filter_label: String,
    pub filter_placeholder: String,
    /// "Matching time zones: %{n}", for the script to fill in.
    pub matches: String,
    pub no_match: String,
    pub first: Vec<ZoneOption>,
    pub groups: Vec<ZoneGroup>,
}

impl ZonePicker {
    /// The picker for the field `name`, with `current` selected and the offsets of `now`.
    pub fn new(t: Tr, name: &'static str, current: &str, now: DateTime<Utc>) -> Self {
        let current = current.trim();
        let option = |value: &str, city: &str, tz: Tz| {
            let offset = offset_minutes(tz, now);
            ZoneOption {
                value: value.to_owned(),
                label: format!("{city} ({})", offset_label(offset)),
                offset,
                selected: value == current,
            }
        };
        let mut first = Vec::new();
        let offered = current == UTC || PLACES.iter().any(|p| p.name == current);
        if !offered && !current.is_empty() {
            first.push(Self::unlisted(t, current, now));
        }
        first.push(ZoneOption { label: t.get("profile.timezone_utc").into_owned(), ..option(UTC, UTC, Tz::UTC) });
        let groups = REGIONS
            .into_iter()
            .map(|region| ZoneGroup {
                label: t.get(&format!("profile.timezone_regions.{region}")).into_owned(),
                options: PLACES.iter().filter(|p| p.region == region).map(|p| option(p.name, &p.city, p.tz)).collect(),
            })
            .filter(|g| !g.options.is_empty())
            .collect();
        Self {
            name,
            label: t.get("profile.timezone").into_owned(),
            hint: None,
            errors: Vec::new(),
            filter_label: t.get("profile.timezone_filter").into_owned(),
            filter_placeholder: t.get("profile.timezone_filter_placeholder").into_owned(),
            matches: t.get("profile.timezone_matches").into_owned(),
            no_match: t.get("profile.timezone_no_match").into_owned(),
            first,
            groups,
        }
    }

    /// The stored zone that is not offered, kept as it is: "US/Pacific, another
    /// name for Los Angeles (UTC-08:00)". A value that is no zone at all (sent
    /// back with its error) is shown as typed.
    fn unlisted(t: Tr, name: &str, now: DateTime<Utc>) -> ZoneOption {
        let Ok(tz) = name.parse::<Tz>() else {
            return ZoneOption { value: name.to_owned(), label: name.to_owned(), offset: 0, selected: true };
        };
        let offset = offset_minutes(tz, now);
        let text = match offered_as(name) {
            Some((_, city)) => {
                rust_i18n::replace_patterns(&t.get("profile.timezone_alias"), &["name", "zone"], &[name.into(), city])
            }
            None => name.to_owned(),
        };
        ZoneOption {
            value: name.to_owned(),
            label: format!("{text} ({})", offset_label(offset)),
            offset,
            selected: true,
        }
    }

    pub fn hint(mut self, t: Tr, key: &str) -> Self {
        self.hint = Some(t.get(key).into_owned());
        self
    }

    pub fn errors(mut self, errors: &FieldErrors) -> Self {
        self.errors = errors.get(self.name).to_vec();
        self
    }

    pub fn described_by(&self) -> String {
        let mut ids = Vec::new();
        if self.hint.is_some() {
            ids.push(format!("{}-hint", self.name));
        }
        if !self.errors.is_empty() {
            ids.push(format!("{}-error", self.name));
        }
        ids.join(" ")
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;
    use usher_domain::Language;

    use super::*;

    fn winter() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 15, 12, 0, 0).unwrap()
    }

    fn all(p: &ZonePicker) -> Vec<&ZoneOption> {
        p.first.iter().chain(p.groups.iter().flat_map(|g| &g.options)).collect()
    }

    fn find<'a>(p: &'a ZonePicker, value: &str) -> Option<&'a ZoneOption> {
        all(p).into_iter().find(|o| o.value == value)
    }

    #[test]
    fn only_canonical_places_are_offered_grouped_by_region() {
        let p = ZonePicker::new(Tr(Language::En), "timezone", "Europe/Paris", winter());
        let values: Vec<&str> = all(&p).iter().map(|o| o.value.as_str()).collect();
        assert!((350..500).contains(&values.len()), "{} zones", values.len());
        for alias in ["US/Pacific", "Zulu", "Etc/UTC", "Asia/Calcutta", "Europe/Kiev", "America/Buenos_Aires", "GMT"] {
            assert!(!values.contains(&alias), "{alias} is another name");
        }
        for place in ["UTC", "Asia/Kolkata", "Europe/Kyiv", "America/Los_Angeles", "Europe/Oslo", "Pacific/Auckland"] {
            assert!(values.contains(&place), "{place} is offered");
        }
        let mut sorted = values.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), values.len(), "each zone once");

        let labels: Vec<&str> = p.groups.iter().map(|g| g.label.as_str()).collect();
        assert_eq!(&labels[..3], ["Africa", "America", "Antarctica"]);
        assert!(labels.contains(&"Pacific Ocean") && labels.contains(&"Europe"));
        for g in &p.groups {
            let cities: Vec<&str> = g.options.iter().map(|o| o.label.as_str()).collect();
            assert!(cities.windows(2).all(|w| w[0] <= w[1]), "{} sorted by city", g.label);
        }
        let europe = p.groups.iter().find(|g| g.label == "Europe").unwrap();
        assert!(europe.options.iter().all(|o| o.value.starts_with("Europe/")));
    }

    #[test]
    fn labels_read_as_the_city_and_its_offset_now() {
        let p = ZonePicker::new(Tr(Language::Fr), "timezone", "Europe/Paris", winter());
        let label = |v| find(&p, v).unwrap().label.clone();
        assert_eq!(label("Europe/Paris"), "Paris (UTC+01:00)");
        assert_eq!(label("America/Argentina/Buenos_Aires"), "Buenos Aires, Argentina (UTC-03:00)");
        assert_eq!(label("Asia/Kolkata"), "Kolkata (UTC+05:30)");
        assert_eq!(label("America/Los_Angeles"), "Los Angeles (UTC-08:00)");
        assert_eq!(label("UTC"), "UTC (temps universel coordonné)");
        assert_eq!(find(&p, "Asia/Kathmandu").unwrap().offset, 345);
        assert_eq!(find(&p, "America/St_Johns").unwrap().offset, -210);
        assert_eq!(p.groups[1].label, "Amérique");
        let summer =
            ZonePicker::new(Tr(Language::En), "timezone", "UTC", Utc.with_ymd_and_hms(2026, 7, 1, 0, 0, 0).unwrap());
        assert_eq!(find(&summer, "America/Los_Angeles").unwrap().label, "Los Angeles (UTC-07:00)");
    }

    #[test]
    fn the_stored_zone_is_selected_even_when_it_is_another_name() {
        let p = ZonePicker::new(Tr(Language::En), "timezone", "Europe/Paris", winter());
        let selected: Vec<&str> = all(&p).iter().filter(|o| o.selected).map(|o| o.value.as_str()).collect();
        assert_eq!(selected, ["Europe/Paris"]);
        assert_eq!(p.first.len(), 1, "UTC only");

        let p = ZonePicker::new(Tr(Language::En), "timezone", "US/Pacific", winter());
        assert_eq!(p.first[0].value, "US/Pacific");
        assert!(p.first[0].selected);
        assert_eq!(p.first[0].label, "US/Pacific, another name for Los Angeles (UTC-08:00)");
        assert_eq!(all(&p).iter().filter(|o| o.selected).count(), 1);

        let zulu = ZonePicker::new(Tr(Language::Ru), "timezone", "Zulu", winter());
        assert_eq!(zulu.first[0].label, "Zulu, другое название пояса UTC (UTC+00:00)");
        let etc = ZonePicker::new(Tr(Language::En), "timezone", "Etc/GMT+5", winter());
        assert_eq!(etc.first[0].label, "Etc/GMT+5 (UTC-05:00)");
        let typed = ZonePicker::new(Tr(Language::En), "timezone", "Mars/Base", winter());
        assert_eq!((typed.first[0].value.as_str(), typed.first[0].selected), ("Mars/Base", true));
        let utc = ZonePicker::new(Tr(Language::En), "timezone", "UTC", winter());
        assert_eq!((utc.first.len(), utc.first[0].selected), (1, true));
    }

    #[test]
    fn every_region_has_its_label_in_every_language() {
        for lang in Language::ALL {
            for region in REGIONS {
                let key = format!("profile.timezone_regions.{region}");
                assert!(Tr(lang).try_get(&key).is_some(), "{key} in {lang}");
            }
        }
    }
}
