//! What runs beside the senders on the engine's round: account health checks, and the
//! replies opt-out keywords call for.

use super::retrying;
use crate::channels::client::{Client, Message};
use crate::store::{Store, StoreError};
use chrono::Utc;
use std::time::Duration;

/// Checks the token of each account not checked for `every`, one after the other, and
/// records the result as its health (the Accounts pane shows it); a token that stops
/// working is logged as a warning, one that works again as news.
pub(super) async fn check_due_accounts(store: Store, client: Client, every: Duration) {
    let before = Utc::now() - chrono::Duration::from_std(every).unwrap_or_default();
    let due = match store.accounts_due_for_health(before).await {
        Ok(d) => d,
        Err(e) => return retrying(None, &e, "could not list the accounts to check"),
    };
    for account in due {
        let was_ok = account.health_ok();
        match crate::engine::check_account(&store, &client, account.id).await {
            Ok(Some((_, health))) if !health.ok && was_ok != Some(false) => tracing::warn!(
                account = %account.name,
                "the account's token check failed: {}; sends from it will fail until it is fixed",
                health.detail
            ),
            Ok(Some((_, health))) if health.ok && was_ok == Some(false) => tracing::info!(
                account = %account.name,
                "the account's token check passes again: {}",
                health.detail
            ),
            Ok(_) => {}
            Err(e) => retrying(Some(account.id), &e, "could not record an account's health"),
        }
    }
}

/// Sends the replies queued by opt-out keywords, each once, from the account the keyword was
/// written to. They are the one message a suppressed address gets, so they pass no consent
/// check; a paused account keeps its replies until it is resumed (they are not read). A failed reply is tried
/// again at the next round, up to `REPLY_ATTEMPTS` times, the reason kept each time.
pub(super) async fn send_opt_out_replies(store: Store, client: Client, text: Option<String>) {
    use crate::store::inbound::{pending_replies, reply_done, reply_sending};
    let pending = match store.read().await {
        Ok(mut conn) => {
            let p = pending_replies(&mut conn, 20).await;
            let _ = conn.commit().await;
            p
        }
        Err(e) => Err(e),
    };
    let pending = match pending {
        Ok(p) => p,
        Err(e) => return retrying(None, &e, "could not read the opt-out replies to send"),
    };
    for reply in pending {
        use crate::channels::Outcome as O;
        use crate::store::inbound::ReplyResult as R;
        let why;
        let result = match &text {
            None => R::GiveUp("replies to opt-outs are turned off"),
            Some(text) => match crate::engine::target(&store, reply.account_id).await {
                Ok(None) => R::GiveUp("the account was removed"),
                Ok(Some((_, target))) => {
                    let marked = async {
                        let mut tx = store.begin().await?;
                        let marked = reply_sending(&mut tx, reply.id, reply.attempts).await?;
                        tx.commit().await?;
                        Ok::<bool, StoreError>(marked)
                    };
                    match marked.await {
                        Ok(true) => {}
                        Ok(false) => continue,
                        Err(e) => {
                            return retrying(
                                Some(reply.account_id),
                                &e,
                                "could not mark an opt-out reply as going out",
                            );
                        }
                    }
                    let outcome = client
                        .send(&target, &reply.address, &Message::Text(text.clone()))
                        .await;
                    why = outcome.to_string();
                    match outcome {
                        O::Sent { .. } => R::Sent,
                        O::RetryAfter(wait) | O::RetryRecipient(wait) => R::Later(
                            &why,
                            Utc::now() + chrono::Duration::from_std(wait).unwrap_or_default(),
                        ),
                        O::Ambiguous { .. } => R::GiveUp(&why),
                        _ => R::Failed(&why),
                    }
                }
                Err(e) => return retrying(Some(reply.account_id), &e, "could not read an account"),
            },
        };
        let to = crate::domain::mask::address(&reply.address, 4);
        match result {
            R::Sent => {
                tracing::info!(channel = reply.channel.as_str(), to = %to, "replied to an opt-out")
            }
            R::Failed(why) => tracing::warn!(
                channel = reply.channel.as_str(),
                to = %to,
                "the reply to an opt-out failed (attempt {} of {}): {why}",
                reply.attempts + 1,
                crate::store::inbound::REPLY_ATTEMPTS
            ),
            R::GiveUp(why) if text.is_some() => tracing::warn!(
                channel = reply.channel.as_str(),
                to = %to,
                "the reply to an opt-out is not sent: {why}"
            ),
            _ => {}
        }
        let written = async {
            let mut tx = store.begin().await?;
            reply_done(&mut tx, reply.id, reply.attempts, result).await?;
            tx.commit().await?;
            Ok::<(), StoreError>(())
        };
        if let Err(e) = written.await {
            // It stays marked as sent without a recorded answer: never sent twice.
            return retrying(
                Some(reply.account_id),
                &e,
                "could not record an opt-out reply",
            );
        }
    }
}
