//! Inbound webhooks, as pure functions: signature checks and parsing of what the platforms
//! send into [`Inbound`] events. The HTTP server that receives them builds on this.
//!
//! WhatsApp and Instagram sign every POST with `X-Hub-Signature-256: sha256=<hex>` — an
//! HMAC-SHA256 of the raw body with the app secret — checked in constant time over the raw
//! bytes before anything is parsed. Telegram webhooks carry the secret token header instead.

use hmac::{Hmac, KeyInit, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// Why a webhook was refused. Nothing is changed for a refused webhook.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("missing X-Hub-Signature-256 header")]
    Unsigned,
    #[error("X-Hub-Signature-256 does not match the body")]
    BadSignature,
    #[error("the Telegram secret token does not match")]
    BadSecretToken,
    #[error("the body is not a webhook payload: {0}")]
    Malformed(String),
}

/// Checks a Meta `X-Hub-Signature-256` header against the raw body, in constant time.
pub fn verify_meta_signature(
    app_secret: &[u8],
    header: Option<&str>,
    body: &[u8],
) -> Result<(), WebhookError> {
    let header = header.ok_or(WebhookError::Unsigned)?;
    let hex_sig = header
        .trim()
        .strip_prefix("sha256=")
        .ok_or(WebhookError::BadSignature)?;
    let sig = hex::decode(hex_sig).map_err(|_| WebhookError::BadSignature)?;
    let mut mac =
        Hmac::<Sha256>::new_from_slice(app_secret).map_err(|_| WebhookError::BadSignature)?;
    mac.update(body);
    mac.verify_slice(&sig)
        .map_err(|_| WebhookError::BadSignature)
}

/// The header value a Meta webhook for `body` carries (for the sandbox and tests).
pub fn meta_signature(app_secret: &[u8], body: &[u8]) -> String {
    let mut mac = match Hmac::<Sha256>::new_from_slice(app_secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Checks Telegram's `X-Telegram-Bot-Api-Secret-Token` header, in constant time.
pub fn verify_telegram_secret(expected: &str, header: Option<&str>) -> Result<(), WebhookError> {
    use subtle::ConstantTimeEq;
    match header {
        Some(h) if bool::from(h.as_bytes().ct_eq(expected.as_bytes())) => Ok(()),
        _ => Err(WebhookError::BadSecretToken),
    }
}

/// Something a subscriber or a platform told us.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inbound {
    /// A message from a subscriber; it opens or renews the 24-hour window.
    Message {
        from: String,
        id: String,
        text: String,
        at: i64,
    },
    /// A delivery status of a message we sent.
    Status {
        provider_id: String,
        status: DeliveryStatus,
        recipient: String,
        at: i64,
        error_code: Option<i64>,
        /// The platform's words for the error (WhatsApp's `errors[0].title`).
        error_title: Option<String>,
    },
    /// The subscriber blocked or stopped the sender on the platform.
    Blocked { from: String, at: i64 },
}

/// Delivery statuses, in the only order they may advance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum DeliveryStatus {
    Sent,
    Delivered,
    Read,
    Failed,
}

#[derive(Deserialize)]
struct WaPayload {
    #[serde(default)]
    entry: Vec<WaEntry>,
}
#[derive(Deserialize)]
struct WaEntry {
    #[serde(default)]
    changes: Vec<WaChange>,
}
#[derive(Deserialize)]
struct WaChange {
    value: WaValue,
}
#[derive(Deserialize, Default)]
struct WaMetadata {
    #[serde(default)]
    phone_number_id: String,
}

#[derive(Deserialize, Default)]
struct WaValue {
    #[serde(default)]
    metadata: WaMetadata,
    #[serde(default)]
    messages: Vec<WaMessage>,
    #[serde(default)]
    statuses: Vec<WaStatus>,
}
#[derive(Deserialize)]
struct WaMessage {
    from: String,
    id: String,
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    text: Option<WaText>,
}
#[derive(Deserialize)]
struct WaText {
    body: String,
}
#[derive(Deserialize)]
struct WaStatus {
    id: String,
    status: String,
    #[serde(default)]
    timestamp: String,
    #[serde(default)]
    recipient_id: String,
    #[serde(default)]
    errors: Vec<WaError>,
}
#[derive(Deserialize)]
struct WaError {
    code: i64,
    #[serde(default)]
    title: Option<String>,
}

/// The events of a WhatsApp webhook body (already signature-checked). Unknown fields and
/// unknown kinds of change are skipped; statuses other than the four are ignored.
pub fn parse_whatsapp(body: &[u8]) -> Result<Vec<Inbound>, WebhookError> {
    Ok(parse_whatsapp_by_number(body)?
        .into_iter()
        .flat_map(|(_, events)| events)
        .collect())
}

