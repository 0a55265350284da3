-- Repositories monitored through either GitHub identity (the App, or a user's OAuth connection):
-- each repository's hook state (pending, active, or failed with a stable code and a reason), hook
-- secrets written BEFORE GitHub's create call (GitHub pings a new hook at once, before its 201 is
-- read), and GitHub answers cached by ETag for the triage routes.

ALTER TABLE repositories
    ADD COLUMN hook_state text NOT NULL DEFAULT 'none'
        CHECK (hook_state IN ('none', 'pending', 'active', 'failed')),
    ADD COLUMN hook_error_code text,
    ADD COLUMN hook_error text,
    ADD COLUMN hook_state_at timestamptz;

-- Monitored repositories whose hook RepoPal holds are active; others are still being installed.
UPDATE repositories r SET hook_state = 'active', hook_state_at = now()
WHERE monitoring_enabled AND EXISTS (
    SELECT 1 FROM github_repository_hooks h WHERE h.org_id = r.org_id AND h.repository_id = r.github_id);
UPDATE repositories SET hook_state = 'pending', hook_state_at = now()
WHERE monitoring_enabled AND hook_state = 'none';

-- A secret generated for a hook about to be created, by the repository's GitHub id; moved to
-- github_repository_hooks once GitHub answers with the hook's id.
CREATE TABLE github_pending_hook_secrets (
    id            uuid PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    repository_id bigint NOT NULL,
    secret_sealed text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX github_pending_hook_secrets_repository_idx
    ON github_pending_hook_secrets (repository_id, created_at DESC);

-- GitHub answers by credential and URL, revalidated with If-None-Match (a 304 costs no rate limit).
CREATE TABLE github_etag_cache (
    org_id     uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    cache_key  text NOT NULL,
    etag       text NOT NULL,
    body       bytea NOT NULL,
    fetched_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, cache_key)
);
