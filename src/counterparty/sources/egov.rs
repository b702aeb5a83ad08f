//! The Ministry of Justice register of legal entities on data.egov.kz (dataset `gbd_ul`,
//! free API key): adds the status, the director and the address.
//! `GET {base}/api/v4/gbd_ul/v1?apiKey=KEY&source={"size":1,"query":{"bool":{"must":[{"match":{"bin":"…"}}]}}}`
//! answers a JSON array of records; an empty array is "not found". The record's field names
//! are read leniently (`nameru`/`name_ru`, `registerdate`/`datereg`…), since the portal has
//! renamed them between dataset versions.

use super::{Answer, Company, SourceSettings, SourceStatus, get, text};
use chrono::NaiveDate;
use serde_json::Value;

/// The source's name in results.
pub const NAME: &str = "data.egov.kz gbd_ul";

/// The production base URL.
pub const DEFAULT_BASE: &str = "https://data.egov.kz";

/// Asks the register about one BIN.
pub async fn lookup(
    http: &reqwest::Client,
    settings: &SourceSettings,
    base: &str,
    key: Option<&str>,
    bin: &str,
) -> Answer {
    let Some(key) = key.filter(|k| !k.trim().is_empty()) else {
        return no_key();
    };
    let url = format!("{}/api/v4/gbd_ul/v1", base.trim_end_matches('/'));
    let source = serde_json::json!({
        "size": 1,
        "query": {"bool": {"must": [{"match": {"bin": bin}}]}}
    })
    .to_string();
    let (status, body) = match get(
        http,
        settings,
        &url,
        &[("apiKey", key.trim()), ("source", &source)],
    )
    .await
    {
        Ok(answer) => answer,
        Err(failed) => return failed,
    };
    match status.as_u16() {
        429 => Answer::failed(
            SourceStatus::RateLimited,
            "data.egov.kz asks to slow down (429)",
        ),
        401 | 403 => Answer::failed(
            SourceStatus::Error,
            "data.egov.kz refused the API key: check [counterparty] egov_api_key",
        ),
        404 => Answer::not_found(),
        s if !(200..300).contains(&s) => Answer::failed(
            SourceStatus::Error,
            format!("data.egov.kz answered {status}"),
        ),
        _ => parse(&body, bin),
    }
}

/// The answer without a key: not asked.
pub fn no_key() -> Answer {
    Answer::failed(
        SourceStatus::NoKey,
        "no data.egov.kz API key: set [counterparty] egov_api_key_file or CLEVER_EGOV_API_KEY",
    )
}

/// Reads the register's answer: the record whose `bin` is the one asked for.
pub fn parse(body: &str, bin: &str) -> Answer {
    let Ok(Value::Array(records)) = serde_json::from_str::<Value>(body) else {
        return Answer::failed(SourceStatus::Error, "data.egov.kz's answer is not a list");
    };
    let Some(r) = records
        .iter()
        .find(|r| text(&r["bin"]).as_deref() == Some(bin))
    else {
        return Answer::not_found();
    };
    let field = |names: &[&str]| names.iter().find_map(|n| text(&r[*n]));
    Answer::found(Company {
        bin: Some(bin.to_string()),
        name: field(&["nameru", "name_ru", "namekz", "name_kz", "name"]),
        registered: field(&["registerdate", "datereg", "register_date"])
            .as_deref()
            .and_then(date),
        status: field(&["statusru", "status_ru", "statuskz", "status"]),
        director: field(&["director", "fio", "head"]),
        activity_code: field(&["okedcode", "oked_code"]),
        activity: field(&["okedru", "oked_ru", "okedkz"]),
        secondary_activities: Vec::new(),
        size: None,
        sector: None,
        ownership: None,
        kato_code: field(&["katocode", "kato_code"]),
        address: field(&["addressru", "address_ru", "addresskz", "address"]),
        entrepreneur: false,
    })
}

/// `2001-12-13`, `2001-12-13T00:00:00` or `13.12.2001`.
fn date(s: &str) -> Option<NaiveDate> {
    let s = s.trim();
    NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(s, "%d.%m.%Y"))
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_read_leniently() {
        let a = parse(
            r#"[{"bin":"940140000385","nameru":"ТОО Алтын","registerdate":"1994-01-11","statusru":"Зарегистрирован","director":"ИВАНОВ И.","addressru":"Алматы"}]"#,
            "940140000385",
        );
        let c = a.company.unwrap();
        assert_eq!(c.status.as_deref(), Some("Зарегистрирован"));
        assert_eq!(c.registered.unwrap().to_string(), "1994-01-11");
        assert_eq!(parse("[]", "940140000385").status, SourceStatus::NotFound);
        assert_eq!(
            parse(r#"[{"bin":"111111111111"}]"#, "940140000385").status,
            SourceStatus::NotFound
        );
        assert_eq!(parse("{}", "1").status, SourceStatus::Error);
        assert_eq!(date("13.12.2001").unwrap().to_string(), "2001-12-13");
    }
}