/// The same events grouped by the phone number id they arrived for (one app may serve
/// several numbers).
pub fn parse_whatsapp_by_number(body: &[u8]) -> Result<Vec<(String, Vec<Inbound>)>, WebhookError> {
    let payload: WaPayload =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let mut groups: Vec<(String, Vec<Inbound>)> = Vec::new();
    for change in payload.entry.into_iter().flat_map(|e| e.changes) {
        let number = change.value.metadata.phone_number_id.clone();
        let mut out = Vec::new();
        for m in change.value.messages {
            out.push(Inbound::Message {
                from: m.from,
                id: m.id,
                text: m.text.map(|t| t.body).unwrap_or_default(),
                at: m.timestamp.parse().unwrap_or(0),
            });
        }
        for s in change.value.statuses {
            let status = match s.status.as_str() {
                "sent" => DeliveryStatus::Sent,
                "delivered" => DeliveryStatus::Delivered,
                "read" => DeliveryStatus::Read,
                "failed" => DeliveryStatus::Failed,
                _ => continue,
            };
            let error_code = s.errors.first().map(|e| e.code);
            let error_title = s.errors.first().and_then(|e| e.title.clone());
            if status == DeliveryStatus::Failed && error_code == Some(131050) {
                out.push(Inbound::Blocked {
                    from: s.recipient_id.clone(),
                    at: s.timestamp.parse().unwrap_or(0),
                });
            }
            out.push(Inbound::Status {
                provider_id: s.id,
                status,
                recipient: s.recipient_id,
                at: s.timestamp.parse().unwrap_or(0),
                error_code,
                error_title,
            });
        }
        match groups.iter_mut().find(|(n, _)| *n == number) {
            Some((_, events)) => events.extend(out),
            None => groups.push((number, out)),
        }
    }
    Ok(groups)
}

#[derive(Deserialize)]
struct IgPayload {
    #[serde(default)]
    entry: Vec<IgEntry>,
}
#[derive(Deserialize)]
struct IgEntry {
    #[serde(default)]
    id: String,
    #[serde(default)]
    messaging: Vec<IgMessaging>,
}
#[derive(Deserialize)]
struct IgMessaging {
    sender: IgParty,
    #[serde(default)]
    timestamp: i64,
    #[serde(default)]
    message: Option<IgMessage>,
}
#[derive(Deserialize)]
struct IgParty {
    id: String,
}
#[derive(Deserialize)]
struct IgMessage {
    mid: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    is_echo: bool,
}

/// The inbound messages of an Instagram webhook body (already signature-checked), grouped by
/// the professional account id they arrived for. Echoes of our own messages are skipped.
pub fn parse_instagram(body: &[u8]) -> Result<Vec<(String, Vec<Inbound>)>, WebhookError> {
    let payload: IgPayload =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let mut groups: Vec<(String, Vec<Inbound>)> = Vec::new();
    for entry in payload.entry {
        let events: Vec<Inbound> = entry
            .messaging
            .into_iter()
            .filter_map(|m| {
                let msg = m.message.filter(|msg| !msg.is_echo)?;
                Some(Inbound::Message {
                    from: m.sender.id,
                    id: msg.mid,
                    text: msg.text.unwrap_or_default(),
                    // Instagram sends milliseconds.
                    at: m.timestamp / 1000,
                })
            })
            .collect();
        match groups.iter_mut().find(|(id, _)| *id == entry.id) {
            Some((_, e)) => e.extend(events),
            None => groups.push((entry.id, events)),
        }
    }
    Ok(groups)
}

#[derive(Deserialize)]
struct TgUpdate {
    #[serde(default)]
    message: Option<TgMessage>,
    #[serde(default)]
    my_chat_member: Option<TgMemberUpdate>,
    update_id: i64,
}
#[derive(Deserialize)]
struct TgMessage {
    message_id: i64,
    chat: TgChat,
    date: i64,
    #[serde(default)]
    text: Option<String>,
}
#[derive(Deserialize)]
struct TgChat {
    id: i64,
}
#[derive(Deserialize)]
struct TgMemberUpdate {
    chat: TgChat,
    date: i64,
    new_chat_member: TgMember,
}
#[derive(Deserialize)]
struct TgMember {
    status: String,
}

