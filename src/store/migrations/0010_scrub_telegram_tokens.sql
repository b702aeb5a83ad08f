-- Words of transport failures named the request's URL, and a Telegram URL holds the bot's
-- token (`/bot<token>/sendMessage`). They were kept as an account's health and halt reason and
-- as an ambiguous message's reason; the token is masked there as new words mask it.
UPDATE accounts SET
    health = replace(health, secret, '••••••••'),
    status_reason = replace(status_reason, secret, '••••••••')
WHERE channel = 'telegram' AND secret <> ''
  AND (instr(health, secret) > 0 OR instr(status_reason, secret) > 0);
UPDATE outbox SET fail_code = replace(fail_code, (SELECT a.secret FROM accounts a
        WHERE a.id = outbox.account_id), '••••••••')
WHERE fail_class = 'ambiguous'
  AND account_id IN (SELECT id FROM accounts WHERE channel = 'telegram' AND secret <> '')
  AND instr(fail_code, (SELECT a.secret FROM accounts a WHERE a.id = outbox.account_id)) > 0;
