-- Deployment incidents (Argo CD) name an integration and an application, never a repository; CI
-- incidents always name one. Analytics tell the two sources apart by that (the incident rollup keeps
-- a repository per incident, NULL for deployments), so the database holds it as a rule.
ALTER TABLE incidents
    ADD CONSTRAINT incidents_deployments_have_no_repository CHECK (source <> 'argocd' OR repository_id IS NULL);
