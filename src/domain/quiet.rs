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
    /// Reads `HH:MM-HH:MM`.
    pub fn parse(text: &str) -> Result<SendWindow, String> {
        let bad = || format!("`{text}` is not a send window like 09:00-21:00");
        let (a, b) = text.trim().split_once('-').ok_or_else(bad)?;
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

/// The time zone for a recipient: the first of the given names that is a valid IANA zone,
/// else `fallback`.
pub fn zone(names: &[Option<&str>], fallback: Tz) -> Tz {
    names
        .iter()
        .flatten()
        .find_map(|n| n.parse::<Tz>().ok())
        .unwrap_or(fallback)
}

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
        assert!(SendWindow::parse("09:00-09:00").is_err());
        assert_eq!(w.text(), "20:00-02:00");
        assert_eq!(
            zone(&[Some("Mars/Base"), None, Some("Asia/Almaty")], Tz::UTC),
            "Asia/Almaty".parse::<Tz>().unwrap()
        );
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