/// One Telegram update: its `update_id` (for de-duplication) and what it says.
pub fn parse_telegram(body: &[u8]) -> Result<(i64, Vec<Inbound>), WebhookError> {
    let u: TgUpdate =
        serde_json::from_slice(body).map_err(|e| WebhookError::Malformed(e.to_string()))?;
    let mut out = Vec::new();
    if let Some(m) = u.message {
        out.push(Inbound::Message {
            from: m.chat.id.to_string(),
            id: m.message_id.to_string(),
            text: m.text.unwrap_or_default(),
            at: m.date,
        });
    }
    if let Some(c) = u.my_chat_member
        && c.new_chat_member.status == "kicked"
    {
        out.push(Inbound::Blocked {
            from: c.chat.id.to_string(),
            at: c.date,
        });
    }
    Ok((u.update_id, out))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"app-secret";

    #[test]
    fn signatures_are_checked_over_raw_bytes() {
        let body = "{\"entry\":[{\"changes\":[{\"value\":{\"messages\":[{\"from\":\"77011234567\",\"id\":\"wamid.1\",\"timestamp\":\"1764000000\",\"type\":\"text\",\"text\":{\"body\":\"СТОП 🙅\"}}]}}]}]}".as_bytes();
        let sig = meta_signature(SECRET, body);
        assert!(verify_meta_signature(SECRET, Some(&sig), body).is_ok());
        assert_eq!(
            verify_meta_signature(SECRET, None, body),
            Err(WebhookError::Unsigned)
        );
        assert_eq!(
            verify_meta_signature(b"other", Some(&sig), body),
            Err(WebhookError::BadSignature)
        );
        let mut tampered = body.to_vec();
        tampered[10] ^= 1;
        assert_eq!(
            verify_meta_signature(SECRET, Some(&sig), &tampered),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_meta_signature(SECRET, Some("sha256=zz"), body),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            verify_meta_signature(SECRET, Some("md5=00"), body),
            Err(WebhookError::BadSignature)
        );
        let events = parse_whatsapp(body).unwrap();
        assert_eq!(
            events,
            vec![Inbound::Message {
                from: "77011234567".into(),
                id: "wamid.1".into(),
                text: "СТОП 🙅".into(),
                at: 1764000000
            }]
        );
    }

    #[test]
    fn whatsapp_statuses_and_platform_opt_out() {
        let body = br#"{"object":"whatsapp_business_account","entry":[{"id":"1","changes":[{"field":"messages","value":{"statuses":[
            {"id":"wamid.A","status":"read","timestamp":"3","recipient_id":"77011234567","extra":1},
            {"id":"wamid.B","status":"failed","timestamp":"4","recipient_id":"77021234567","errors":[{"code":131050,"title":"stopped"}]},
            {"id":"wamid.C","status":"deleted","timestamp":"5","recipient_id":"1"}]}}]}]}"#;
        let events = parse_whatsapp(body).unwrap();
        assert_eq!(events.len(), 3);
        assert!(matches!(
            &events[0],
            Inbound::Status {
                status: DeliveryStatus::Read,
                ..
            }
        ));
        assert_eq!(
            events[1],
            Inbound::Blocked {
                from: "77021234567".into(),
                at: 4
            }
        );
        assert!(matches!(
            &events[2],
            Inbound::Status {
                error_code: Some(131050),
                error_title: Some(title),
                ..
            } if title == "stopped"
        ));
        assert!(
            DeliveryStatus::Sent < DeliveryStatus::Delivered
                && DeliveryStatus::Delivered < DeliveryStatus::Read
        );
        assert!(matches!(
            parse_whatsapp(b"<html>"),
            Err(WebhookError::Malformed(_))
        ));
        assert_eq!(parse_whatsapp(b"{}").unwrap(), vec![]);
    }

    #[test]
    fn instagram_messages_without_echoes() {
        let body = r#"{"object":"instagram","entry":[{"id":"1784","time":1,"messaging":[
            {"sender":{"id":"IGSID1"},"recipient":{"id":"1784"},"timestamp":1764000000123,"message":{"mid":"m1","text":"СТОП"}},
            {"sender":{"id":"1784"},"recipient":{"id":"IGSID1"},"timestamp":1764000000200,"message":{"mid":"m2","text":"our reply","is_echo":true}},
            {"sender":{"id":"IGSID2"},"recipient":{"id":"1784"},"timestamp":1,"read":{"mid":"m0"}}]}]}"#;
        let groups = parse_instagram(body.as_bytes()).unwrap();
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].0, "1784");
        assert_eq!(
            groups[0].1,
            vec![Inbound::Message {
                from: "IGSID1".into(),
                id: "m1".into(),
                text: "СТОП".into(),
                at: 1764000000
            }]
        );
        assert!(parse_instagram(b"<html>").is_err());
    }

    #[test]
    fn telegram_updates_and_blocks() {
        let (id, ev) = parse_telegram(br#"{"update_id":10,"message":{"message_id":5,"chat":{"id":42,"type":"private"},"date":7,"text":"/stop"}}"#).unwrap();
        assert_eq!(id, 10);
        assert_eq!(
            ev,
            vec![Inbound::Message {
                from: "42".into(),
                id: "5".into(),
                text: "/stop".into(),
                at: 7
            }]
        );
        let (_, ev) = parse_telegram(br#"{"update_id":11,"my_chat_member":{"chat":{"id":42},"date":8,"old_chat_member":{"status":"member"},"new_chat_member":{"status":"kicked"}}}"#).unwrap();
        assert_eq!(
            ev,
            vec![Inbound::Blocked {
                from: "42".into(),
                at: 8
            }]
        );
        assert!(verify_telegram_secret("s3cret", Some("s3cret")).is_ok());
        assert!(verify_telegram_secret("s3cret", Some("s3creT")).is_err());
        assert!(verify_telegram_secret("s3cret", None).is_err());
    }
}
