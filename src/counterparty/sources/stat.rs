//! The Bureau of National Statistics' per-BIN API (no key):
//! `GET {base}/api/juridical/counter/api/?bin={BIN}&lang={ru|kk|en}`. `success:false` is
//! "not found"; every field may be null; `registerDate` is Almaty's midnight written as UTC
//! (`2001-12-12T18:00:00.000+0000` is 13.12.2001), so it is converted through Asia/Almaty.
//! There is no status and no founders in this source.

use super::{Answer, Company, SourceSettings, SourceStatus, get, text};
use chrono::{DateTime, NaiveDate};
use serde_json::Value;

/// The source's name in results.
pub const NAME: &str = "stat.gov.kz";

/// The production base URL (configurable: the host has moved before).
pub const DEFAULT_BASE: &str = "https://old.stat.gov.kz";

/// Asks the bureau about one BIN or IIN.
pub async fn lookup(
    http: &reqwest::Client,
    settings: &SourceSettings,
    base: &str,
    lang: &str,
    number: &str,
) -> Answer {
    let url = format!("{}/api/juridical/counter/api/", base.trim_end_matches('/'));
    let (status, body) = match get(http, settings, &url, &[("bin", number), ("lang", lang)]).await {
        Ok(answer) => answer,
        Err(failed) => return failed,
    };
    if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        return Answer::failed(
            SourceStatus::RateLimited,
            "the bureau asks to slow down (429); try again in a minute",
        );
    }
    if status == reqwest::StatusCode::NOT_FOUND {
        return Answer::not_found();
    }
    if !status.is_success() {
        return Answer::failed(SourceStatus::Error, format!("the bureau answered {status}"));
    }
    parse(&body)
}

/// Reads the bureau's answer.
pub fn parse(body: &str) -> Answer {
    let v: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => {
            return Answer::failed(
                SourceStatus::Error,
                "the bureau's answer is not JSON (has the address changed? see [counterparty] stat_url)",
            );
        }
    };
    if v["success"] != Value::Bool(true) || !v["obj"].is_object() {
        return Answer::not_found();
    }
    let o = &v["obj"];
    Answer::found(Company {
        bin: text(&o["bin"]),
        name: text(&o["name"]),
        registered: o["registerDate"].as_str().and_then(register_date),
        status: None,
        director: text(&o["fio"]),
        activity_code: text(&o["okedCode"]),
        activity: text(&o["okedName"]),
        secondary_activities: match &o["secondOkeds"] {
            Value::Array(a) => a.iter().filter_map(text).collect(),
            v => text(v)
                .map(|s| {
                    s.split(',')
                        .map(|p| p.trim().to_string())
                        .filter(|p| !p.is_empty())
                        .collect()
                })
                .unwrap_or_default(),
        },
        size: text(&o["krpName"]),
        sector: text(&o["kseName"]),
        ownership: text(&o["kfsName"]),
        kato_code: text(&o["katoCode"]),
        address: text(&o["katoAddress"]),
        entrepreneur: o["ip"].as_bool().unwrap_or(false),
    })
}

/// `2001-12-12T18:00:00.000+0000` → 2001-12-13: the instant read in Asia/Almaty.
pub fn register_date(s: &str) -> Option<NaiveDate> {
    let at = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z")
        .or_else(|_| DateTime::parse_from_rfc3339(s))
        .ok()?;
    Some(at.with_timezone(&chrono_tz::Asia::Almaty).date_naive())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_answer_is_read_without_panicking(s in "\\PC{0,80}", date in "\\PC{0,30}") {
            let _ = parse(&s);
            let _ = register_date(&date);
            let body = serde_json::json!({"success": true, "obj": {"registerDate": date, "ip": s, "secondOkeds": s}});
            let a = parse(&body.to_string());
            prop_assert_eq!(a.status, SourceStatus::Ok);
        }
    }

    #[test]
    fn registration_dates_are_read_in_almaty() {
        let d = |s| register_date(s).map(|d| d.to_string());
        // UTC+6 until March 2024.
        assert_eq!(
            d("2001-12-12T18:00:00.000+0000").as_deref(),
            Some("2001-12-13")
        );
        // UTC+5 since 1 March 2024: local midnight is 19:00 UTC the day before.
        assert_eq!(
            d("2024-06-09T19:00:00.000+0000").as_deref(),
            Some("2024-06-10")
        );
        assert_eq!(
            d("2001-12-13T00:00:00+06:00").as_deref(),
            Some("2001-12-13")
        );
        assert_eq!(d("13.12.2001"), None);
    }

    #[test]
    fn the_bureaus_answers_are_read() {
        let a = parse(
            r#"{"success":true,"obj":{"bin":"940140000385","name":"ТОО \"Алтын\"",
            "registerDate":"1994-01-10T18:00:00.000+0000","okedCode":"46900","okedName":"Неспециализированная оптовая торговля",
            "secondOkeds":null,"krpCode":"105","krpName":"Малые предприятия (<= 5 чел.)","kseCode":null,"kseName":null,
            "kfsCode":null,"kfsName":null,"katoCode":"751210000","katoAddress":"г.Алматы, ул. Абая, 1","fio":"ИВАНОВ ИВАН","ip":false},
            "description":null}"#,
        );
        assert_eq!(a.status, SourceStatus::Ok);
        let c = a.company.unwrap();
        assert_eq!(c.registered.unwrap().to_string(), "1994-01-11");
        assert_eq!(c.director.as_deref(), Some("ИВАНОВ ИВАН"));
        assert!(c.sector.is_none() && !c.entrepreneur);
        let ip = parse(
            r#"{"success":true,"obj":{"bin":"911105302575","name":"ИП Ким","registerDate":null,"ip":true},"description":null}"#,
        );
        let c = ip.company.unwrap();
        assert!(c.entrepreneur && c.registered.is_none());
        assert_eq!(
            parse(r#"{"success":false,"obj":null,"description":"not found"}"#).status,
            SourceStatus::NotFound
        );
        assert_eq!(parse("<html>moved</html>").status, SourceStatus::Error);
    }
}
