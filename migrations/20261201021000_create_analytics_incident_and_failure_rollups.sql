-- Analytics rollups of incidents and failing jobs, per organisation and UTC day, kept fresh by the
-- same dirty-day marks as the run rollups (20261201011000, 20261201011100): a read recomputes every
-- marked day of its window (runs, incidents and failing jobs alike) before it uses any rollup.
--
-- Incidents: exact MTTA/MTTR percentiles over any window need every sample, so a day's row keeps
-- them, one array element per incident (parallel arrays): the incidents first seen that day (their
-- severity, repository, seconds to acknowledge and to resolve, NULL when not yet) and the incidents
-- resolved that day (severity, repository, seconds to resolve). One row per day instead of one
-- index entry per incident; the percentiles are computed by the reader over the window's samples.
CREATE TABLE analytics_incident_days (
    org_id              uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    day_start           timestamptz NOT NULL,
    opened_severity     text[] NOT NULL,
    -- NULL elements: incidents without a repository (Argo CD).
    opened_repository   uuid[] NOT NULL,
    opened_ack_secs     float8[] NOT NULL,
    opened_resolve_secs float8[] NOT NULL,
    resolved_severity   text[] NOT NULL,
    resolved_repository uuid[] NOT NULL,
    resolved_secs       float8[] NOT NULL,
    PRIMARY KEY (org_id, day_start)
);

-- Failing jobs (step NULL) and their failing steps per day, repository, workflow (of the job's run;
-- NULL when the run is not stored) and job: how many failed, when the last did and in which run.
CREATE TABLE analytics_failure_days (
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    day_start     timestamptz NOT NULL,
    repository_id uuid NOT NULL,
    workflow_name text,
    job           text NOT NULL,
    step          text,
    failures      bigint NOT NULL,
    last_seen_at  timestamptz NOT NULL,
    last_run_id   uuid
);
CREATE UNIQUE INDEX analytics_failure_days_key
    ON analytics_failure_days (org_id, day_start, repository_id, workflow_name, job, step)
    NULLS NOT DISTINCT;

-- Marks a day as the run trigger does: the upsert locks an existing mark, so a read consuming it
-- waits for the writer's commit.
CREATE FUNCTION analytics_mark_day(org uuid, at timestamptz) RETURNS void LANGUAGE sql AS $$
    INSERT INTO analytics_dirty_days (org_id, day)
    SELECT org, (at AT TIME ZONE 'UTC')::date
    WHERE at IS NOT NULL AND EXISTS (SELECT 1 FROM organizations o WHERE o.id = org)
    ON CONFLICT (org_id, day) DO UPDATE SET day = EXCLUDED.day;
$$;

-- Incidents: the first-seen and resolved days of inserted and deleted rows, and of updated rows
-- whose figures changed (a repeat occurrence only touches last_seen_at and marks nothing).
CREATE FUNCTION analytics_mark_incident_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        PERFORM analytics_mark_day(d.org_id, d.at)
        FROM (SELECT DISTINCT n.org_id, date_trunc('day', t.at, 'UTC') AS at
              FROM new_rows n, LATERAL (VALUES (n.first_seen_at), (n.resolved_at)) t(at)
              WHERE t.at IS NOT NULL ORDER BY 1, 2) d;
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM analytics_mark_day(d.org_id, d.at)
        FROM (SELECT DISTINCT o.org_id, date_trunc('day', t.at, 'UTC') AS at
              FROM old_rows o, LATERAL (VALUES (o.first_seen_at), (o.resolved_at)) t(at)
              WHERE t.at IS NOT NULL ORDER BY 1, 2) d;
    ELSE
        PERFORM analytics_mark_day(d.org_id, d.at)
        FROM (SELECT DISTINCT t.org_id, date_trunc('day', t.at, 'UTC') AS at
              FROM new_rows n JOIN old_rows o ON o.id = n.id,
                   LATERAL (VALUES (n.org_id, n.first_seen_at), (n.org_id, n.resolved_at),
                                   (o.org_id, o.first_seen_at), (o.org_id, o.resolved_at)) t(org_id, at)
              WHERE t.at IS NOT NULL
                AND (n.org_id, n.first_seen_at, n.acknowledged_at, n.resolved_at, n.severity,
                     n.repository_id)
                    IS DISTINCT FROM
                    (o.org_id, o.first_seen_at, o.acknowledged_at, o.resolved_at, o.severity,
                     o.repository_id)
              ORDER BY 1, 2) d;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER incidents_analytics_insert AFTER INSERT ON incidents
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_incident_days();
CREATE TRIGGER incidents_analytics_update AFTER UPDATE ON incidents
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_incident_days();
CREATE TRIGGER incidents_analytics_delete AFTER DELETE ON incidents
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_incident_days();

