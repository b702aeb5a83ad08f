//! Send windows ("quiet hours"): a campaign sends only between two local times of each
//! recipient, e.g. `09:00-21:00`, in the subscriber's time zone, else the list's, else the
//! operator's. A window may cross midnight (`20:00-02:00`).

use chrono::{DateTime, Duration, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;

/// Midnight of `now`'s day in its own time zone, as a UTC time (a "day" for daily counts:
/// the tariff's messages a day, "sent today").
pub fn start_of_day<Z: TimeZone>(now: DateTime<Z>) -> DateTime<Utc> {
    let zone = now.timezone();
    zone.from_local_datetime(&now.date_naive().and_time(NaiveTime::MIN))
        .earliest()
        .map_or_else(|| now.with_timezone(&Utc), |t| t.with_timezone(&Utc))
}

/// A daily send window, start inclusive, end exclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendWindow {
    pub start: NaiveTime,
    pub end: NaiveTime,
}

impl SendWindow {
    /// Reads `HH:MM-HH:MM`; the dash may be an en or em dash, as the console shows a window
    /// (`09:00–21:00`) and word processors write one.
    pub fn parse(text: &str) -> Result<SendWindow, String> {
        let bad = || format!("`{text}` is not a send window like 09:00-21:00");
        let (a, b) = text
            .trim()
            .split_once(['-', '\u{2013}', '\u{2014}'])
            .ok_or_else(bad)?;
        let time = |s: &str| NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| bad());
        let (start, end) = (time(a)?, time(b)?);
        if start == end {
            return Err(format!("`{text}` is an empty send window"));
        }
        Ok(SendWindow { start, end })
    }

    /// As written: `09:00-21:00`.
    pub fn text(&self) -> String {
        format!(
            "{}-{}",
            self.start.format("%H:%M"),
            self.end.format("%H:%M")
        )
    }

    fn contains(&self, t: NaiveTime) -> bool {
        if self.start < self.end {
            self.start <= t && t < self.end
        } else {
            t >= self.start || t < self.end
        }
    }

    /// `None` when `now` is inside the window in `tz`; otherwise when it next opens.
    pub fn next_open(&self, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&tz);
        if self.contains(local.time()) {
            return None;
        }
        let mut day = local.date_naive();
        if local.time() >= self.start {
            day += Duration::days(1);
        }
        // A start time skipped by a clock change opens at the first valid minute after it.
        for minutes in 0..180 {
            let at = day.and_time(self.start) + Duration::minutes(minutes);
            if let Some(t) = tz.from_local_datetime(&at).earliest() {
                return Some(t.with_timezone(&Utc));
            }
        }
        Some(now + Duration::hours(1))
    }
}

/// The time zone for a recipient: the first of the given names that [`parse_zone`] reads,
/// else `fallback`.
pub fn zone(names: &[Option<&str>], fallback: Tz) -> Tz {
    names
        .iter()
        .flatten()
        .find_map(|n| parse_zone(n).ok())
        .unwrap_or(fallback)
}

