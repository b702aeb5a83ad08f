//! WhatsApp Cloud API: `POST /{version}/{phone_number_id}/messages` with a bearer token;
//! the health check reads the phone number (quality rating and messaging tier).

use super::classify::{self, Classified};
use super::client::{Channel, Message, Target, base};
use crate::channels::Outcome;
use serde_json::json;

/// WhatsApp Cloud API.
pub struct WhatsApp;

impl Channel for WhatsApp {
    fn send_request(
        &self,
        target: &Target,
        to: &str,
        message: &Message,
    ) -> Result<(String, serde_json::Value), Outcome> {
        let url = format!(
            "{}/{}/{}/messages",
            base(target),
            target.api_version,
            target.phone_number_id
        );
        let to = to.trim_start_matches('+');
        let body = match message {
            Message::Text(text) => json!({
                "messaging_product": "whatsapp", "recipient_type": "individual",
                "to": to, "type": "text",
                "text": { "preview_url": false, "body": text },
            }),
            Message::Template {
                name,
                language,
                params,
            } => json!({
                "messaging_product": "whatsapp", "recipient_type": "individual",
                "to": to, "type": "template",
                "template": {
                    "name": name, "language": { "code": language },
                    "components": [{ "type": "body", "parameters":
                        params.iter().map(|p| json!({ "type": "text", "text": p })).collect::<Vec<_>>() }],
                },
            }),
        };
        Ok((url, body))
    }

    fn classify(&self, status: u16, body: &[u8], _to: &str) -> Classified {
        classify::whatsapp(status, body)
    }

    fn health_url(&self, target: &Target) -> String {
        format!(
            "{}/{}/{}",
            base(target),
            target.api_version,
            target.phone_number_id
        )
    }

    fn health_detail(&self, body: &serde_json::Value) -> String {
        format!(
            "{} ({}), quality {}, tier {}",
            body["display_phone_number"].as_str().unwrap_or("?"),
            body["verified_name"].as_str().unwrap_or("?"),
            body["quality_rating"].as_str().unwrap_or("?"),
            body["messaging_limit_tier"].as_str().unwrap_or("?")
        )
    }
}
