-- Analytics rollups of workflow runs: per UTC day and per ISO week (Monday), per organisation, the
-- count, failures and exact median/p90 duration of the completed runs, overall (repository
-- 00000000-0000-0000-0000-000000000000, workflow NULL), per workflow, per repository and per
-- repository and workflow. A 90-day series then reads a few hundred rows instead of every run.
--
-- Triggers on workflow_runs record which (organisation, day) changed in analytics_dirty_days; the
-- analytics read recomputes those days (and their weeks) before it uses the rollup, in the same
-- transaction that deletes the marks, so a read never uses a stale bucket.
CREATE TABLE analytics_dirty_days (
    org_id uuid NOT NULL,
    day    date NOT NULL,
    PRIMARY KEY (org_id, day)
);

CREATE TABLE analytics_run_rollups (
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    bucket          text NOT NULL CHECK (bucket IN ('day', 'week')),
    bucket_start    timestamptz NOT NULL,
    -- The nil uuid: every repository.
    repository_id   uuid NOT NULL,
    -- NULL: every workflow.
    workflow_name   text,
    runs            bigint NOT NULL,
    failures        bigint NOT NULL,
    duration_p50_ms float8,
    duration_p90_ms float8
);
CREATE UNIQUE INDEX analytics_run_rollups_key
    ON analytics_run_rollups (org_id, bucket, repository_id, bucket_start, workflow_name)
    NULLS NOT DISTINCT;

-- Marks the UTC days of the changed rows' completion. A row whose organisation is being deleted
-- (a cascade) marks nothing.
CREATE FUNCTION analytics_mark_run_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO analytics_dirty_days (org_id, day)
        SELECT DISTINCT n.org_id, (n.completed_at AT TIME ZONE 'UTC')::date
        FROM new_rows n
        WHERE n.completed_at IS NOT NULL
          AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = n.org_id)
        ON CONFLICT DO NOTHING;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        INSERT INTO analytics_dirty_days (org_id, day)
        SELECT DISTINCT d.org_id, (d.completed_at AT TIME ZONE 'UTC')::date
        FROM old_rows d
        WHERE d.completed_at IS NOT NULL
          AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = d.org_id)
        ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER workflow_runs_analytics_insert AFTER INSERT ON workflow_runs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_run_days();
CREATE TRIGGER workflow_runs_analytics_update AFTER UPDATE ON workflow_runs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_run_days();
CREATE TRIGGER workflow_runs_analytics_delete AFTER DELETE ON workflow_runs
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_run_days();

-- Runs already stored: every day they cover is due.
INSERT INTO analytics_dirty_days (org_id, day)
SELECT DISTINCT org_id, (completed_at AT TIME ZONE 'UTC')::date
FROM workflow_runs WHERE completed_at IS NOT NULL
ON CONFLICT DO NOTHING;
