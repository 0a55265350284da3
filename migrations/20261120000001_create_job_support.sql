-- Ledger of jobs whose effect has been applied: makes at-least-once delivery exactly-once in effect.
CREATE TABLE job_effects (
    job_id       text PRIMARY KEY,
    completed_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX job_effects_completed_at_idx ON job_effects (completed_at);

-- Counters written by the diagnostic `probe` job.
CREATE TABLE probe_runs (
    key         text PRIMARY KEY,
    starts      integer NOT NULL DEFAULT 0,
    completions integer NOT NULL DEFAULT 0,
    updated_at  timestamptz NOT NULL DEFAULT now()
);
