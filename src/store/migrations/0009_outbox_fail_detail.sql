-- The platform's own words for a failed message ("(#131026) Message Undeliverable.",
-- "Forbidden: user is deactivated"), kept next to its code: Telegram gives one code (400,
-- 403) for causes as different as a chat that does not exist and a message too long.
-- Adding a column does not rewrite the table.
ALTER TABLE outbox ADD COLUMN fail_detail TEXT;
-- A failed status webhook's error title, for the same column.
ALTER TABLE delivery_statuses ADD COLUMN error_title TEXT;
