// graphile-worker settings for `make bench`, as graphile-worker's own perfTest/graphile.config.js:
// 24 concurrent jobs per process; GW_MODE=batched is a local queue of 500 with batch delays 0,
// GW_MODE=unbatched is no local queue and batch delays -1 (one round trip per claim and per ack).
const CONCURRENT_JOBS = Number(process.env.GW_CONCURRENCY || 24);
const batched = process.env.GW_MODE !== "unbatched";

module.exports = {
  worker: {
    connectionString: process.env.DATABASE_URL,
    fileExtensions: [".js"],
    gracefulShutdownAbortTimeout: 2500,
    concurrentJobs: CONCURRENT_JOBS,
    maxPoolSize: CONCURRENT_JOBS + 1,
    ...(batched
      ? {
          localQueue: { size: 500, refetchDelay: { durationMs: 10 } },
          completeJobBatchDelay: 0,
          failJobBatchDelay: 0,
        }
      : {
          localQueue: { size: -1 },
          completeJobBatchDelay: -1,
          failJobBatchDelay: -1,
        }),
  },
};