/// Reads a time zone as people write it in a spreadsheet or on the command line:
/// - an IANA name, in any case (`Asia/Almaty`, `asia/almaty`);
/// - a place of one, alone (`Almaty`, `New York`), when only one zone is named after it;
/// - `UTC`, `GMT`, or a whole-hour offset from it (`UTC+5`, `GMT+05:00`, `+05:00`, `-3`),
///   which is the fixed zone `Etc/GMT-5` (IANA's sign is the other way round);
/// - Moscow time as Russian CRMs write it: `MSK` (`МСК`) is Europe/Moscow, `МСК+2` is UTC+5;
/// - a city of Kazakhstan, Russia or a neighbour in Russian or Kazakh (`Алматы`, `Ақтөбе`,
///   `Новосибирск`): a short table of our own, as no library maps them.
///
/// An offset is only right until the place's clocks change; the error for a half-hour one
/// asks for the place's name instead.
pub fn parse_zone(text: &str) -> Result<Tz, String> {
    let text = text.trim();
    if let Ok(tz) = text.parse::<Tz>() {
        return Ok(tz);
    }
    let unknown = || {
        format!(
            "unknown time zone `{text}`; use an IANA name such as Asia/Almaty or Europe/Moscow, \
             or an offset such as UTC+5"
        )
    };
    if text.is_empty() {
        return Err(unknown());
    }
    if let Some(tz) = chrono_tz::TZ_VARIANTS
        .iter()
        .find(|tz| tz.name().eq_ignore_ascii_case(text))
    {
        return Ok(*tz);
    }
    let lower = text.to_lowercase().replace('ё', "е").replace(' ', "-");
    if let Some((_, tz)) = CITIES
        .iter()
        .find(|(names, _)| names.split(',').any(|n| n == lower))
    {
        return Ok(*tz);
    }
    if let Some(offset) = offset_hours(text) {
        let hours = offset.map_err(|e| format!("time zone `{text}`: {e}"))?;
        let name = match hours {
            0 => "Etc/UTC".to_string(),
            h => format!("Etc/GMT{:+}", -h),
        };
        return name.parse::<Tz>().map_err(|_| {
            format!("time zone `{text}`: an offset from UTC is between -12 and +14 hours")
        });
    }
    let place = text.replace(' ', "_");
    let places: Vec<Tz> = chrono_tz::TZ_VARIANTS
        .iter()
        .filter(|tz| {
            let name = tz.name();
            !name.starts_with("Etc/")
                && name
                    .rsplit_once('/')
                    .is_some_and(|(_, city)| city.eq_ignore_ascii_case(&place))
        })
        .copied()
        .collect();
    match places.as_slice() {
        [one] => Ok(*one),
        [] => Err(unknown()),
        several => Err(format!(
            "time zone `{text}` could be {}; write the one you mean",
            several
                .iter()
                .map(|tz| tz.name())
                .collect::<Vec<_>>()
                .join(" or ")
        )),
    }
}

/// `UTC`, `GMT`, `Z`, or an offset with or without them in front: `None` when `text` is
/// none of these, else the whole hours (or why they are not whole hours).
fn offset_hours(text: &str) -> Option<Result<i32, String>> {
    let upper = text.to_uppercase();
    let (base, rest) = match ["UTC", "GMT", "MSK", "МСК"]
        .iter()
        .find_map(|p| upper.strip_prefix(p).map(|rest| (*p, rest)))
    {
        Some(("MSK" | "МСК", rest)) => (3, rest.trim()),
        Some((_, rest)) => (0, rest.trim()),
        None => (0, upper.trim()),
    };
    if rest.is_empty() || rest == "Z" {
        return Some(Ok(base));
    }
    let (sign, digits) = match rest.chars().next()? {
        '+' => (1, &rest[1..]),
        '-' => (-1, &rest[1..]),
        '\u{2212}' => (-1, &rest['\u{2212}'.len_utf8()..]),
        _ => return None,
    };
    let digits = digits.trim();
    let (h, m) = match digits.split_once(':') {
        Some((h, m)) => (h, m),
        None if digits.len() == 4 => digits.split_at(2),
        None => (digits, "00"),
    };
    let all_digits =
        |s: &str| !s.is_empty() && s.len() <= 2 && s.bytes().all(|b| b.is_ascii_digit());
    if !all_digits(h) || !all_digits(m) {
        return None;
    }
    let (h, m): (i32, i32) = (h.parse().ok()?, m.parse().ok()?);
    if m != 0 {
        return Some(Err(format!(
            "an offset of {h}:{m:02} has no fixed zone; use the place's name, e.g. Asia/Kolkata"
        )));
    }
    Some(Ok(base + sign * h))
}

