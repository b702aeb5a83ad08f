//! Message templates: `{{ name }}`, `{{ attributes.city }}`, `{{ name | default("клиент") }}`
//! and MiniJinja's other filters, rendered per subscriber in a sandbox (no file access,
//! bounded work). A variable that a subscriber lacks is an error unless it has a default, so
//! a campaign is checked against a sample of its subscribers when it is created rather than
//! sending "Hello, !" to thousands.

use minijinja::{Environment, UndefinedBehavior, Value};

/// The most work one rendering may do (MiniJinja "fuel"): loops cannot run away.
const FUEL: u64 = 20_000;

/// A checked template.
pub struct MessageTemplate {
    env: Environment<'static>,
}

impl std::fmt::Debug for MessageTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MessageTemplate")
    }
}

/// What a template sees of a subscriber.
#[derive(Debug, Clone, Copy)]
pub struct Recipient<'a> {
    pub name: &'a str,
    pub locale: Option<&'a str>,
    /// The subscriber's attributes, a JSON object.
    pub attributes: &'a serde_json::Value,
}

fn explain(e: &minijinja::Error) -> String {
    let mut text = e.to_string();
    if e.kind() == minijinja::ErrorKind::UndefinedError {
        text.push_str(
            " — a subscriber lacks this value; add a default, e.g. {{ name | default(\"клиент\") }}",
        );
    }
    text
}

impl MessageTemplate {
    /// Parses a template; a syntax error names the line.
    pub fn compile(source: &str) -> Result<MessageTemplate, String> {
        if source.trim().is_empty() {
            return Err("the message is empty".into());
        }
        let mut env = Environment::new();
        env.set_undefined_behavior(UndefinedBehavior::Strict);
        env.set_fuel(Some(FUEL));
        env.add_template_owned("message", source.to_string())
            .map_err(|e| explain(&e))?;
        Ok(MessageTemplate { env })
    }

    /// The message for one subscriber.
    pub fn render(&self, r: &Recipient<'_>) -> Result<String, String> {
        let template = self.env.get_template("message").map_err(|e| explain(&e))?;
        let ctx = minijinja::context! {
            name => r.name,
            locale => r.locale,
            attributes => Value::from(minijinja::value::Serde(r.attributes)),
        };
        let text = template.render(ctx).map_err(|e| explain(&e))?;
        let text = text.trim().to_string();
        if text.is_empty() {
            return Err("the message comes out empty for this subscriber".into());
        }
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn r<'a>(name: &'a str, attributes: &'a serde_json::Value) -> Recipient<'a> {
        Recipient {
            name,
            locale: Some("ru"),
            attributes,
        }
    }

    #[test]
    fn variables_defaults_and_filters() {
        let t = MessageTemplate::compile(
            "{{ name | default(\"клиент\") }}, в {{ attributes.city | upper }} скидка 20% 🎉",
        )
        .unwrap();
        let a = json!({ "city": "Алматы" });
        assert_eq!(
            t.render(&r("Айгерим", &a)).unwrap(),
            "Айгерим, в АЛМАТЫ скидка 20% 🎉"
        );
        let t = MessageTemplate::compile("Здравствуйте, {{ name or \"клиент\" }}!").unwrap();
        assert_eq!(
            t.render(&r("", &json!({}))).unwrap(),
            "Здравствуйте, клиент!"
        );
    }

    #[test]
    fn a_missing_value_without_a_default_is_an_error_that_says_what_to_do() {
        let t = MessageTemplate::compile("Привет, {{ attributes.city }}").unwrap();
        let e = t.render(&r("A", &json!({}))).unwrap_err();
        assert!(e.contains("default"), "{e}");
        assert!(MessageTemplate::compile("{{ name ").is_err());
        assert!(MessageTemplate::compile("  ").is_err());
    }

    #[test]
    fn runaway_templates_stop() {
        let t = MessageTemplate::compile(
            "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        )
        .unwrap();
        assert!(t.render(&r("A", &json!({}))).is_err());
    }
}
