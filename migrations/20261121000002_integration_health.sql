-- Integration health: each integration's check schedule and counters, the history of every check,
-- Slack token rotation, and in-app notifications about integrations.

ALTER TABLE integrations
    ADD COLUMN next_check_at        timestamptz,
    ADD COLUMN last_check_at        timestamptz,
    ADD COLUMN last_success_at      timestamptz,
    ADD COLUMN last_latency_ms      integer,
    ADD COLUMN consecutive_failures integer NOT NULL DEFAULT 0,
    ADD COLUMN failing_since        timestamptz,
    -- When the access token in the credentials expires (Slack token rotation); NULL: it does not.
    ADD COLUMN token_expires_at     timestamptz,
    ADD COLUMN last_refreshed_at    timestamptz,
    ADD COLUMN api_calls            bigint NOT NULL DEFAULT 0,
    ADD COLUMN api_errors           bigint NOT NULL DEFAULT 0;

-- Existing integrations are checked at the first tick.
UPDATE integrations SET next_check_at = now() WHERE enabled;

CREATE INDEX integrations_due_idx ON integrations (next_check_at)
    WHERE enabled AND status NOT IN ('disabled', 'reauth_required');
-- One integration watches an installation.
CREATE UNIQUE INDEX integrations_installation_idx
    ON integrations (org_id, ((config->>'installation_id')::bigint)) WHERE kind = 'github_app';
-- Installations linked before this migration get their integration too (checked at the first tick).
INSERT INTO integrations (org_id, kind, name, config, next_check_at)
SELECT gi.org_id, 'github_app', 'GitHub App installation ' || gi.installation_id,
       jsonb_build_object('installation_id', gi.installation_id), now()
FROM github_installations gi
WHERE gi.org_id IS NOT NULL AND gi.deleted_at IS NULL
ON CONFLICT DO NOTHING;
CREATE INDEX integrations_token_expiry_idx ON integrations (token_expires_at)
    WHERE token_expires_at IS NOT NULL;

CREATE TABLE integration_checks (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    integration_id uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    org_id         uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    -- `scheduled` checks carry the due time they were run for (one check per due time);
    -- `manual` ones are `POST …/test` runs.
    source         text NOT NULL CHECK (source IN ('scheduled', 'manual')),
    due_at         timestamptz,
    checked_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    ok             boolean NOT NULL,
    latency_ms     integer NOT NULL,
    attempts       integer NOT NULL,
    error          text,
    details        jsonb NOT NULL DEFAULT '{}',
    -- A recovery action taken during the check (`token_refreshed`, `hook_reinstall`, …).
    action         text,
    status_before  text NOT NULL,
    status_after   text NOT NULL,
    CHECK ((source = 'scheduled') = (due_at IS NOT NULL))
);
CREATE UNIQUE INDEX integration_checks_due_idx ON integration_checks (integration_id, due_at)
    WHERE due_at IS NOT NULL;
CREATE INDEX integration_checks_history_idx ON integration_checks (integration_id, checked_at DESC, id);

ALTER TABLE notifications
    ADD COLUMN integration_id uuid REFERENCES integrations (id) ON DELETE CASCADE;

-- An integration's log is its audit trail.
CREATE INDEX audit_logs_resource_idx ON audit_logs (resource_type, resource_id, id DESC);
