//! Telegram Bot API: `POST /bot{token}/sendMessage`; the health check is `getMe`.

use super::classify::{self, Classified};
use super::client::{Channel, Message, Target, base, json_body, refuse};
use crate::channels::Outcome;
use serde_json::json;

/// Telegram Bot API.
pub struct Telegram;

impl Channel for Telegram {
    fn send_request(
        &self,
        target: &Target,
        to: &str,
        message: &Message,
    ) -> Result<(String, Vec<u8>), Outcome> {
        let Message::Text(text) = message else {
            return Err(refuse("templates are a WhatsApp feature"));
        };
        let chat: i64 = to
            .parse()
            .map_err(|_| refuse("a Telegram chat id is a number"))?;
        Ok((
            format!("{}/bot{}/sendMessage", base(target), target.token),
            json_body(&json!({ "chat_id": chat, "text": text, "parse_mode": "HTML" })),
        ))
    }

    fn authorise(
        &self,
        request: http::request::Builder,
        _target: &Target,
    ) -> http::request::Builder {
        request
    }

    fn classify(&self, status: u16, body: &[u8], to: &str) -> Classified {
        // Group chats have negative ids; their 429s slow the bot, not one recipient.
        classify::telegram(status, body, !to.starts_with('-'))
    }

    fn health_url(&self, target: &Target) -> String {
        format!("{}/bot{}/getMe", base(target), target.token)
    }

    fn health_detail(&self, body: &serde_json::Value) -> String {
        format!("@{}", body["result"]["username"].as_str().unwrap_or("?"))
    }
}
