-- Fix forward for 20261201020100: "due now" meant `run_at <= now()`, but now() is the start of the
-- transaction, while a job pushed without a time is stamped with the second it was built in. A
-- transaction that began in the previous second (webhook group commit, a bulk push) therefore woke
-- nobody for its jobs, which then waited for the poll. (apalis's per-row trigger had the same flaw.)
-- Compare with the clock when the statement's rows are in; delayed jobs still notify nobody.
CREATE OR REPLACE FUNCTION apalis.notify_new_jobs_per_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    queue text;
BEGIN
    FOR queue IN SELECT DISTINCT job_type FROM new_jobs WHERE run_at <= clock_timestamp() LOOP
        PERFORM pg_notify('apalis::job::insert', json_build_object('job_type', queue)::text);
    END LOOP;
    RETURN NULL;
END;
$$;
