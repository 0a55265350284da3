-- GET /api/v1/orgs/{org}/jobs pages an organisation's jobs newest first by job id (a ULID).
CREATE INDEX org_jobs_org_job_idx ON org_jobs (org_id, job_id DESC);
