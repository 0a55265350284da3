-- The repository health ranking counts each repository's open incidents on every read: an index of
-- the unresolved incidents by repository answers it from the index alone.
CREATE INDEX incidents_open_repository_idx ON incidents (org_id, repository_id)
    WHERE status <> 'resolved';
