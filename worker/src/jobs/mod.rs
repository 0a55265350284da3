//! One file per job handler.

pub mod noop;
pub mod probe;
pub mod prune;
pub mod send_email;
