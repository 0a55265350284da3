-- Argo CD sync: each integration's sync schedule and last outcome, and the applications a sync
-- copies (org-scoped; an application gone from the server is kept, marked removed).

ALTER TABLE integrations
    ADD COLUMN next_sync_at timestamptz,
    ADD COLUMN last_sync_at timestamptz,
    -- {"ok", "error", "applications", "removed", "at"} of the last sync.
    ADD COLUMN last_sync jsonb;
CREATE INDEX integrations_next_sync_idx ON integrations (next_sync_at) WHERE next_sync_at IS NOT NULL;

CREATE TABLE argocd_applications (
    id                    uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id                uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    integration_id        uuid NOT NULL REFERENCES integrations (id) ON DELETE CASCADE,
    -- metadata.namespace ('' when the server gave none) and metadata.name: the key on the server.
    app_namespace         text NOT NULL DEFAULT '',
    name                  text NOT NULL,
    project               text,
    dest_server           text,
    dest_namespace        text,
    dest_name             text,
    repo_url              text,
    path                  text,
    target_revision       text,
    sync_revision         text,
    sync_status           text NOT NULL CHECK (sync_status IN ('Synced', 'OutOfSync', 'Unknown')),
    health_status         text NOT NULL
                          CHECK (health_status IN ('Healthy', 'Progressing', 'Degraded', 'Suspended', 'Missing', 'Unknown')),
    conditions            jsonb NOT NULL DEFAULT '[]',
    operation_phase       text,
    operation_message     text,
    operation_finished_at timestamptz,
    -- Since when it has been OutOfSync without a break (null while it is not).
    out_of_sync_since     timestamptz,
    removed_at            timestamptz,
    first_seen_at         timestamptz NOT NULL DEFAULT now(),
    last_seen_at          timestamptz NOT NULL DEFAULT now(),
    updated_at            timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT argocd_applications_key UNIQUE (integration_id, app_namespace, name)
);
CREATE INDEX argocd_applications_list_idx ON argocd_applications (org_id, integration_id, first_seen_at DESC, id DESC);
