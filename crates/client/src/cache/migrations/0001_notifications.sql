-- Version 1: the notification side of the cache.

-- Small typed values the sync engine keeps between runs: the stream cursor, the
-- account the cache belongs to, where the local event log starts.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per notification the user can see, as the server last told us, plus
-- the effect of actions still waiting in the outbox:
--   server_read  the server's read state (changed only by events and reloads)
--   read, hidden what the user sees: server_read with pending actions applied on
--                top ("rebased"), so a refused action is undone by recomputing
--                instead of by remembering what it overwrote.
CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    kind        TEXT    NOT NULL CHECK (kind IN ('personal', 'broadcast')),
    category    TEXT,
    title       TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    link        TEXT,
    priority    INTEGER NOT NULL,
    desktop     INTEGER NOT NULL,
    sender      TEXT,
    created_at  INTEGER NOT NULL, -- unix milliseconds
    server_read INTEGER NOT NULL,
    read        INTEGER NOT NULL,
    hidden      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX notifications_created ON notifications (created_at);
-- The badge is read on every change; keep it an index-only count.
CREATE INDEX notifications_unread ON notifications (kind) WHERE read = 0 AND hidden = 0;

-- Local full-text search over titles and contents. External content: the text
-- is stored once (in `notifications`), the index follows it through triggers.
CREATE VIRTUAL TABLE notifications_fts USING fts5 (
    title, content,
    content = 'notifications', content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER notifications_fts_insert AFTER INSERT ON notifications BEGIN
    INSERT INTO notifications_fts (rowid, title, content)
    VALUES (new.id, new.title, new.content);
END;
CREATE TRIGGER notifications_fts_delete AFTER DELETE ON notifications BEGIN
    INSERT INTO notifications_fts (notifications_fts, rowid, title, content)
    VALUES ('delete', old.id, old.title, old.content);
END;
CREATE TRIGGER notifications_fts_update AFTER UPDATE OF title, content ON notifications BEGIN
    INSERT INTO notifications_fts (notifications_fts, rowid, title, content)
    VALUES ('delete', old.id, old.title, old.content);
    INSERT INTO notifications_fts (rowid, title, content)
    VALUES (new.id, new.title, new.content);
END;

-- Actions taken here that the server has not confirmed yet, in the order they
-- were taken. `state`: pending (not sent), sent (a request is in flight), acked
-- (the server said yes; kept as an overlay until its event arrives, so the
-- screen does not flicker back to the old state in between).
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    action     TEXT    NOT NULL, -- JSON of herald_client::Action
    state      TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'acked')),
    event_seen INTEGER NOT NULL DEFAULT 0,
    attempts   INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    acked_at   INTEGER
);

-- Every event applied to this cache, in stream order, for consumers that must
-- see each one exactly as the server sent it (`herald watch`). Bounded; `meta`
-- `log_start` says from which cursor on it is complete.
CREATE TABLE event_log (
    cursor INTEGER PRIMARY KEY,
    event  TEXT NOT NULL
);
