//! The registry emulator: the statistics bureau's per-BIN API
//! (`GET /api/juridical/counter/api/?bin=…&lang=…`) and the data.egov.kz `gbd_ul` register
//! (`GET /api/v4/gbd_ul/v1?apiKey=…&source=…`), answering for the fictitious companies of
//! `assets/sandbox/registry.json` in the real shapes: nulls where the real API has them,
//! individual entrepreneurs with `ip:true` and no registration date, `success:false` for
//! any other number, and a 429 or a 500 for the companies marked so. Registration dates go
//! out as the bureau writes them: Almaty's midnight in UTC. `GET /_sandbox/registry` counts
//! the requests each API got; `GET /_sandbox/risk-lists/NAME.xlsx` serves the demo's
//! risk-list files, for trying `clever risk-lists import` with an address.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{NaiveDate, TimeZone, Utc};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

const DATA: &str = include_str!("../../assets/sandbox/registry.json");

/// The demo's risk-list files (written by `examples/make_demo_risk_lists.rs`).
pub const RISK_LIST_FILES: [(&str, &[u8]); 7] = [
    (
        "pseudo_company.xlsx",
        include_bytes!("../../assets/demo/risk-lists/pseudo_company.xlsx"),
    ),
    (
        "invalid_registration.xlsx",
        include_bytes!("../../assets/demo/risk-lists/invalid_registration.xlsx"),
    ),
    (
        "bankrupt.xlsx",
        include_bytes!("../../assets/demo/risk-lists/bankrupt.xlsx"),
    ),
    (
        "inactive.xlsx",
        include_bytes!("../../assets/demo/risk-lists/inactive.xlsx"),
    ),
    (
        "tax_arrears_150.xlsx",
        include_bytes!("../../assets/demo/risk-lists/tax_arrears_150.xlsx"),
    ),
    (
        "wrong_address.xlsx",
        include_bytes!("../../assets/demo/risk-lists/wrong_address.xlsx"),
    ),
    (
        "violation_tax_code.xlsx",
        include_bytes!("../../assets/demo/risk-lists/violation_tax_code.xlsx"),
    ),
];

/// An API key the emulated data.egov.kz refuses (like a revoked one).
pub const REFUSED_EGOV_KEY: &str = "revoked";

#[derive(Default)]
struct Registry {
    companies: HashMap<String, Value>,
    stat_requests: AtomicU64,
    egov_requests: AtomicU64,
}

/// Every company the emulator knows, as in the data file.
pub fn companies() -> Vec<Value> {
    serde_json::from_str::<Value>(DATA)
        .ok()
        .and_then(|v| v["companies"].as_array().cloned())
        .unwrap_or_default()
}

/// The routes, merged into the sandbox's.
pub fn routes() -> Router {
    let registry = Registry {
        companies: companies()
            .into_iter()
            .filter_map(|c| Some((c["bin"].as_str()?.to_string(), c)))
            .collect(),
        ..Registry::default()
    };
    Router::new()
        .route("/api/juridical/counter/api/", get(stat))
        .route("/api/v4/gbd_ul/v1", get(egov))
        .route("/_sandbox/registry", get(counts))
        .route("/_sandbox/risk-lists/{name}", get(risk_list))
        .with_state(Arc::new(registry))
}

fn registered(c: &Value) -> Option<NaiveDate> {
    if let Some(days) = c["registered_days_ago"].as_i64() {
        return Some((Utc::now() - chrono::Duration::days(days)).date_naive());
    }
    NaiveDate::parse_from_str(c["registered"].as_str()?, "%Y-%m-%d").ok()
}

/// Almaty's midnight of `d`, written as the bureau writes it.
pub fn bureau_date(d: NaiveDate) -> Option<String> {
    let local = chrono_tz::Asia::Almaty
        .from_local_datetime(&d.and_hms_opt(0, 0, 0)?)
        .single()?;
    Some(
        local
            .with_timezone(&Utc)
            .format("%Y-%m-%dT%H:%M:%S%.3f+0000")
            .to_string(),
    )
}

