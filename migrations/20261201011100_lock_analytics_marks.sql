-- Fix forward for 20261201011000: a writer that found a day already marked did nothing and took no
-- lock, so a concurrent analytics read could consume the mark and recompute the day without the
-- writer's uncommitted run, leaving the rollup stale for good. Marking now updates the existing mark,
-- which locks it: the read's delete of that mark waits for the writer, and its recompute then sees the
-- run. Marks also go with their organisation.
CREATE OR REPLACE FUNCTION analytics_mark_run_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analytics_dirty_days (org_id, day)
        SELECT DISTINCT n.org_id, (n.completed_at AT TIME ZONE 'UTC')::date
        FROM new_rows n
        WHERE n.completed_at IS NOT NULL
          AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = n.org_id)
        ON CONFLICT (org_id, day) DO UPDATE SET day = EXCLUDED.day;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO analytics_dirty_days (org_id, day)
        SELECT DISTINCT d.org_id, (d.completed_at AT TIME ZONE 'UTC')::date
        FROM old_rows d
        WHERE d.completed_at IS NOT NULL
          AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = d.org_id)
        ON CONFLICT (org_id, day) DO UPDATE SET day = EXCLUDED.day;
    END IF;
    RETURN NULL;
END
$$;

DELETE FROM analytics_dirty_days d
WHERE NOT EXISTS (SELECT 1 FROM organizations o WHERE o.id = d.org_id);
ALTER TABLE analytics_dirty_days
    ADD CONSTRAINT analytics_dirty_days_org_id_fkey
    FOREIGN KEY (org_id) REFERENCES organizations (id) ON DELETE CASCADE;
