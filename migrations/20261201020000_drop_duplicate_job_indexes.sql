-- The claim/ack path rewrites every job row twice (claimed, then finished), and neither update can
-- be HOT (both change `status`, which the fetch index's predicate reads), so each one inserts into
-- every index of apalis.jobs. apalis's first migration left two exact duplicates behind (its later
-- "streamline" migration dropped their siblings, not these): `unique_job_id` repeats the primary key
-- on `id`, and `lidx` repeats `idx_apalis_jobs_lock_by`. Dropping them keeps every constraint.
DROP INDEX IF EXISTS apalis.unique_job_id;
DROP INDEX IF EXISTS apalis.lidx;

-- Only jobs pushed with an idempotency key need the uniqueness check (NULL keys never conflicted),
-- so the index covers those rows alone and a keyless job's updates skip it. Same name, same
-- columns, same uniqueness for every key.
DROP INDEX IF EXISTS apalis.idx_jobs_idempotency_key;
CREATE UNIQUE INDEX idx_jobs_idempotency_key ON apalis.jobs (job_type, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
