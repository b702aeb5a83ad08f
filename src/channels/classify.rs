//! Platform answers → [`Outcome`]. Meta errors are classified by `error.code` (and
//! `error_subcode` only where the spec needs it), never by HTTP status; Telegram by
//! `parameters` first (`retry_after`, `migrate_to_chat_id`), then `description`.
//!
//! Anything unrecognised falls to a safe class: a rejected request with an unknown code is
//! retried for this recipient later (the engine caps retries), a 5xx or a non-JSON page from
//! a proxy slows the account, and a 200 whose body names no message is `Ambiguous` (it may
//! have been sent). Callers log the raw body of every fallback.

use super::Outcome;
use serde::Deserialize;
use std::time::Duration;

/// WhatsApp's template errors (parameter count or format, a template that does not exist,
/// text too long…): permanent for the message, and usually for every message of the
/// campaign, which the engine's first message of a template campaign finds out.
pub const TEMPLATE_ERRORS: std::ops::RangeInclusive<i64> = 132000..=132012;

/// Whether a failure's code is one of WhatsApp's template errors.
pub fn is_template_error(code: &str) -> bool {
    code.parse::<i64>()
        .is_ok_and(|c| TEMPLATE_ERRORS.contains(&c))
}

/// The wait an outcome carries when the platform named none (Meta never does): the engine
/// reads this value as "no time given" and backs off exponentially on its own, starting
/// short; Telegram's `retry_after` is kept as given.
pub const DEFAULT_BACKOFF: Duration = Duration::from_secs(30);

/// Whether the outcome came from a rule of the spec or from a fallback (log the body).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Classified {
    pub outcome: Outcome,
    pub fallback: bool,
}

impl Classified {
    fn rule(outcome: Outcome) -> Classified {
        Classified {
            outcome,
            fallback: false,
        }
    }
    fn fallback(outcome: Outcome) -> Classified {
        Classified {
            outcome,
            fallback: true,
        }
    }
}

#[derive(Debug, Deserialize)]
struct MetaErrorBody {
    error: MetaError,
}

#[derive(Debug, Deserialize)]
struct MetaError {
    #[serde(default)]
    message: String,
    code: i64,
    #[serde(default)]
    error_subcode: Option<i64>,
}

#[derive(Debug, Deserialize)]
struct WhatsAppSent {
    messages: Vec<WhatsAppMessageId>,
}

#[derive(Debug, Deserialize)]
struct WhatsAppMessageId {
    id: String,
}

#[derive(Debug, Deserialize)]
struct InstagramSent {
    message_id: String,
}

/// What HTTP said when the body is not a platform answer.
fn by_status(status: u16, what: &str) -> Classified {
    let reason = format!("HTTP {status} with {what}");
    match status {
        200..=299 => Classified::fallback(Outcome::Ambiguous { reason }),
        401 | 403 => Classified::fallback(Outcome::AccountHalt {
            code: status.to_string(),
            reason,
        }),
        429 | 500..=599 => Classified::fallback(Outcome::RetryAfter(DEFAULT_BACKOFF)),
        _ => Classified::fallback(Outcome::RetryRecipient(DEFAULT_BACKOFF)),
    }
}

fn describe(body: &[u8]) -> &'static str {
    let head = String::from_utf8_lossy(&body[..body.len().min(256)]).to_ascii_lowercase();
    if head.trim_start().starts_with('<') || head.contains("<html") {
        "an HTML page (a proxy or gateway answered, not the platform)"
    } else if body.is_empty() {
        "an empty body"
    } else {
        "a body that is not the platform's JSON"
    }
}

