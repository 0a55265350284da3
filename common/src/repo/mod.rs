//! All SQL lives here: one file per table group, free functions taking an executor.

pub mod job_effects;
pub mod jobs;
pub mod probe;
