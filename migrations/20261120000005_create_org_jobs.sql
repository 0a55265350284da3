-- Who started a job (an organisation, or a user for their own connections), so clients can follow
-- it with GET /api/v1/orgs/{org}/jobs/{id} or GET /api/v1/jobs/{id} without seeing others' jobs.
CREATE TABLE org_jobs (
    job_id     text PRIMARY KEY,
    org_id     uuid REFERENCES organizations (id) ON DELETE CASCADE,
    user_id    uuid REFERENCES users (id) ON DELETE CASCADE,
    kind       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT org_jobs_owner_check CHECK (org_id IS NOT NULL OR user_id IS NOT NULL)
);
CREATE INDEX org_jobs_org_idx ON org_jobs (org_id, created_at DESC);

-- OAuth connections used for repository access: their state and the refresh token's life.
ALTER TABLE oauth_connections
    ADD COLUMN status text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'reauth_required')),
    ADD COLUMN purpose text NOT NULL DEFAULT 'login' CHECK (purpose IN ('login', 'repo_access')),
    ADD COLUMN last_refreshed_at timestamptz,
    ADD COLUMN last_error text;

-- A connect flow remembers who started it.
ALTER TABLE oauth_states ADD COLUMN user_id uuid REFERENCES users (id) ON DELETE CASCADE;
