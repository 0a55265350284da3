-- GitHub App installations linked to organisations, repository hooks RepoPal installed (with their
-- own sealed secrets), and every webhook delivery received, stored once.

CREATE TABLE github_installations (
    installation_id bigint PRIMARY KEY,
    org_id          uuid REFERENCES organizations (id) ON DELETE SET NULL,
    account_login   text,
    account_type    text,
    suspended_at    timestamptz,
    deleted_at      timestamptz,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX github_installations_org_idx ON github_installations (org_id);

CREATE TABLE github_repository_hooks (
    hook_id       bigint PRIMARY KEY,
    org_id        uuid NOT NULL REFERENCES organizations (id) ON DELETE CASCADE,
    repository_id bigint NOT NULL,
    secret_sealed text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE webhook_deliveries (
    id              uuid PRIMARY KEY,
    hook_id         text NOT NULL DEFAULT '',
    delivery_id     text NOT NULL,
    event           text NOT NULL,
    action          text,
    installation_id bigint,
    repository_id   bigint,
    org_id          uuid REFERENCES organizations (id) ON DELETE SET NULL,
    payload         bytea NOT NULL,
    status          text NOT NULL DEFAULT 'received'
                    CHECK (status IN ('received', 'processed', 'ignored', 'failed')),
    status_detail   text,
    replay_count    integer NOT NULL DEFAULT 0,
    received_at     timestamptz NOT NULL DEFAULT now(),
    processed_at    timestamptz,
    CONSTRAINT webhook_deliveries_hook_delivery_key UNIQUE (hook_id, delivery_id)
);
CREATE INDEX webhook_deliveries_org_idx ON webhook_deliveries (org_id, received_at DESC, id);
