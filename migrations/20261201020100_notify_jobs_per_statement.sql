-- apalis's insert trigger runs once per row and sends one notification per job (its id and run_at
-- in the payload), so a bulk push of 100,000 jobs queued 100,000 notifications, each one read and
-- parsed by every worker's listener, and every insert paid a PL/pgSQL call and a JSON build. Workers
-- only read the queue name (`job_type`) to wake that queue's claim streams, which then claim
-- whatever is due. So notify once per statement and queue instead, as graphile-worker does: same
-- channel, same `{"job_type": …}` key, and still only for jobs due now (delayed ones are polled).
CREATE OR REPLACE FUNCTION apalis.notify_new_jobs_per_statement() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    queue text;
BEGIN
    FOR queue IN SELECT DISTINCT job_type FROM new_jobs WHERE run_at <= now() LOOP
        PERFORM pg_notify('apalis::job::insert', json_build_object('job_type', queue)::text);
    END LOOP;
    RETURN NULL;
END;
$$;

DROP TRIGGER IF EXISTS notify_workers ON apalis.jobs;
CREATE TRIGGER notify_workers AFTER INSERT ON apalis.jobs
    REFERENCING NEW TABLE AS new_jobs
    FOR EACH STATEMENT EXECUTE FUNCTION apalis.notify_new_jobs_per_statement();