fn forced(c: &Value) -> Option<Response> {
    match c["answer"].as_str()? {
        "429" => Some((StatusCode::TOO_MANY_REQUESTS, "Too Many Requests").into_response()),
        "500" => Some((StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()),
        _ => None,
    }
}

async fn stat(
    State(r): State<Arc<Registry>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    r.stat_requests.fetch_add(1, Ordering::Relaxed);
    let bin = q.get("bin").map(|b| b.trim()).unwrap_or_default();
    let Some(c) = r.companies.get(bin) else {
        return axum::Json(json!({"success": false, "obj": null, "description": "Не найдено"}))
            .into_response();
    };
    if let Some(resp) = forced(c) {
        return resp;
    }
    let ip = c["ip"].as_bool().unwrap_or(false);
    let field = |k: &str| c.get(k).cloned().unwrap_or(Value::Null);
    axum::Json(json!({
        "success": true,
        "obj": {
            "bin": bin,
            "name": field("name"),
            "registerDate": if ip { None } else { registered(c).and_then(bureau_date) },
            "okedCode": field("okedCode"),
            "okedName": field("okedName"),
            "secondOkeds": null,
            "krpCode": field("krpCode"),
            "krpName": field("krpName"),
            "kseCode": null,
            "kseName": field("kseName"),
            "kfsCode": null,
            "kfsName": field("kfsName"),
            "katoCode": field("katoCode"),
            "katoId": null,
            "katoAddress": field("katoAddress"),
            "fio": field("fio"),
            "ip": ip,
        },
        "description": null,
    }))
    .into_response()
}

async fn egov(
    State(r): State<Arc<Registry>>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    r.egov_requests.fetch_add(1, Ordering::Relaxed);
    let key = q.get("apiKey").map(String::as_str).unwrap_or_default();
    if key.is_empty() || key.starts_with(REFUSED_EGOV_KEY) {
        return (
            StatusCode::FORBIDDEN,
            axum::Json(json!({"error": "apiKey is invalid"})),
        )
            .into_response();
    }
    let bin = q
        .get("source")
        .and_then(|s| serde_json::from_str::<Value>(s).ok())
        .and_then(|s| {
            s["query"]["bool"]["must"][0]["match"]["bin"]
                .as_str()
                .map(str::to_string)
        })
        .unwrap_or_default();
    let Some(c) = r.companies.get(&bin) else {
        return axum::Json(json!([])).into_response();
    };
    if let Some(resp) = forced(c) {
        return resp;
    }
    if c["ip"].as_bool() == Some(true) {
        // Entrepreneurs are not legal entities: the register does not hold them.
        return axum::Json(json!([])).into_response();
    }
    axum::Json(json!([{
        "bin": bin,
        "nameru": c["name"],
        "registerdate": registered(c).map(|d| d.to_string()),
        "statusru": c["status"],
        "director": c["fio"],
        "okedcode": c["okedCode"],
        "okedru": c["okedName"],
        "katocode": c["katoCode"],
        "addressru": c["katoAddress"],
    }]))
    .into_response()
}

/// The demo's risk-list files, as the committee's site serves them.
async fn risk_list(axum::extract::Path(name): axum::extract::Path<String>) -> Response {
    match RISK_LIST_FILES.iter().find(|(n, _)| *n == name) {
        Some((_, bytes)) => (
            [(
                "content-type",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            )],
            *bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}

async fn counts(State(r): State<Arc<Registry>>) -> Response {
    axum::Json(json!({
        "stat": r.stat_requests.load(Ordering::Relaxed),
        "egov": r.egov_requests.load(Ordering::Relaxed),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_company_has_a_valid_number_of_its_kind() {
        let all = companies();
        assert!(all.len() >= 30, "a few dozen companies");
        for c in &all {
            let bin = c["bin"].as_str().unwrap();
            let v = crate::counterparty::validate(bin, crate::counterparty::Country::Kz);
            assert!(v.valid, "{bin}: {:?}", v.errors);
            let ip = c["ip"].as_bool() == Some(true);
            assert_eq!(
                v.kind,
                if ip {
                    crate::counterparty::Kind::KzIin
                } else {
                    crate::counterparty::Kind::KzBin
                },
                "{bin}"
            );
        }
    }

    #[test]
    fn dates_go_out_as_the_bureau_writes_them() {
        let d = |s| bureau_date(NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()).unwrap();
        assert_eq!(d("2001-12-13"), "2001-12-12T18:00:00.000+0000");
        assert_eq!(d("2024-06-10"), "2024-06-09T19:00:00.000+0000");
    }
}
