//! `noop`: returns at once; measures the queue's own cost in the benchmark.

use common::jobs::Noop;

use crate::{context::JobContext, error::JobError};

handler!(Noop => run);

pub async fn run(_job: Noop, _ctx: JobContext) -> Result<(), JobError> {
    Ok(())
}
