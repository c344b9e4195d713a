//! Where the server's slow work runs: custom feeds not cached for the current version
//! (reading and rendering old posts can take tens of milliseconds at 100k posts). Not on
//! the request workers, which must answer plain feeds and `/healthz` at once whatever
//! the queries do: on threads of their own, one per core at low CPU priority (so the
//! workers always get the cores first), and within a budget of jobs in flight. Over the
//! budget a request gets a quick 503 with `Retry-After` instead of a place in a queue
//! that only grows.

use std::sync::Arc;

use tokio::sync::Semaphore;

pub struct WorkPool {
    pool: rayon::ThreadPool,
    budget: Arc<Semaphore>,
}

impl WorkPool {
    /// `threads` threads (0: one per core), at most `queued` jobs waiting beyond them.
    pub fn new(threads: usize, queued: usize) -> Result<WorkPool, rayon::ThreadPoolBuildError> {
        let threads = match threads {
            0 => std::thread::available_parallelism().map_or(1, usize::from),
            n => n,
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("feedd-query-{i}"))
            .start_handler(|_| crate::background::lower_priority())
            .build()?;
        Ok(WorkPool {
            pool,
            budget: Arc::new(Semaphore::new(threads + queued)),
        })
    }

    /// Runs `work` on the pool; `None` at once when the budget is spent.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Option<T> {
        let permit = self.budget.clone().try_acquire_owned().ok()?;
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool.spawn(move || {
            let _held = permit;
            let _ = tx.send(work());
        });
        rx.await.ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_beyond_the_budget_is_refused_at_once() {
        let pool = Arc::new(WorkPool::new(1, 1).unwrap());
        let (release, hold) = std::sync::mpsc::channel::<()>();
        let hold = Arc::new(std::sync::Mutex::new(hold));
        let mut running = Vec::new();
        for _ in 0..2 {
            let (pool, hold) = (pool.clone(), hold.clone());
            running.push(tokio::spawn(async move {
                pool.run(move || {
                    let _ = hold.lock().unwrap().recv();
                    7
                })
                .await
            }));
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        // One running, one waiting: the budget of two is spent.
        assert_eq!(pool.run(|| 8).await, None);
        release.send(()).unwrap();
        release.send(()).unwrap();
        for r in running {
            assert_eq!(r.await.unwrap(), Some(7));
        }
        assert_eq!(pool.run(|| 9).await, Some(9));
    }
}
