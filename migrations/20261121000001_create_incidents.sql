-- CI failures into incidents: integrations (credentials sealed), workflow runs and their jobs as
-- GitHub reports them, incidents with occurrences and a timeline, and in-app notifications.

CREATE TABLE integrations (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id             uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    kind               text NOT NULL CHECK (kind IN ('github', 'github_app', 'slack', 'argocd', 'http')),
    name               text NOT NULL,
    config             jsonb NOT NULL DEFAULT '{}',
    -- The credentials as one sealed JSON object; which fields are set, and a masked hint of each.
    credentials_sealed text,
    credential_hints   jsonb NOT NULL DEFAULT '{}',
    enabled            boolean NOT NULL DEFAULT true,
    status             text NOT NULL DEFAULT 'active'
                       CHECK (status IN ('active', 'degraded', 'error', 'disabled', 'reauth_required')),
    last_error         text,
    created_by         uuid REFERENCES users (id) ON DELETE SET NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT integrations_org_name_key UNIQUE (org_id, name)
);
CREATE INDEX integrations_org_kind_idx ON integrations (org_id, kind);

-- One row per run attempt.
CREATE TABLE workflow_runs (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id           uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    repository_id    uuid NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    run_id           bigint NOT NULL,
    run_attempt      integer NOT NULL,
    run_number       bigint NOT NULL,
    workflow_id      bigint NOT NULL,
    workflow_name    text NOT NULL,
    branch           text NOT NULL DEFAULT '',
    head_sha         text NOT NULL,
    event            text,
    status           text NOT NULL,
    conclusion       text,
    actor            text,
    commit_author    text,
    commit_message   text,
    html_url         text,
    check_suite_id   bigint,
    run_started_at   timestamptz,
    github_created_at timestamptz,
    github_updated_at timestamptz,
    completed_at     timestamptz,
    duration_ms      bigint,
    -- What incident evaluation did with this attempt once it completed (set once).
    evaluation       text,
    received_at      timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT workflow_runs_org_run_attempt_key UNIQUE (org_id, run_id, run_attempt)
);
CREATE INDEX workflow_runs_org_time_idx ON workflow_runs (org_id, received_at DESC, id);
CREATE INDEX workflow_runs_stream_idx ON workflow_runs (org_id, repository_id, workflow_id, branch, run_number);
CREATE INDEX workflow_runs_check_suite_idx ON workflow_runs (org_id, check_suite_id);

CREATE TABLE workflow_jobs (
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    job_id        bigint NOT NULL,
    repository_id uuid NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    run_id        bigint NOT NULL,
    run_attempt   integer NOT NULL,
    name          text NOT NULL,
    status        text NOT NULL,
    conclusion    text,
    html_url      text,
    started_at    timestamptz,
    completed_at  timestamptz,
    failed_steps  jsonb NOT NULL DEFAULT '[]',
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (org_id, job_id)
);
CREATE INDEX workflow_jobs_run_idx ON workflow_jobs (org_id, run_id, run_attempt);

CREATE TABLE incidents (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id            uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    repository_id     uuid NOT NULL REFERENCES repositories (id) ON DELETE CASCADE,
    -- repository + workflow + branch; at most one unresolved incident per key and organisation.
    dedupe_key        text NOT NULL,
    workflow_id       bigint NOT NULL,
    workflow_name     text NOT NULL,
    branch            text NOT NULL,
    title             text NOT NULL,
    severity          text NOT NULL CHECK (severity IN ('critical', 'high', 'medium', 'low')),
    status            text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'acknowledged', 'resolved')),
    first_seen_at     timestamptz NOT NULL,
    last_seen_at      timestamptz NOT NULL,
    occurrence_count  integer NOT NULL DEFAULT 1,
    head_sha          text NOT NULL,
    suspect_author    text,
    suspect_message   text,
    context           jsonb,
    acknowledged_at   timestamptz,
    acknowledged_by   uuid REFERENCES users (id) ON DELETE SET NULL,
    resolved_at       timestamptz,
    resolved_by       uuid REFERENCES users (id) ON DELETE SET NULL,
    resolution        text,
    -- When a "still failing" message last went out (throttling).
    last_notified_at  timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX incidents_open_dedupe_key ON incidents (org_id, dedupe_key) WHERE status <> 'resolved';
CREATE INDEX incidents_org_time_idx ON incidents (org_id, last_seen_at DESC, id);

CREATE TABLE incident_occurrences (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id          uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    incident_id     uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    workflow_run_id uuid NOT NULL REFERENCES workflow_runs (id) ON DELETE CASCADE,
    occurred_at     timestamptz NOT NULL DEFAULT now(),
    -- A run attempt is an occurrence of one incident, once.
    CONSTRAINT incident_occurrences_run_key UNIQUE (workflow_run_id)
);
CREATE INDEX incident_occurrences_incident_idx ON incident_occurrences (incident_id, occurred_at);

CREATE TABLE incident_events (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    incident_id uuid NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    actor_id    uuid REFERENCES users (id) ON DELETE SET NULL,
    body        text,
    data        jsonb NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX incident_events_incident_idx ON incident_events (incident_id, created_at);

CREATE TABLE notifications (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    org_id      uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    incident_id uuid REFERENCES incidents (id) ON DELETE CASCADE,
    kind        text NOT NULL,
    title       text NOT NULL,
    read_at     timestamptz,
    created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC, id);
