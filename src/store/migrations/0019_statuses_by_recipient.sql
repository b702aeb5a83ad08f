-- Delivery statuses find their outbox row through the recipient's identity instead of an
-- index of provider ids. Every accepted message put a random key (`wamid.…`) into that
-- index, so each batch's commit rewrote pages all over it: 4–5 µs of SQLite's time a
-- message on the engine's path, about a sixth of it (measured; BENCHMARKS.md). A WhatsApp status
-- names its recipient (`recipient_id`), the same address inbound messages and opt-outs are
-- matched by; the recipient's identity has the outbox rows sent to it (`outbox_identity`),
-- one per campaign, and the provider id picks the row among them.
ALTER TABLE delivery_statuses ADD COLUMN recipient TEXT;
-- Statuses still waiting get their recipient from the row they name, while the index is here.
UPDATE delivery_statuses SET recipient = (
    SELECT i.address FROM outbox o JOIN identities i ON i.id = o.identity_id
    WHERE o.provider_id = delivery_statuses.provider_id AND i.channel = delivery_statuses.channel
    LIMIT 1)
WHERE applied = 0;
DROP INDEX outbox_provider;
