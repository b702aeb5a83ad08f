//! Instagram Messaging API: `POST /{version}/me/messages` with a bearer token; the health
//! check reads `me`.

use super::classify::{self, Classified};
use super::client::{Channel, Message, Target, base, json_body, refuse};
use crate::channels::Outcome;
use serde_json::json;

/// Instagram Messaging API.
pub struct Instagram;

impl Channel for Instagram {
    fn send_request(
        &self,
        target: &Target,
        to: &str,
        message: &Message,
    ) -> Result<(String, Vec<u8>), Outcome> {
        let Message::Text(text) = message else {
            return Err(refuse("templates are a WhatsApp feature"));
        };
        Ok((
            format!("{}/{}/me/messages", base(target), target.api_version),
            json_body(&json!({ "recipient": { "id": to }, "message": { "text": text } })),
        ))
    }

    fn classify(&self, status: u16, body: &[u8], _to: &str) -> Classified {
        classify::instagram(status, body)
    }

    fn health_url(&self, target: &Target) -> String {
        format!(
            "{}/{}/me?fields=id,username",
            base(target),
            target.api_version
        )
    }

    fn health_detail(&self, body: &serde_json::Value) -> String {
        format!("@{}", body["username"].as_str().unwrap_or("?"))
    }
}
