//! Threads of their own for argon2id, one per core, fed by one queue.
//!
//! A sign-in's argon2id run is tens of milliseconds of CPU. On the blocking pool it competed
//! for threads with database work: with that pool bounded, writes waiting for SQLite's write
//! lock held every thread while the cores that should hash sat idle (sign-ins fell to 62–71%
//! of the raw argon2id rate at 128 connections). Here a run never waits for a thread that
//! database work holds, and never more run at once than there are cores; the others wait in
//! the queue, holding no memory yet.
//!
//! A thread that has waited a while for a run calls the function it was started with: the
//! argon2 working memory kept for a burst of sign-ins is given back once the burst is over.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

type Job = Box<dyn FnOnce() + Send>;

pub struct PasswordThreads {
    jobs: Sender<Job>,
}

/// The threads are gone (a run panicked, or the application is stopping).
#[derive(Debug)]
pub struct PasswordThreadsGone;

impl PasswordThreads {
    /// Starts `count` threads; they stop when this is dropped. `when_idle` runs on one of them
    /// each time `idle_after` passes without a run.
    pub fn start(count: usize, idle_after: Duration, when_idle: fn()) -> std::io::Result<Self> {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for number in 0..count.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2-{number}"))
                .spawn(move || {
                    loop {
                        // The lock is held only while waiting for the next job, not while running it.
                        let next = match queue.lock() {
                            Ok(queue) => queue.recv_timeout(idle_after),
                            Err(_) => return,
                        };
                        match next {
                            // A panicking run drops its reply channel (its caller gets an
                            // error); the thread stays for the next one.
                            Ok(job) => drop(catch_unwind(AssertUnwindSafe(job))),
                            Err(RecvTimeoutError::Timeout) => when_idle(),
                            Err(RecvTimeoutError::Disconnected) => return,
                        }
                    }
                })?;
        }
        Ok(Self { jobs })
    }

    /// Runs `work` on one of the threads and waits for it without blocking the caller's thread.
    pub async fn run<T, F>(&self, work: F) -> Result<T, PasswordThreadsGone>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = reply.send(work());
        });
        self.jobs.send(job).map_err(|_| PasswordThreadsGone)?;
        answer.await.map_err(|_| PasswordThreadsGone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_work_and_survives_a_panicking_run() {
        let threads = PasswordThreads::start(2, Duration::from_secs(60), || {}).unwrap();
        assert_eq!(threads.run(|| 6 * 7).await.unwrap(), 42);
        assert!(threads.run(|| -> u8 { panic!("a run that fails") }).await.is_err());
        assert_eq!(threads.run(|| "still here").await.unwrap(), "still here");
    }

    #[tokio::test]
    async fn runs_no_more_at_once_than_it_has_threads() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let threads = Arc::new(PasswordThreads::start(2, Duration::from_secs(60), || {}).unwrap());
        let running = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let runs = (0..8).map(|_| {
            let (running, most) = (running.clone(), most.clone());
            let threads = threads.clone();
            async move {
                threads
                    .run(move || {
                        let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        running.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                    .unwrap()
            }
        });
        futures_util::future::join_all(runs).await;
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn calls_when_idle_once_no_run_has_come_for_a_while() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static IDLE_CALLS: AtomicUsize = AtomicUsize::new(0);
        let idle_after = Duration::from_millis(300);
        let threads = PasswordThreads::start(2, idle_after, || {
            IDLE_CALLS.fetch_add(1, Ordering::SeqCst);
        })
        .unwrap();
        threads.run(|| ()).await.unwrap();
        assert_eq!(IDLE_CALLS.load(Ordering::SeqCst), 0, "not while runs come");
        tokio::time::sleep(idle_after * 2 + Duration::from_millis(200)).await;
        assert!(IDLE_CALLS.load(Ordering::SeqCst) >= 1);
    }
}
