//! What the emulated platforms send back on their own: WhatsApp status webhooks (sent,
//! delivered, read or failed — shuffled and sometimes repeated, as Meta delivers them),
//! inbound messages (a subscriber writing "STOP"), and Telegram updates for `getUpdates`.
//!
//! Meta webhooks are signed here with their own HMAC code rather than with
//! `channels::webhooks`, so that a mistake in the console's signing cannot hide itself by being
//! repeated on both sides; the sandbox depends on `domain` only.

use hmac::{Hmac, KeyInit, Mac};
use rand::prelude::*;
use serde_json::{Value, json};
use sha2::Sha256;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

/// Where the emulated Meta platforms deliver their webhooks.
#[derive(Debug, Clone)]
pub struct WebhookTarget {
    /// The base of the callback: WhatsApp posts to `{url}/whatsapp`, Instagram to
    /// `{url}/instagram` (the console serves both under `/webhooks`).
    pub url: String,
    /// The app secret the `X-Hub-Signature-256` header is made with.
    pub app_secret: Vec<u8>,
}

/// Delivers Meta webhooks, retrying a few times as Meta does when the callback fails.
#[derive(Clone)]
pub(super) struct Emitter {
    http: reqwest::Client,
    target: Arc<WebhookTarget>,
}

/// How a WhatsApp message ends, as its status webhooks tell it.
pub(super) enum Fate {
    Read,
    Failed { code: i64, title: &'static str },
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn sign(secret: &[u8], body: &[u8]) -> String {
    let mut mac = match <Hmac<Sha256> as KeyInit>::new_from_slice(secret) {
        Ok(m) => m,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

fn whatsapp_envelope(phone_number_id: &str, value: Value) -> Value {
    let mut value = value;
    value["messaging_product"] = json!("whatsapp");
    value["metadata"] = json!({
        "display_phone_number": "77010000001",
        "phone_number_id": phone_number_id,
    });
    json!({
        "object": "whatsapp_business_account",
        "entry": [{ "id": "102290129340398", "changes": [{ "field": "messages", "value": value }] }],
    })
}

impl Emitter {
    pub(super) fn new(target: WebhookTarget) -> Emitter {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        Emitter {
            http,
            target: Arc::new(target),
        }
    }

    /// Posts one signed webhook; retried up to four times, a second apart, on failure.
    async fn post(&self, path: &str, body: Value) {
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        let url = format!("{}/{path}", self.target.url.trim_end_matches('/'));
        let signature = sign(&self.target.app_secret, &bytes);
        for attempt in 0..5 {
            let sent = self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-hub-signature-256", &signature)
                .body(bytes.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => return,
                Ok(r) => tracing::debug!(status = %r.status(), attempt, "sandbox webhook refused"),
                Err(e) => tracing::debug!(error = %e, attempt, "sandbox webhook not delivered"),
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    }

    /// The status webhooks of one accepted WhatsApp message, each posted on its own, in a
    /// shuffled order, with one of them sometimes posted twice.
    pub(super) fn whatsapp_statuses(
        &self,
        phone_number_id: &str,
        message_id: &str,
        recipient: &str,
        fate: Fate,
    ) {
        let at = unix_now();
        let status = |name: &str, extra: Value| {
            let mut s = json!({
                "id": message_id, "status": name, "timestamp": at.to_string(),
                "recipient_id": recipient,
            });
            if let Value::Object(m) = extra {
                for (k, v) in m {
                    s[k] = v;
                }
            }
            whatsapp_envelope(phone_number_id, json!({ "statuses": [s] }))
        };
        let mut hooks = vec![status("sent", json!({}))];
        match fate {
            Fate::Read => {
                hooks.push(status("delivered", json!({})));
                hooks.push(status("read", json!({})));
            }
            Fate::Failed { code, title } => hooks.push(status(
                "failed",
                json!({ "errors": [{ "code": code, "title": title }] }),
            )),
        }
        let mut rng = rand::rng();
        hooks.shuffle(&mut rng);
        if rng.random_bool(0.3) {
            let again = hooks[rng.random_range(0..hooks.len())].clone();
            hooks.push(again);
        }
        let me = self.clone();
        tokio::spawn(async move {
            for hook in hooks {
                me.post("whatsapp", hook).await;
            }
        });
    }

    /// A text a subscriber sends to a WhatsApp number.
    pub(super) fn whatsapp_inbound(&self, phone_number_id: &str, from: &str, text: &str) {
        let from = from.trim_start_matches('+');
        let hook = whatsapp_envelope(
            phone_number_id,
            json!({
                "contacts": [{ "profile": { "name": "Sandbox subscriber" }, "wa_id": from }],
                "messages": [{
                    "from": from, "id": format!("wamid.in{:016x}", rand::rng().random::<u64>()),
                    "timestamp": unix_now().to_string(), "type": "text", "text": { "body": text },
                }],
            }),
        );
        let me = self.clone();
        tokio::spawn(async move { me.post("whatsapp", hook).await });
    }

    /// A text a subscriber sends to an Instagram professional account.
    pub(super) fn instagram_inbound(&self, ig_user_id: &str, from: &str, text: &str) {
        let hook = json!({
            "object": "instagram",
            "entry": [{
                "id": ig_user_id, "time": unix_now() * 1000,
                "messaging": [{
                    "sender": { "id": from }, "recipient": { "id": ig_user_id },
                    "timestamp": unix_now() * 1000,
                    "message": { "mid": format!("aWdfin{:016x}", rand::rng().random::<u64>()), "text": text },
                }],
            }],
        });
        let me = self.clone();
        tokio::spawn(async move { me.post("instagram", hook).await });
    }
}

/// The pending Telegram updates of every bot, for `getUpdates`.
#[derive(Default)]
pub(super) struct Updates {
    queues: Mutex<HashMap<String, Vec<(i64, Value)>>>,
    next_id: Mutex<i64>,
    arrived: Notify,
}

impl Updates {
    fn push(&self, bot: &str, update: impl FnOnce(i64) -> Value) {
        let id = {
            let mut next = self.next_id.lock().unwrap_or_else(|e| e.into_inner());
            *next += 1;
            *next + 700_000_000
        };
        self.queues
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(bot.to_string())
            .or_default()
            .push((id, update(id)));
        self.arrived.notify_waiters();
    }

    /// A text message from a private chat to the bot.
    pub(super) fn message(&self, bot: &str, chat: i64, text: &str) {
        let now = unix_now();
        self.push(bot, |id| {
            json!({
                "update_id": id,
                "message": {
                    "message_id": id % 1_000_000,
                    "from": { "id": chat, "is_bot": false, "first_name": "Sandbox" },
                    "chat": { "id": chat, "type": "private", "first_name": "Sandbox" },
                    "date": now, "text": text,
                },
            })
        });
    }

    /// The user blocked the bot.
    pub(super) fn kicked(&self, bot: &str, chat: i64) {
        let now = unix_now();
        self.push(bot, |id| {
            json!({
                "update_id": id,
                "my_chat_member": {
                    "chat": { "id": chat, "type": "private" },
                    "from": { "id": chat, "is_bot": false, "first_name": "Sandbox" },
                    "date": now,
                    "old_chat_member": { "status": "member", "user": { "id": 1, "is_bot": true, "first_name": "Sandbox" } },
                    "new_chat_member": { "status": "kicked", "until_date": 0, "user": { "id": 1, "is_bot": true, "first_name": "Sandbox" } },
                },
            })
        });
    }

    /// `getUpdates`: confirms everything below `offset`, then returns up to `limit` pending
    /// updates, waiting up to `timeout` for one to arrive when there are none.
    pub(super) async fn get(
        &self,
        bot: &str,
        offset: i64,
        limit: usize,
        timeout: Duration,
    ) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.arrived.notified();
            {
                let mut queues = self.queues.lock().unwrap_or_else(|e| e.into_inner());
                let queue = queues.entry(bot.to_string()).or_default();
                if offset != 0 {
                    queue.retain(|(id, _)| *id >= offset);
                }
                if !queue.is_empty() {
                    return queue.iter().take(limit).map(|(_, u)| u.clone()).collect();
                }
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                return Vec::new();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn updates_are_kept_until_confirmed_by_offset() {
        let u = Updates::default();
        u.message("1", 42, "/start");
        u.kicked("1", 43);
        let first = u.get("1", 0, 100, Duration::ZERO).await;
        assert_eq!(first.len(), 2);
        let again = u.get("1", 0, 100, Duration::ZERO).await;
        assert_eq!(again, first, "unconfirmed updates come again");
        let last = first[1]["update_id"].as_i64().unwrap();
        let rest = u.get("1", last, 100, Duration::ZERO).await;
        assert_eq!(rest.len(), 1);
        assert!(u.get("1", last + 1, 100, Duration::ZERO).await.is_empty());
        assert!(
            u.get("2", 0, 100, Duration::ZERO).await.is_empty(),
            "per bot"
        );
    }

    #[tokio::test]
    async fn a_long_poll_wakes_when_an_update_arrives() {
        let u = Arc::new(Updates::default());
        let waiting = {
            let u = u.clone();
            tokio::spawn(async move { u.get("1", 0, 100, Duration::from_secs(30)).await })
        };
        tokio::task::yield_now().await;
        u.message("1", 42, "hi");
        let got = waiting.await.unwrap();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0]["message"]["text"], "hi");
    }

    #[test]
    fn signatures_match_the_documented_form() {
        // HMAC-SHA256("key", "The quick brown fox jumps over the lazy dog"), a published vector.
        assert_eq!(
            sign(b"key", b"The quick brown fox jumps over the lazy dog"),
            "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"
        );
    }
}
