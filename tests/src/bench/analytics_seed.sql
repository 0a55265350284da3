-- The analytics bench's data for one organisation ($1): 50 repositories; $2 completed workflow runs
-- spread evenly over the last $4 days (8 workflows, 41 branches, about 13% failed or timed out,
-- durations 30 s to 10.5 min); one failing job per failed run; $3 incidents over the same days
-- (95% resolved within a day, 80% acknowledged). The bench puts the values in place of $1–$4 and
-- runs the file as one batch; every value is derived from the row number (repeatable).
INSERT INTO repositories (org_id, github_id, full_name, monitoring_enabled)
SELECT $1, 900000 + g, 'bench/repo-' || lpad(g::text, 2, '0'), g % 5 <> 0
FROM generate_series(1, 50) g;
INSERT INTO workflow_runs (org_id, repository_id, run_id, run_attempt, run_number, workflow_id,
                           workflow_name, branch, head_sha, status, conclusion, completed_at,
                           duration_ms)
SELECT $1, r.ids[1 + g % 50], g, 1, g, 1 + g % 8, 'workflow-' || (g % 8),
       CASE WHEN g % 3 = 0 THEN 'main' ELSE 'feature-' || (g % 40) END, 'bench', 'completed',
       CASE WHEN (g * 7919) % 100 < 12 THEN 'failure'
            WHEN (g * 7919) % 100 = 12 THEN 'timed_out' ELSE 'success' END,
       now() - make_interval(secs => g::float8 * $4 * 86400 / $2),
       30000 + (g * 104729) % 600000
FROM generate_series(1, $2::bigint) g,
     (SELECT array_agg(id ORDER BY github_id) AS ids FROM repositories WHERE org_id = $1) r;
INSERT INTO workflow_jobs (org_id, job_id, repository_id, run_id, run_attempt, name, status,
                           conclusion, completed_at, failed_steps)
SELECT org_id, run_id * 10, repository_id, run_id, 1, 'job-' || (run_id % 20), 'completed',
       conclusion, completed_at, jsonb_build_array('step-' || (run_id % 5))
FROM workflow_runs
WHERE org_id = $1 AND conclusion IN ('failure', 'timed_out');
INSERT INTO incidents (org_id, repository_id, dedupe_key, workflow_id, workflow_name, branch, title,
                       severity, status, first_seen_at, last_seen_at, head_sha, acknowledged_at,
                       resolved_at)
SELECT $1, s.repo, 'bench-' || s.g, 1 + s.g % 8, 'workflow-' || (s.g % 8), 'main', 'CI failed',
       (ARRAY['critical', 'high', 'medium', 'low'])[1 + s.g % 4],
       CASE WHEN s.g % 20 = 0 THEN 'open' ELSE 'resolved' END,
       s.opened, s.opened, 'bench',
       CASE WHEN s.g % 5 <> 0 THEN s.opened + make_interval(secs => 60 + (s.g * 31) % 3600) END,
       CASE WHEN s.g % 20 <> 0
            THEN least(s.opened + make_interval(secs => 300 + (s.g * 7919) % 86400), now()) END
FROM (SELECT g, r.ids[1 + g % 50] AS repo,
             now() - make_interval(secs => g::float8 * $4 * 86400 / $3) AS opened
      FROM generate_series(1, $3::bigint) g,
           (SELECT array_agg(id ORDER BY github_id) AS ids FROM repositories WHERE org_id = $1) r) s;