/// A WhatsApp Cloud API answer to `POST /{phone_number_id}/messages`.
pub fn whatsapp(status: u16, body: &[u8]) -> Classified {
    if (200..300).contains(&status) {
        return match serde_json::from_slice::<WhatsAppSent>(body) {
            Ok(sent) if sent.messages.first().is_some_and(|m| !m.id.is_empty()) => {
                Classified::rule(Outcome::Sent {
                    provider_id: sent.messages[0].id.clone(),
                })
            }
            _ => by_status(status, "no message id"),
        };
    }
    let Ok(MetaErrorBody { error }) = serde_json::from_slice::<MetaErrorBody>(body) else {
        return by_status(status, describe(body));
    };
    let code = error.code.to_string();
    let message = error.message.clone();
    let rule = |o| Classified::rule(o);
    match error.code {
        131056 => rule(Outcome::RetryRecipient(Duration::from_secs(6))),
        130429 | 4 | 80007 | 613 | 1 | 2 | 131000 | 131016 => {
            rule(Outcome::RetryAfter(DEFAULT_BACKOFF))
        }
        131026 | 131047 | 131049 | 130472 | 131030 | 100 => {
            rule(Outcome::Permanent { code, message })
        }
        c if TEMPLATE_ERRORS.contains(&c) => rule(Outcome::Permanent { code, message }),
        131050 => rule(Outcome::OptOut { code, message }),
        132015 | 132016 => rule(Outcome::CampaignHalt {
            code,
            reason: message,
        }),
        190 | 10 | 200..=299 | 368 | 131031 | 131042 | 131048 | 133010 => {
            rule(Outcome::AccountHalt {
                code,
                reason: message,
            })
        }
        _ if status >= 500 => Classified::fallback(Outcome::RetryAfter(DEFAULT_BACKOFF)),
        _ => Classified::fallback(Outcome::RetryRecipient(DEFAULT_BACKOFF)),
    }
}

/// An Instagram Messaging API answer to `POST /me/messages`.
pub fn instagram(status: u16, body: &[u8]) -> Classified {
    if (200..300).contains(&status) {
        return match serde_json::from_slice::<InstagramSent>(body) {
            Ok(sent) if !sent.message_id.is_empty() => Classified::rule(Outcome::Sent {
                provider_id: sent.message_id,
            }),
            _ => by_status(status, "no message id"),
        };
    }
    let Ok(MetaErrorBody { error }) = serde_json::from_slice::<MetaErrorBody>(body) else {
        return by_status(status, describe(body));
    };
    let code = match error.error_subcode {
        Some(sub) => format!("{}/{sub}", error.code),
        None => error.code.to_string(),
    };
    let message = error.message.clone();
    let rule = |o| Classified::rule(o);
    match (error.code, error.error_subcode) {
        (10, Some(2534022)) | (551, _) | (100, _) => rule(Outcome::Permanent { code, message }),
        (4 | 17 | 32 | 613 | 1 | 2, _) => rule(Outcome::RetryAfter(DEFAULT_BACKOFF)),
        (190 | 10 | 200..=299 | 368, _) => rule(Outcome::AccountHalt {
            code,
            reason: message,
        }),
        _ if status >= 500 => Classified::fallback(Outcome::RetryAfter(DEFAULT_BACKOFF)),
        _ => Classified::fallback(Outcome::RetryRecipient(DEFAULT_BACKOFF)),
    }
}

#[derive(Debug, Deserialize)]
struct TelegramAnswer {
    ok: bool,
    #[serde(default)]
    result: Option<TelegramMessage>,
    #[serde(default)]
    error_code: Option<i64>,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<TelegramParameters>,
}

#[derive(Debug, Deserialize)]
struct TelegramMessage {
    message_id: i64,
}

#[derive(Debug, Deserialize)]
struct TelegramParameters {
    #[serde(default)]
    retry_after: Option<u64>,
    #[serde(default)]
    migrate_to_chat_id: Option<i64>,
}

