//! The sender's side of accounts: what it needs to talk to a platform as an account.
//!
//! Sits above `store` and `channels` (ARCHITECTURE.md §3): it reads an account and its
//! token from the store and turns them into a `channels` target. The campaign sender
//! (claim, limit, send, record) joins it here, in `sender/` (a file per step); the campaign
//! lifecycle (create, start, pause, status) is `campaigns`.

use crate::channels::client::{Client, Health, Target};
use crate::domain::AccountId;
use crate::store::{self, Store, StoreError, accounts::AccountRow};

pub mod campaigns;
pub mod sender;

/// An account as screens see it, and the target its sends and checks go to (with the token).
pub async fn target(
    store: &Store,
    id: AccountId,
) -> Result<Option<(AccountRow, Target)>, StoreError> {
    let Some(account) = store.account(id).await? else {
        return Ok(None);
    };
    let mut conn = store.read().await?;
    let token = store::accounts::secret(&mut conn, id).await?;
    conn.commit().await?;
    let target = Target::from_parts(
        account.channel,
        account.base_url.as_deref(),
        account.api_version.as_deref(),
        &account.settings,
        token,
    );
    Ok(Some((account, target)))
}

/// Checks an account's token against its platform and records the result as its health.
pub async fn check_account(
    store: &Store,
    client: &Client,
    id: AccountId,
) -> Result<Option<(AccountRow, Health)>, StoreError> {
    let Some((account, target)) = target(store, id).await? else {
        return Ok(None);
    };
    let health = client.health(&target).await;
    let mut conn = store.begin().await?;
    store::accounts::set_health(&mut conn, id, &health.line(), health.wa_tier).await?;
    conn.commit().await?;
    Ok(Some((account, health)))
}
