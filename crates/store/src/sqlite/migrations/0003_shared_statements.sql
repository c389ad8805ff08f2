-- The statements both backends share spell "unread" as `read = FALSE`, and
-- SQLite uses a partial index only for a query that repeats its condition.
DROP INDEX recipients_unread;
CREATE INDEX recipients_unread ON recipients(user_id) WHERE read = FALSE;
