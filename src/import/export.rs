//! Writing subscribers out as CSV (or JSON lines): the import's counterpart. What it writes,
//! `import` reads back as it was (the same column names, every address, each channel's
//! consent with when, from where and with what proof it was given, marketing and, where
//! anyone exported has one, service), so a list moves to another workspace with its proof
//! of consent. Used by `clever subscribers export` and the console.

use crate::domain::{Channel, ConsentScope, ListId};
use crate::store::Store;
use crate::store::subscribers::ExportRow;
use futures::StreamExt;
use std::io::Write;

/// What to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    /// CSV as Excel opens it with a double click: UTF-8 with a BOM, `;` between fields.
    Excel,
    Jsonl,
}

/// A CSV writer; for Excel, UTF-8 with a byte-order mark, `;` between fields and CRLF line
/// ends: what Excel in a Russian or Kazakh locale opens correctly with a double click (plain
/// UTF-8 shows Cyrillic as mojibake there, and `,` puts each line in one cell).
/// `subscribers import` reads both back.
pub fn csv_writer<W: std::io::Write>(mut out: W, excel: bool) -> std::io::Result<csv::Writer<W>> {
    let mut b = csv::WriterBuilder::new();
    if excel {
        out.write_all("\u{feff}".as_bytes())?;
        b.delimiter(b';').terminator(csv::Terminator::CRLF);
    }
    Ok(b.from_writer(out))
}

/// A consent's time as exported: RFC 3339 to the second, which `import` reads back.
fn exported_time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

/// When, from where and with what proof each channel's consent for a scope was given, by
/// channel (`null` where there is none), as JSON lines write it.
fn given(r: &ExportRow, scope: ConsentScope) -> serde_json::Map<String, serde_json::Value> {
    Channel::ALL
        .iter()
        .map(|&channel| {
            let c = r.consent(scope, channel);
            let given = c.status.map(|_| {
                serde_json::json!({
                    "at": c.at.map(exported_time), "source": c.source, "proof": c.proof,
                })
            });
            (channel.as_str().to_string(), given.unwrap_or_default())
        })
        .collect()
}

/// The column a channel's first address is written in (a further one's is numbered after
/// it: `phone_2`), as `import` reads it.
fn address_column(channel: Channel) -> &'static str {
    match channel {
        Channel::WhatsApp => "phone",
        Channel::Telegram => "telegram_chat_id",
        Channel::Instagram => "instagram_id",
    }
}

