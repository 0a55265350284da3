-- Outbound effects that have no idempotency key of their own (a Slack post, a workflow re-run):
-- a row is committed BEFORE the provider is called, so a job that runs again after a crash knows
-- an earlier attempt may have reached the provider, and looks there before acting again.
CREATE TABLE effect_attempts (
    key        text PRIMARY KEY,
    started_at timestamptz NOT NULL DEFAULT now(),
    -- What the first attempt saw before acting (e.g. the run attempt before a re-run).
    detail     jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX effect_attempts_started_at_idx ON effect_attempts (started_at);