/// Cities as written in Russian or Kazakh (lower case, `ё` as `е`, spaces as hyphens), and
/// Moscow time's abbreviation, with their zone. Kazakhstan keeps one time (UTC+5) everywhere since 2024, and its western
/// zones still have names of their own.
const CITIES: &[(&str, Tz)] = &[
    (
        "алматы,алма-ата,астана,нур-султан,шымкент,караганда,қарағанды,павлодар,\
         усть-каменогорск,өскемен,семей,тараз,туркестан,түркістан,петропавловск,кокшетау,\
         көкшетау,талдыкорган,талдықорған,жезказган,жезқазған,экибастуз,екібастұз",
        Tz::Asia__Almaty,
    ),
    ("актобе,ақтөбе", Tz::Asia__Aqtobe),
    ("атырау", Tz::Asia__Atyrau),
    ("актау,ақтау", Tz::Asia__Aqtau),
    ("уральск,орал", Tz::Asia__Oral),
    ("костанай,қостанай", Tz::Asia__Qostanay),
    ("кызылорда,қызылорда", Tz::Asia__Qyzylorda),
    (
        "msk,мск,москва,санкт-петербург,казань,нижний-новгород",
        Tz::Europe__Moscow,
    ),
    (
        "екатеринбург,челябинск,тюмень,уфа,пермь",
        Tz::Asia__Yekaterinburg,
    ),
    ("омск", Tz::Asia__Omsk),
    ("новосибирск", Tz::Asia__Novosibirsk),
    ("красноярск", Tz::Asia__Krasnoyarsk),
    ("иркутск", Tz::Asia__Irkutsk),
    ("владивосток", Tz::Asia__Vladivostok),
    ("ташкент,тошкент", Tz::Asia__Tashkent),
    ("бишкек", Tz::Asia__Bishkek),
    ("минск", Tz::Europe__Minsk),
];

#[cfg(test)]
mod tests {
    use super::start_of_day;

    #[test]
    fn a_day_starts_at_local_midnight() {
        let now: chrono::DateTime<chrono::Utc> = "2026-11-26T03:00:00Z".parse().unwrap();
        // 08:00 in Almaty (UTC+5): its day began at 19:00 UTC the evening before.
        let almaty = now.with_timezone(&chrono_tz::Asia::Almaty);
        assert_eq!(
            start_of_day(almaty).to_rfc3339(),
            "2026-11-25T19:00:00+00:00"
        );
        assert_eq!(start_of_day(now).to_rfc3339(), "2026-11-26T00:00:00+00:00");
    }

    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn windows_in_the_recipient_zone() {
        let w = SendWindow::parse("09:00-21:00").unwrap();
        let almaty: Tz = "Asia/Almaty".parse().unwrap();
        // 03:00 UTC is 08:00 in Almaty (UTC+5): closed until 09:00 local = 04:00 UTC.
        assert_eq!(
            w.next_open(utc("2026-11-25T03:00:00Z"), almaty),
            Some(utc("2026-11-25T04:00:00Z"))
        );
        assert_eq!(w.next_open(utc("2026-11-25T10:00:00Z"), almaty), None);
        // 17:00 UTC is 22:00 local: the next morning.
        assert_eq!(
            w.next_open(utc("2026-11-25T17:00:00Z"), almaty),
            Some(utc("2026-11-26T04:00:00Z"))
        );
    }

    #[test]
    fn across_midnight_and_bad_input() {
        let w = SendWindow::parse("20:00-02:00").unwrap();
        assert_eq!(w.next_open(utc("2026-11-25T23:30:00Z"), Tz::UTC), None);
        assert_eq!(w.next_open(utc("2026-11-25T01:59:00Z"), Tz::UTC), None);
        assert_eq!(
            w.next_open(utc("2026-11-25T02:00:00Z"), Tz::UTC),
            Some(utc("2026-11-25T20:00:00Z"))
        );
        assert!(SendWindow::parse("9-21").is_err());
        for written in [
            "9:00-21:00",
            "09:00–21:00",
            "09:00 — 21:00",
            " 09:00 - 21:00 ",
        ] {
            assert_eq!(
                SendWindow::parse(written).map(|w| w.text()),
                Ok("09:00-21:00".to_string()),
                "{written}"
            );
        }
        assert!(SendWindow::parse("09:00-09:00").is_err());
        assert_eq!(w.text(), "20:00-02:00");
        assert_eq!(
            zone(&[Some("Mars/Base"), None, Some("Asia/Almaty")], Tz::UTC),
            "Asia/Almaty".parse::<Tz>().unwrap()
        );
    }

