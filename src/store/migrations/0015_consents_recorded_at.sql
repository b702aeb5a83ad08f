-- A consent can be dated when it was given (a paper form signed last week, an import's
-- `consent_at`), so the time it was entered is kept beside it: an auditor tells a consent
-- recorded when it was given from one entered later. NULL means it was recorded at `at`
-- (every event before this column, opt-outs by webhook, consents recorded as they happen).
-- Adding a nullable column rewrites no row; the append-only trigger is unchanged.
ALTER TABLE consents ADD COLUMN recorded_at TEXT;
