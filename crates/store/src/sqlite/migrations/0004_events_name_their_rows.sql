-- Events name the row they announce instead of copying it, so a notification to
-- 200 users stores its content once, not 200 times. notification.created and
-- message.created are rebuilt from their row on replay, room.updated from the
-- room as it stands; `payload` then holds what to send once that row is gone
-- (its deletion). Events written before this migration keep their full payload
-- and replay from it.
ALTER TABLE events ADD COLUMN notification_id INTEGER;
ALTER TABLE events ADD COLUMN message_id INTEGER;
ALTER TABLE events ADD COLUMN room_id INTEGER;
