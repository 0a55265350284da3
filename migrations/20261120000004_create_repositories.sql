-- Repositories RepoPal knows (from installation or connection syncs) and cached installation tokens.

CREATE TABLE github_installation_tokens (
    installation_id bigint PRIMARY KEY,
    token_sealed    text NOT NULL,
    expires_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE github_installations ADD COLUMN last_synced_at timestamptz;

CREATE TABLE repositories (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    org_id             uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    github_id          bigint NOT NULL,
    installation_id    bigint,
    -- Set when the repository came from a user's OAuth connection instead of an installation.
    connection_id      uuid,
    full_name          text NOT NULL,
    default_branch     text,
    visibility         text,
    archived           boolean NOT NULL DEFAULT false,
    removed_at         timestamptz,
    -- The last installation sync and the last connection sync that saw this repository (kept apart
    -- so one source's sync never makes the other's look stale).
    last_sync_id       uuid,
    last_connection_sync_id uuid,
    monitoring_enabled boolean NOT NULL DEFAULT false,
    auto_incident      boolean NOT NULL DEFAULT true,
    slack_channels     jsonb NOT NULL DEFAULT '[]',
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT repositories_org_github_key UNIQUE (org_id, github_id)
);
CREATE INDEX repositories_installation_idx ON repositories (installation_id);
CREATE INDEX repositories_org_name_idx ON repositories (org_id, full_name);
