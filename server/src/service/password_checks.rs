//! Argon2 under a bound. One check takes about 19 MiB and tens of
//! milliseconds of a core; run unbounded on the blocking pool (512 threads),
//! a burst of sign-ins took the server to gigabytes. Here at most `slots`
//! checks run at once, a few more callers may wait briefly for a slot, and
//! everyone else is told at once to come back later.
//!
//! Bounding them is half of it: glibc also kept each freed 19 MiB block in
//! the thread's arena (up to ~150 MiB a thread) unless `main` fixes its mmap
//! threshold (`release_large_allocations`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use domain::{AppError, ErrorCode};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// How long a caller may wait for a slot before it is turned away.
const MAX_WAIT: Duration = Duration::from_secs(2);
/// Callers allowed to wait, per slot.
const WAITING_PER_SLOT: usize = 4;

pub struct PasswordChecks {
    slots: Arc<Semaphore>,
    waiting: AtomicUsize,
    max_waiting: usize,
}

impl PasswordChecks {
    pub fn new(slots: usize) -> Self {
        let slots = slots.max(1);
        Self {
            slots: Arc::new(Semaphore::new(slots)),
            waiting: AtomicUsize::new(0),
            max_waiting: slots * WAITING_PER_SLOT,
        }
    }

    /// Two per core, at most eight: enough to keep the cores busy, little
    /// enough that the memory they take stays under ~150 MiB on any machine.
    pub fn default_slots() -> usize {
        std::thread::available_parallelism().map_or(2, |n| (n.get() * 2).min(8))
    }

    /// Runs `check` on the blocking pool once a slot is free; refuses with
    /// `429` (and a time to come back) when none frees up soon.
    pub async fn run<T, F>(&self, check: F) -> Result<T, AppError>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let slot = match self.slots.clone().try_acquire_owned() {
            Ok(slot) => slot,
            Err(_) => self.wait_for_slot().await?,
        };
        tokio::task::spawn_blocking(move || {
            let result = check();
            drop(slot);
            result
        })
        .await
        .map_err(|_| AppError::internal())
    }

    async fn wait_for_slot(&self) -> Result<OwnedSemaphorePermit, AppError> {
        let _waiting = Waiting::join(&self.waiting, self.max_waiting).ok_or_else(busy)?;
        match tokio::time::timeout(MAX_WAIT, self.slots.clone().acquire_owned()).await {
            Ok(Ok(slot)) => Ok(slot),
            _ => Err(busy()),
        }
    }
}

/// One caller counted among those waiting for a slot, until it is dropped:
/// also when the request is abandoned mid-wait (the client went away).
struct Waiting<'a>(&'a AtomicUsize);

impl<'a> Waiting<'a> {
    fn join(waiting: &'a AtomicUsize, max: usize) -> Option<Self> {
        let joined = Waiting(waiting);
        (waiting.fetch_add(1, Ordering::AcqRel) < max).then_some(joined)
    }
}

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Makes the allocator hand blocks of a MiB or more back to the system when
/// they are freed. glibc's default raises that threshold as large blocks are
/// freed, and then keeps them in the freeing thread's arena: each thread that
/// ran a password check held on to up to ~150 MiB. Called once, by `main`.
pub fn release_large_allocations() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only changes the allocator's tuning; it is called before
    // the server allocates in earnest.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

fn busy() -> AppError {
    AppError::new(
        ErrorCode::TooManyRequests,
        "the server is busy checking other passwords; try again in a second",
    )
    .retry_after(Duration::from_secs(1))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;

    #[tokio::test]
    async fn at_most_the_slots_run_a_few_wait_and_the_rest_are_refused_at_once() {
        let checks = Arc::new(PasswordChecks::new(1));
        let (release, released) = mpsc::channel::<()>();
        let released = Arc::new(std::sync::Mutex::new(released));
        let running = {
            let (checks, released) = (checks.clone(), released.clone());
            tokio::spawn(async move {
                checks
                    .run(move || released.lock().unwrap().recv().unwrap())
                    .await
            })
        };
        // The one slot is taken; four callers may wait for it.
        while checks.slots.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let waiters: Vec<_> = (0..WAITING_PER_SLOT)
            .map(|_| {
                let checks = checks.clone();
                tokio::spawn(async move { checks.run(|| 7).await })
            })
            .collect();
        while checks.waiting.load(Ordering::Acquire) < WAITING_PER_SLOT {
            tokio::task::yield_now().await;
        }
        let started = std::time::Instant::now();
        let refused = checks.run(|| 7).await.unwrap_err();
        assert!(
            started.elapsed() < Duration::from_millis(100),
            "refused at once"
        );
        assert_eq!(refused.code, ErrorCode::TooManyRequests);
        assert_eq!(refused.retry_after, Some(1));
        release.send(()).unwrap();
        running.await.unwrap().unwrap();
        for waiter in waiters {
            assert_eq!(waiter.await.unwrap().unwrap(), 7, "waiters get their turn");
        }
    }

    #[tokio::test]
    async fn a_waiter_that_gives_up_leaves_its_place() {
        let checks = Arc::new(PasswordChecks::new(1));
        let held = checks.slots.clone().acquire_owned().await.unwrap();
        // Callers abandoned mid-wait (a closed connection drops the request).
        for _ in 0..WAITING_PER_SLOT * 2 {
            let abandoned = tokio::time::timeout(Duration::from_millis(20), checks.run(|| 7));
            assert!(abandoned.await.is_err());
        }
        assert_eq!(checks.waiting.load(Ordering::Acquire), 0);
        drop(held);
        assert_eq!(checks.run(|| 7).await.unwrap(), 7);
    }
}