/// A Telegram Bot API answer to `sendMessage`. `private_chat`: the chat is a person (a
/// positive chat id), where a 429 is that chat's pacing rather than the bot's.
pub fn telegram(status: u16, body: &[u8], private_chat: bool) -> Classified {
    let Ok(answer) = serde_json::from_slice::<TelegramAnswer>(body) else {
        return by_status(status, describe(body));
    };
    if answer.ok {
        return match answer.result {
            Some(m) => Classified::rule(Outcome::Sent {
                provider_id: m.message_id.to_string(),
            }),
            None => by_status(status, "no message id"),
        };
    }
    let code = answer.error_code.unwrap_or(status.into());
    let description = answer.description.unwrap_or_default();
    let text = description.to_ascii_lowercase();
    let rule = |o| Classified::rule(o);
    if let Some(p) = &answer.parameters {
        if let Some(secs) = p.retry_after {
            let wait = Duration::from_secs(secs.max(1));
            return rule(if private_chat {
                Outcome::RetryRecipient(wait)
            } else {
                Outcome::RetryAfter(wait)
            });
        }
        if let Some(to) = p.migrate_to_chat_id {
            return rule(Outcome::Permanent {
                code: code.to_string(),
                message: format!("{description} (the group moved to chat {to})"),
            });
        }
    }
    let code_text = code.to_string();
    match code {
        401 => rule(Outcome::AccountHalt {
            code: code_text,
            reason: description,
        }),
        403 if text.contains("bot was blocked by the user") => rule(Outcome::OptOut {
            code: code_text,
            message: description,
        }),
        403 if text.contains("user is deactivated")
            || text.contains("can't initiate conversation")
            || text.contains("bot can't initiate") =>
        {
            rule(Outcome::Permanent {
                code: code_text,
                message: description,
            })
        }
        400 if text.contains("chat not found")
            || text.contains("can't parse entities")
            || text.contains("message is too long")
            || text.contains("text must be non-empty") =>
        {
            rule(Outcome::Permanent {
                code: code_text,
                message: description,
            })
        }
        429 => rule(Outcome::RetryAfter(DEFAULT_BACKOFF)),
        500..=599 => rule(Outcome::RetryAfter(DEFAULT_BACKOFF)),
        _ => Classified::fallback(Outcome::RetryRecipient(DEFAULT_BACKOFF)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn meta(code: i64, subcode: Option<i64>) -> Vec<u8> {
        let sub = subcode
            .map(|s| format!(",\"error_subcode\":{s}"))
            .unwrap_or_default();
        format!(
            "{{\"error\":{{\"message\":\"(#{code}) text\",\"type\":\"OAuthException\",\"code\":{code}{sub},\"fbtrace_id\":\"A1\"}}}}"
        )
        .into_bytes()
    }

    #[test]
    fn whatsapp_codes_follow_the_spec_table() {
        let class = |code: i64, status: u16| whatsapp(status, &meta(code, None)).outcome.class();
        assert_eq!(class(131056, 400), "retry_recipient");
        for c in [130429, 4, 80007, 613, 1, 2, 131000, 131016] {
            assert_eq!(class(c, 429), "retry_account", "{c}");
        }
        for c in [
            131026, 131047, 131049, 130472, 131030, 100, 132000, 132005, 132012,
        ] {
            assert_eq!(class(c, 400), "permanent", "{c}");
        }
        assert_eq!(class(131050, 400), "opt_out");
        for c in [190, 10, 200, 250, 299, 368, 131031, 131042, 131048, 133010] {
            assert_eq!(class(c, 400), "account_halt", "{c}");
        }
        assert_eq!(class(132015, 400), "campaign_halt");
        assert!(is_template_error("132001") && is_template_error("132012"));
        assert!(!is_template_error("132015") && !is_template_error("131026"));
        assert!(!is_template_error("x"));
        assert_eq!(class(132016, 400), "campaign_halt");
        // By code, not by HTTP status: 190 arrives as 401, 131000 as 500.
        assert_eq!(class(190, 401), "account_halt");
        assert_eq!(class(131000, 500), "retry_account");
    }

    #[test]
    fn whatsapp_success_and_odd_answers() {
        let ok = br#"{"messaging_product":"whatsapp","contacts":[{"input":"77011234567","wa_id":"77011234567"}],"messages":[{"id":"wamid.HBgL","message_status":"accepted"}]}"#;
        assert_eq!(
            whatsapp(200, ok),
            Classified::rule(Outcome::Sent {
                provider_id: "wamid.HBgL".into()
            })
        );
        let odd = whatsapp(200, br#"{"messaging_product":"whatsapp","messages":[]}"#);
        assert!(matches!(odd.outcome, Outcome::Ambiguous { .. }) && odd.fallback);
        let html = whatsapp(502, b"<html><body>502 Bad Gateway</body></html>");
        assert_eq!(html.outcome, Outcome::RetryAfter(DEFAULT_BACKOFF));
        let html200 = whatsapp(200, b"<!DOCTYPE html><html>captive portal</html>");
        assert!(
            matches!(html200.outcome, Outcome::Ambiguous { reason } if reason.contains("no message id"))
        );
        let unknown = whatsapp(400, &meta(987654, None));
        assert!(unknown.fallback);
        assert_eq!(unknown.outcome.class(), "retry_recipient");
        let broken = whatsapp(400, b"{\"error\": {\"code\": \"not a number\"");
        assert!(broken.fallback);
        // Unknown fields are ignored.
        let extra = br#"{"error":{"message":"m","code":131026,"new_field":{"x":1}},"also":true}"#;
        assert_eq!(whatsapp(400, extra).outcome.class(), "permanent");
    }

    #[test]
    fn instagram_window_and_halts() {
        let class = |code, sub, status| instagram(status, &meta(code, sub)).outcome.class();
        assert_eq!(class(10, Some(2534022), 400), "permanent");
        assert_eq!(class(10, None, 400), "account_halt");
        assert_eq!(class(551, None, 400), "permanent");
        assert_eq!(class(613, None, 429), "retry_account");
        assert_eq!(class(190, None, 401), "account_halt");
        let ok = instagram(200, br#"{"recipient_id":"1784","message_id":"aWdfZAG"}"#);
        assert_eq!(
            ok.outcome,
            Outcome::Sent {
                provider_id: "aWdfZAG".into()
            }
        );
        match instagram(400, &meta(10, Some(2534022))).outcome {
            Outcome::Permanent { code, .. } => assert_eq!(code, "10/2534022"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn telegram_by_parameters_then_description() {
        let tg =
            |status: u16, body: &str, private| telegram(status, body.as_bytes(), private).outcome;
        assert_eq!(
            tg(
                200,
                r#"{"ok":true,"result":{"message_id":42,"chat":{"id":1,"type":"private"},"date":1,"text":"Сәлем 👋"}}"#,
                true
            ),
            Outcome::Sent {
                provider_id: "42".into()
            }
        );
        let flood = r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 5","parameters":{"retry_after":5}}"#;
        assert_eq!(
            tg(429, flood, true),
            Outcome::RetryRecipient(Duration::from_secs(5))
        );
        assert_eq!(
            tg(429, flood, false),
            Outcome::RetryAfter(Duration::from_secs(5))
        );
        let blocked = r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was blocked by the user"}"#;
        assert_eq!(tg(403, blocked, true).class(), "opt_out");
        for d in [
            "Forbidden: user is deactivated",
            "Forbidden: bot can't initiate conversation with a user",
        ] {
            let body = format!(r#"{{"ok":false,"error_code":403,"description":"{d}"}}"#);
            assert_eq!(tg(403, &body, true).class(), "permanent", "{d}");
        }
        for d in [
            "Bad Request: chat not found",
            "Bad Request: can't parse entities: x",
            "Bad Request: message is too long",
        ] {
            let body = format!(r#"{{"ok":false,"error_code":400,"description":"{d}"}}"#);
            assert_eq!(tg(400, &body, true).class(), "permanent", "{d}");
        }
        assert_eq!(
            tg(
                401,
                r#"{"ok":false,"error_code":401,"description":"Unauthorized"}"#,
                true
            )
            .class(),
            "account_halt"
        );
        assert_eq!(
            tg(502, "<html>Bad Gateway</html>", true),
            Outcome::RetryAfter(DEFAULT_BACKOFF)
        );
        let migrated = r#"{"ok":false,"error_code":400,"description":"Bad Request: group chat was upgraded","parameters":{"migrate_to_chat_id":-100123}}"#;
        assert!(
            matches!(tg(400, migrated, false), Outcome::Permanent { message, .. } if message.contains("-100123"))
        );
        let odd = telegram(200, br#"{"ok":true}"#, true);
        assert!(odd.fallback && matches!(odd.outcome, Outcome::Ambiguous { .. }));
    }

    proptest! {
        /// No answer, however broken, makes a classifier panic; a 2xx whose body is not a
        /// platform answer is never a failure class that would drop or halt a message.
        #[test]
        fn arbitrary_answers_never_panic(status in 100u16..600, body in proptest::collection::vec(any::<u8>(), 0..300)) {
            for c in [whatsapp(status, &body), instagram(status, &body), telegram(status, &body, true)] {
                if (200..300).contains(&status) {
                    prop_assert!(matches!(c.outcome, Outcome::Sent { .. } | Outcome::Ambiguous { .. }), "{:?}", c);
                }
            }
        }
    }
}
