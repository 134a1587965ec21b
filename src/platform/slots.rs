//! A fixed number of slots for heavy work in one process (roster imports): a slot is held until
//! its permit drops, and none free is a 503 with `Retry-After`, not a queue.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::platform::error::{AppError, AppResult};

/// `n` slots shared by all clones.
#[derive(Clone)]
pub struct Slots(Arc<Semaphore>);

impl Slots {
    pub fn new(n: usize) -> Self {
        Self(Arc::new(Semaphore::new(n)))
    }

    /// A slot, held until the permit is dropped; none free is a 503 (an import of 10,000 rows
    /// takes seconds, so the client is asked to come back shortly, not to queue here).
    pub fn try_take(&self) -> AppResult<OwnedSemaphorePermit> {
        Arc::clone(&self.0)
            .try_acquire_owned()
            .map_err(|_| AppError::Unavailable {
                retry_after: Duration::from_secs(10),
                source: None,
            })
    }
}