-- Jobs: the completion days of rows that failed before or after the statement.
CREATE FUNCTION analytics_mark_job_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        PERFORM analytics_mark_day(d.org_id, d.at)
        FROM (SELECT DISTINCT n.org_id, date_trunc('day', n.completed_at, 'UTC') AS at
              FROM new_rows n
              WHERE n.completed_at IS NOT NULL AND n.conclusion IN ('failure', 'timed_out')
              ORDER BY 1, 2) d;
    END IF;
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        PERFORM analytics_mark_day(d.org_id, d.at)
        FROM (SELECT DISTINCT o.org_id, date_trunc('day', o.completed_at, 'UTC') AS at
              FROM old_rows o
              WHERE o.completed_at IS NOT NULL AND o.conclusion IN ('failure', 'timed_out')
              ORDER BY 1, 2) d;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER workflow_jobs_analytics_insert AFTER INSERT ON workflow_jobs
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_job_days();
CREATE TRIGGER workflow_jobs_analytics_update AFTER UPDATE ON workflow_jobs
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_job_days();
CREATE TRIGGER workflow_jobs_analytics_delete AFTER DELETE ON workflow_jobs
    REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_job_days();

-- A failing job's row names its run's workflow and id: a run stored, renamed or deleted after its
-- failing jobs marks their days too.
CREATE FUNCTION analytics_mark_run_job_days() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM analytics_mark_day(d.org_id, d.at)
    FROM (SELECT DISTINCT j.org_id, date_trunc('day', j.completed_at, 'UTC') AS at
          FROM changed_runs r
          JOIN workflow_jobs j
            ON j.org_id = r.org_id AND j.run_id = r.run_id AND j.run_attempt = r.run_attempt
          WHERE j.completed_at IS NOT NULL AND j.conclusion IN ('failure', 'timed_out')
          ORDER BY 1, 2) d;
    RETURN NULL;
END
$$;

CREATE TRIGGER workflow_runs_analytics_job_insert AFTER INSERT ON workflow_runs
    REFERENCING NEW TABLE AS changed_runs
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_run_job_days();
CREATE TRIGGER workflow_runs_analytics_job_update AFTER UPDATE ON workflow_runs
    REFERENCING NEW TABLE AS changed_runs
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_run_job_days();
CREATE TRIGGER workflow_runs_analytics_job_delete AFTER DELETE ON workflow_runs
    REFERENCING OLD TABLE AS changed_runs
    FOR EACH STATEMENT EXECUTE FUNCTION analytics_mark_run_job_days();

-- Incidents and failing jobs already stored: every day they cover is due.
INSERT INTO analytics_dirty_days (org_id, day)
SELECT DISTINCT org_id, (t.at AT TIME ZONE 'UTC')::date
FROM incidents, LATERAL (VALUES (first_seen_at), (resolved_at)) t(at)
WHERE t.at IS NOT NULL
UNION
SELECT DISTINCT org_id, (completed_at AT TIME ZONE 'UTC')::date
FROM workflow_jobs
WHERE completed_at IS NOT NULL AND conclusion IN ('failure', 'timed_out')
ON CONFLICT DO NOTHING;