    #[test]
    fn time_zones_as_people_write_them() {
        let name = |t: &str| parse_zone(t).map(|tz| tz.name().to_string());
        assert_eq!(name("Asia/Almaty").unwrap(), "Asia/Almaty");
        assert_eq!(name(" asia/almaty ").unwrap(), "Asia/Almaty");
        assert_eq!(name("Almaty").unwrap(), "Asia/Almaty");
        assert_eq!(name("new york").unwrap(), "America/New_York");
        assert_eq!(name("UTC").unwrap(), "UTC");
        assert_eq!(name("utc").unwrap(), "UTC");
        assert_eq!(name("GMT").unwrap(), "GMT");
        assert_eq!(name("UTC+5").unwrap(), "Etc/GMT-5");
        assert_eq!(name("UTC +05:00").unwrap(), "Etc/GMT-5");
        assert_eq!(name("GMT+6").unwrap(), "Etc/GMT-6");
        assert_eq!(name("+0500").unwrap(), "Etc/GMT-5");
        assert_eq!(name("-3").unwrap(), "Etc/GMT+3");
        assert_eq!(name("UTC\u{2212}3").unwrap(), "Etc/GMT+3");
        assert_eq!(name("+14").unwrap(), "Etc/GMT-14");
        assert_eq!(name("UTC+0").unwrap(), "Etc/UTC");
        let err = name("+05:30").unwrap_err();
        assert!(err.contains("Asia/Kolkata"), "{err}");
        let err = name("+15").unwrap_err();
        assert!(err.contains("between -12 and +14"), "{err}");
        assert_eq!(name("MSK").unwrap(), "Europe/Moscow");
        assert_eq!(name("мск").unwrap(), "Europe/Moscow");
        assert_eq!(name("МСК+2").unwrap(), "Etc/GMT-5");
        assert_eq!(name("MSK-1").unwrap(), "Etc/GMT-2");
        assert_eq!(name("Алматы").unwrap(), "Asia/Almaty");
        assert_eq!(name("Усть-Каменогорск").unwrap(), "Asia/Almaty");
        assert_eq!(name("ақтөбе").unwrap(), "Asia/Aqtobe");
        assert_eq!(name("Нижний Новгород").unwrap(), "Europe/Moscow");
        assert_eq!(name("Тюмень").unwrap(), "Asia/Yekaterinburg");
        assert!(name("MSK+12").unwrap_err().contains("between -12 and +14"));
        for bad in ["", "Mars/Base", "Алматы-2", "5 pm", "+5x", "UTC+123"] {
            let err = name(bad).unwrap_err();
            assert!(err.contains("unknown time zone"), "{bad}: {err}");
        }
        let err = name("Eastern").unwrap_err();
        assert!(
            err.contains("US/Eastern") && err.contains("Canada/Eastern"),
            "{err}"
        );
        // A name that is not a zone is passed over for the next one; then the fallback.
        assert_eq!(zone(&[Some("almaty")], Tz::UTC), chrono_tz::Asia::Almaty);
        assert_eq!(zone(&[Some("nowhere"), None], Tz::UTC), Tz::UTC);
    }

    proptest::proptest! {
        /// Every zone is read back from its own name, in any case; every whole-hour offset
        /// gives a zone that is that far from UTC.
        #[test]
        fn every_zone_and_offset_is_read_back(i in 0..chrono_tz::TZ_VARIANTS.len(), h in -12i32..=14, upper: bool) {
            let tz = chrono_tz::TZ_VARIANTS[i];
            let written = if upper { tz.name().to_uppercase() } else { tz.name().to_lowercase() };
            proptest::prop_assert_eq!(parse_zone(&written), Ok(tz));
            let at = utc("2026-11-25T12:00:00Z");
            for text in [format!("UTC{h:+}"), format!("{h:+03}:00"), format!("GMT{h:+03}00")] {
                let tz = parse_zone(&text).unwrap();
                let offset = chrono::Offset::fix(at.with_timezone(&tz).offset()).local_minus_utc();
                proptest::prop_assert_eq!(offset, h * 3600, "{}", text);
            }
        }
    }

    #[test]
    fn a_start_skipped_by_a_clock_change_opens_just_after() {
        // Europe/Berlin skips 02:00-03:00 on 2026-03-29.
        let w = SendWindow::parse("02:30-04:00").unwrap();
        let berlin: Tz = "Europe/Berlin".parse().unwrap();
        let open = w.next_open(utc("2026-03-28T23:00:00Z"), berlin).unwrap();
        assert_eq!(
            open,
            utc("2026-03-29T01:00:00Z"),
            "03:00 local, summer time"
        );
    }
}
