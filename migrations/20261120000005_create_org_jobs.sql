-- Jobs started on behalf of an organisation, so clients can follow them with
-- GET /api/v1/orgs/{org}/jobs/{id} without seeing other organisations' jobs.
CREATE TABLE org_jobs (
    job_id     text PRIMARY KEY,
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX org_jobs_org_idx ON org_jobs (org_id, created_at DESC);
