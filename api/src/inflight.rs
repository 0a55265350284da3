//! A cap on webhook body bytes held at once, across all requests (`WEBHOOK_MAX_INFLIGHT_BYTES`),
//! so a flood of large unsigned deliveries cannot make the API buffer unbounded memory before
//! their signatures are checked.

use std::{pin::Pin, sync::Arc};

use axum::{
    body::{Body, Bytes, HttpBody},
    http::StatusCode,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::ApiError;

/// Seconds a refused sender is told to wait.
const RETRY_AFTER_SECS: u64 = 1;

/// The shared byte budget (cheap to clone).
#[derive(Clone)]
pub struct InflightBytes {
    budget: Arc<Semaphore>,
}

/// Bytes reserved from the budget; they return to it when this is dropped (the request finished,
/// failed, or its client went away).
pub struct Reserved(Option<OwnedSemaphorePermit>);

impl InflightBytes {
    pub fn new(max_bytes: usize) -> Self {
        Self {
            budget: Arc::new(Semaphore::new(max_bytes.min(Semaphore::MAX_PERMITS))),
        }
    }

    /// Bytes of the budget free right now.
    pub fn available(&self) -> usize {
        self.budget.available_permits()
    }

    /// Takes `n` more bytes from the budget, or answers 503 `server_busy` at once.
    fn reserve(&self, reserved: &mut Reserved, n: usize) -> Result<(), ApiError> {
        if n == 0 {
            return Ok(());
        }
        let permit = u32::try_from(n)
            .ok()
            .and_then(|n| self.budget.clone().try_acquire_many_owned(n).ok())
            .ok_or_else(|| ApiError::busy(RETRY_AFTER_SECS))?;
        match &mut reserved.0 {
            Some(held) => held.merge(permit),
            None => reserved.0 = Some(permit),
        }
        Ok(())
    }

    /// Reads a whole body of at most `limit` bytes, handing each chunk to `on_chunk` as it
    /// arrives. A body declared larger than `limit` is refused unread (413). Bytes are taken from
    /// the budget as they arrive, never on the strength of a declared length, so a connection that
    /// declares a large body and then sends nothing holds nothing; a body is refused (503) as soon
    /// as its bytes would not fit. Returns the bytes and their reservation, which the caller holds
    /// until done.
    pub async fn read(
        &self,
        mut body: Body,
        limit: usize,
        mut on_chunk: impl FnMut(&[u8]),
    ) -> Result<(Bytes, Reserved), ApiError> {
        let too_large = || ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE);
        let declared = body
            .size_hint()
            .exact()
            .map(|n| usize::try_from(n).unwrap_or(usize::MAX));
        if declared.is_some_and(|n| n > limit) {
            return Err(too_large());
        }
        let mut reserved = Reserved(None);
        let mut buf = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
        {
            let frame = frame.map_err(|e| read_error(&e))?;
            let Ok(chunk) = frame.into_data() else {
                continue;
            };
            if buf.len() + chunk.len() > limit {
                return Err(too_large());
            }
            self.reserve(&mut reserved, chunk.len())?;
            on_chunk(&chunk);
            buf.extend_from_slice(&chunk);
        }
        Ok((Bytes::from(buf), reserved))
    }
}

/// A body that failed while being read: the outer size cap (413) or a broken connection (400;
/// nobody is listening any more).
fn read_error(e: &axum::Error) -> ApiError {
    let mut source: Option<&dyn std::error::Error> = Some(e);
    while let Some(err) = source {
        if err.to_string().contains("length limit exceeded") {
            return ApiError::from_status(StatusCode::PAYLOAD_TOO_LARGE);
        }
        source = err.source();
    }
    ApiError::new(
        StatusCode::BAD_REQUEST,
        "body_unreadable",
        "The request body could not be read.",
    )
}
