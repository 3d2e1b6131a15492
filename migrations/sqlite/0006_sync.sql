-- Schema 6: sync with the central server.
--
-- * The outbox by row: a pulled change meets the unpushed local changes of the same row (they
--   become a conflict, never an overwrite), and a bulk import finds the rows it has not recorded.
-- * A conflict says why it happened (a stale version, or the server's constraint that refused
--   the change, such as a slot booked from another workstation) and which server version it
--   met, so a resolution is a new change on top of that version.

CREATE INDEX outbox_by_row ON outbox (table_name, row_id);

ALTER TABLE sync_conflicts ADD COLUMN reason TEXT NOT NULL DEFAULT 'stale'
    CHECK (length(reason) BETWEEN 1 AND 200);
ALTER TABLE sync_conflicts ADD COLUMN server_version INTEGER;
CREATE INDEX sync_conflicts_by_row ON sync_conflicts (table_name, row_id) WHERE resolved_at IS NULL;
