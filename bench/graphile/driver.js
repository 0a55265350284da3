#!/usr/bin/env node
// graphile-worker's side of `make bench`, driven as its perfTest/run.js does: install the schema,
// time one `--once` start/stop on an empty queue, bulk add_jobs of GW_JOBS no-op tasks, then time
// GW_PROCESSES `--once` processes draining them; jobs/s = jobs / (drain time - start/stop time).
// Prints one JSON line. Environment: DATABASE_URL (a fresh database), GW_MODE (batched|unbatched),
// GW_JOBS (200000), GW_PROCESSES (4), GW_CONCURRENCY (24, read by graphile.config.js).
const { execFileSync, execFile } = require("child_process");
const { promisify } = require("util");
const path = require("path");
const { Pool } = require("pg");

const run = promisify(execFile);
process.chdir(__dirname);
const JOBS = Number(process.env.GW_JOBS || 200000);
const PROCESSES = Number(process.env.GW_PROCESSES || 4);
const cli = path.join(__dirname, "node_modules", "graphile-worker", "dist", "cli.js");
const opts = { env: process.env, stdio: ["ignore", "ignore", "inherit"], maxBuffer: 64 << 20 };

// A `--once` process that exits non-zero (e.g. "failed to exit naturally after 1 second" on a
// loaded machine) still counts when the jobs were drained: `left` in the output says whether they were.
const once = () =>
  run("node", [cli, "--once"], opts).catch((e) => {
    console.error(`graphile-worker --once exited with ${e.code}: ${String(e.stderr || "").trim()}`);
  });

async function timed(f) {
  const start = process.hrtime.bigint();
  await f();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function main() {
  execFileSync("node", [cli, "--schema-only"], opts);
  const startup = await timed(once);
  const pool = new Pool({ connectionString: process.env.DATABASE_URL });
  const jobs = [];
  for (let i = 0; i < JOBS; i++) jobs.push({ identifier: "noop", payload: { id: i } });
  const addMs = await timed(() =>
    pool.query(
      "select 1 from graphile_worker.add_jobs(array(select json_populate_recordset(null::graphile_worker.job_spec, $1::json)))",
      [JSON.stringify(jobs)],
    ),
  );
  const drainMs = await timed(() =>
    Promise.all(Array.from({ length: PROCESSES }, once)),
  );
  const { rows } = await pool.query("select count(*)::int as left from graphile_worker.jobs");
  await pool.end();
  const effective = Math.max(drainMs - startup, 1);
  console.log(
    JSON.stringify({
      mode: process.env.GW_MODE || "batched",
      jobs: JOBS,
      processes: PROCESSES,
      left: rows[0].left,
      startup_ms: Math.round(startup),
      add_ms: Math.round(addMs),
      drain_ms: Math.round(drainMs),
      jobs_per_sec: (1000 * JOBS) / effective,
    }),
  );
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
