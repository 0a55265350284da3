-- Incidents from more than one source: GitHub Actions runs (the CI columns, as before) and Argo CD
-- applications (keyed by integration and application; no repository, workflow, branch or commit).

ALTER TABLE incidents
    ADD COLUMN source text NOT NULL DEFAULT 'github_actions' CHECK (source IN ('github_actions', 'argocd')),
    ADD COLUMN integration_id uuid REFERENCES integrations (id) ON DELETE CASCADE,
    ADD COLUMN application_id uuid REFERENCES argocd_applications (id) ON DELETE CASCADE,
    ALTER COLUMN repository_id DROP NOT NULL,
    ALTER COLUMN workflow_id DROP NOT NULL,
    ALTER COLUMN workflow_name DROP NOT NULL,
    ALTER COLUMN branch DROP NOT NULL,
    ALTER COLUMN head_sha DROP NOT NULL,
    ADD CONSTRAINT incidents_source_subject CHECK (
        (source = 'github_actions' AND repository_id IS NOT NULL AND workflow_id IS NOT NULL
             AND workflow_name IS NOT NULL AND branch IS NOT NULL AND head_sha IS NOT NULL)
        OR (source = 'argocd' AND integration_id IS NOT NULL AND application_id IS NOT NULL));
CREATE INDEX incidents_org_source_idx ON incidents (org_id, source, last_seen_at DESC, id);
