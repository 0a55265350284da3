-- Analytics read time series straight from the tables: these indexes let a 90-day series of one
-- organisation be answered from the index alone (no table reads for the aggregated columns).
CREATE INDEX workflow_runs_completed_idx ON workflow_runs (org_id, completed_at)
    INCLUDE (repository_id, workflow_id, workflow_name, branch, conclusion, duration_ms)
    WHERE completed_at IS NOT NULL AND conclusion IS NOT NULL;
CREATE INDEX incidents_opened_idx ON incidents (org_id, first_seen_at)
    INCLUDE (repository_id, severity, branch, workflow_name, acknowledged_at, resolved_at);
CREATE INDEX incidents_resolved_idx ON incidents (org_id, resolved_at)
    INCLUDE (repository_id, severity, branch, workflow_name, first_seen_at)
    WHERE resolved_at IS NOT NULL;
CREATE INDEX workflow_jobs_failed_idx ON workflow_jobs (org_id, completed_at)
    WHERE conclusion IN ('failure', 'timed_out');
