//! WhatsApp Cloud API: `POST /{version}/{phone_number_id}/messages` with a bearer token;
//! the health check reads the phone number (quality rating and messaging tier).

use super::classify::{self, Classified};
use super::client::{Channel, Message, Target, base, json_body};
use crate::channels::Outcome;
use serde::Serialize;

/// WhatsApp Cloud API.
pub struct WhatsApp;

impl Channel for WhatsApp {
    fn send_request(
        &self,
        target: &Target,
        to: &str,
        message: &Message,
    ) -> Result<(String, Vec<u8>), Outcome> {
        let url = format!(
            "{}/{}/{}/messages",
            base(target),
            target.api_version,
            target.phone_number_id
        );
        let to = to.trim_start_matches('+');
        let send = |kind, text, template| Send {
            messaging_product: "whatsapp",
            recipient_type: "individual",
            to,
            kind,
            text,
            template,
        };
        let send = match message {
            Message::Text(body) => send(
                "text",
                Some(Text {
                    preview_url: false,
                    body,
                }),
                None,
            ),
            Message::Template {
                name,
                language,
                params,
            } => send(
                "template",
                None,
                Some(Template {
                    name,
                    language: Language { code: language },
                    components: [Component {
                        kind: "body",
                        parameters: params
                            .iter()
                            .map(|text| Parameter { kind: "text", text })
                            .collect(),
                    }],
                }),
            ),
        };
        Ok((url, json_body(&send)))
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

/// The body of a send, written straight from borrowed fields: no `serde_json::Value` is built
/// and walked, as a send is on the engine's hot path.
#[derive(Serialize)]
struct Send<'a> {
    messaging_product: &'static str,
    recipient_type: &'static str,
    to: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    text: Option<Text<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    template: Option<Template<'a>>,
}

#[derive(Serialize)]
struct Text<'a> {
    preview_url: bool,
    body: &'a str,
}

#[derive(Serialize)]
struct Template<'a> {
    name: &'a str,
    language: Language<'a>,
    components: [Component<'a>; 1],
}

#[derive(Serialize)]
struct Language<'a> {
    code: &'a str,
}

#[derive(Serialize)]
struct Component<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    parameters: Vec<Parameter<'a>>,
}

#[derive(Serialize)]
struct Parameter<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn target() -> Target {
        Target {
            channel: crate::domain::Channel::WhatsApp,
            base_url: "https://graph.facebook.com/".into(),
            api_version: "v23.0".into(),
            token: "EAAG".into(),
            phone_number_id: "1065".into(),
        }
    }

    fn sent(message: &Message) -> (String, serde_json::Value) {
        let (url, body) = WhatsApp
            .send_request(&target(), "+77011234567", message)
            .unwrap();
        (url, serde_json::from_slice(&body).unwrap())
    }

    #[test]
    fn a_text_is_the_cloud_apis_text_message() {
        let (url, body) = sent(&Message::Text("Сәлем, \"Айгерим\"\n🎉".into()));
        assert_eq!(url, "https://graph.facebook.com/v23.0/1065/messages");
        assert_eq!(
            body,
            json!({
                "messaging_product": "whatsapp", "recipient_type": "individual",
                "to": "77011234567", "type": "text",
                "text": { "preview_url": false, "body": "Сәлем, \"Айгерим\"\n🎉" },
            })
        );
    }

    #[test]
    fn a_template_carries_its_language_and_body_parameters() {
        let (_, body) = sent(&Message::Template {
            name: "promo".into(),
            language: "ru".into(),
            params: vec!["Айгерим".into(), "Алматы".into()],
        });
        assert_eq!(
            body,
            json!({
                "messaging_product": "whatsapp", "recipient_type": "individual",
                "to": "77011234567", "type": "template",
                "template": {
                    "name": "promo", "language": { "code": "ru" },
                    "components": [{ "type": "body", "parameters": [
                        { "type": "text", "text": "Айгерим" },
                        { "type": "text", "text": "Алматы" },
                    ] }],
                },
            })
        );
    }
}