/// Streams subscribers as CSV or JSON lines; returns how many.
pub async fn subscribers(
    store: &Store,
    list: Option<ListId>,
    format: Format,
    out: impl Write,
) -> anyhow::Result<u64> {
    let keys = store.attribute_keys(list).await?;
    // Service consent columns only when someone exported has a service consent on record:
    // most workspaces have none, and a CRM reading the file back needs no twelve empty
    // columns.
    let service = store.has_service_consent(list).await?;
    let scopes: &[(ConsentScope, &str)] = if service {
        &[
            (ConsentScope::Marketing, ""),
            (ConsentScope::Service, "service_"),
        ]
    } else {
        &[(ConsentScope::Marketing, "")]
    };
    // Columns for a second address on a channel (`phone_2`, …) only when someone exported
    // has one, as many as anyone has.
    let most = store.most_addresses(list).await?;
    let mut rows = store.export_rows(list, service, most.iter().any(|&n| n > 1));
    let mut n = 0u64;
    match format {
        Format::Csv | Format::Excel => {
            let mut w = csv_writer(out, format == Format::Excel)?;
            // The header reads back with `subscribers import`: the id is `subscriber_id`, which
            // the import reads past, and an attribute named like one of the import's own
            // columns is written as `attribute NAME`, so that it stays an attribute.
            let mut head: Vec<String> = vec!["subscriber_id".into(), "name".into()];
            for channel in Channel::ALL {
                let name = address_column(channel);
                head.push(name.into());
                head.extend((2..=most[channel.index()]).map(|n| format!("{name}_{n}")));
            }
            head.extend(["locale".into(), "timezone".into()]);
            // Each channel's consent with when, from where and with what proof it was given,
            // so that it moves to another workspace with its proof.
            for (_, prefix) in scopes {
                for channel in Channel::ALL {
                    let c = format!("{prefix}consent_{}", channel.as_str());
                    head.extend([
                        format!("{c}_at"),
                        format!("{c}_source"),
                        format!("{c}_proof"),
                    ]);
                    head.insert(head.len() - 3, c);
                }
            }
            head.extend(keys.iter().map(|k| {
                if super::columns::is_known(k) {
                    format!("attribute {k}")
                } else {
                    k.clone()
                }
            }));
            w.write_record(&head)?;
            while let Some(r) = rows.next().await {
                let r = r?;
                let attrs: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&r.attributes).unwrap_or_default();
                let consents: Vec<String> = scopes
                    .iter()
                    .flat_map(|&(scope, _)| Channel::ALL.map(|channel| (scope, channel)))
                    .flat_map(|(scope, channel)| {
                        let c = r.consent(scope, channel);
                        [
                            c.status.unwrap_or_default().to_string(),
                            c.at.map(exported_time).unwrap_or_default(),
                            c.source.unwrap_or_default().to_string(),
                            c.proof.unwrap_or_default().to_string(),
                        ]
                    })
                    .collect();
                let mut rec = Vec::with_capacity(head.len());
                rec.extend([r.id.to_string(), r.name]);
                let first = [r.phone, r.telegram_chat_id, r.instagram_id];
                for (channel, first) in Channel::ALL.into_iter().zip(first) {
                    rec.push(first.unwrap_or_default());
                    let mut more = r.more.iter().filter(|(c, _)| *c == channel);
                    rec.extend(
                        (2..=most[channel.index()])
                            .map(|_| more.next().map(|(_, a)| a.clone()).unwrap_or_default()),
                    );
                }
                rec.extend([
                    r.locale.unwrap_or_default(),
                    r.time_zone.unwrap_or_default(),
                ]);
                rec.extend(consents);
                for k in &keys {
                    rec.push(match attrs.get(k) {
                        Some(serde_json::Value::String(s)) => s.clone(),
                        Some(v) => v.to_string(),
                        None => String::new(),
                    });
                }
                w.write_record(&rec)?;
                n += 1;
            }
            w.flush()?;
        }
        Format::Jsonl => {
            let mut out = std::io::BufWriter::new(out);
            while let Some(r) = rows.next().await {
                let r = r?;
                let attrs: serde_json::Value =
                    serde_json::from_str(&r.attributes).unwrap_or_default();
                let doc = serde_json::json!({
                    "id": r.id, "name": r.name, "locale": r.locale, "time_zone": r.time_zone,
                    "identities": { "whatsapp": r.phone, "telegram": r.telegram_chat_id, "instagram": r.instagram_id },
                    "more_identities": Channel::ALL.iter().map(|&channel| {
                        let more: Vec<&str> = r.more.iter()
                            .filter(|(c, _)| *c == channel)
                            .map(|(_, a)| a.as_str())
                            .collect();
                        (channel.as_str().to_string(), serde_json::json!(more))
                    }).collect::<serde_json::Map<_, _>>(),
                    "marketing_consent": { "whatsapp": r.consent_whatsapp, "telegram": r.consent_telegram, "instagram": r.consent_instagram },
                    "marketing_consent_given": given(&r, ConsentScope::Marketing),
                    "service_consent": Channel::ALL.iter().map(|&channel| {
                        let status = r.consent(ConsentScope::Service, channel).status;
                        (channel.as_str().to_string(), serde_json::json!(status))
                    }).collect::<serde_json::Map<_, _>>(),
                    "service_consent_given": given(&r, ConsentScope::Service),
                    "attributes": attrs,
                });
                serde_json::to_writer(&mut out, &doc)?;
                out.write_all(b"\n")?;
                n += 1;
            }
            out.flush()?;
        }
    }
    Ok(n)
}
