-- WhatsApp's messaging tier as the platform reported it at the last health check (unique
-- recipients a day; NULL when unlimited, not reported or not WhatsApp). The sender budgets the
-- lower of it and the account's own setting.
ALTER TABLE accounts ADD COLUMN wa_platform_tier INTEGER;
