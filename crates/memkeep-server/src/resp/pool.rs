//! The threads RESP connections run on.
//!
//! Each thread runs its own single-threaded runtime, and a connection stays
//! on the thread it was given for its whole life, as in Redis's event loop.
//! A work-stealing runtime would move connections between threads and wake
//! sleeping workers for nearly every request (measured: one futex wake per
//! six GETs, 2.5x the context switches of Redis on 2 cores); here a thread
//! only wakes for its own sockets. New connections go to the thread with
//! the fewest.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use tokio::runtime::{Builder, Handle};
use tokio::sync::oneshot;

struct Worker {
    handle: Handle,
    connections: Arc<AtomicUsize>,
    stop: oneshot::Sender<()>,
    thread: JoinHandle<()>,
}

pub(crate) struct ConnPool {
    workers: Vec<Worker>,
}

impl ConnPool {
    /// Starts `threads` (at least one) connection threads.
    pub(crate) fn start(threads: usize) -> std::io::Result<ConnPool> {
        let mut workers = Vec::new();
        for i in 0..threads.max(1) {
            let runtime = Builder::new_current_thread().enable_all().build()?;
            let handle = runtime.handle().clone();
            let (stop, stopped) = oneshot::channel::<()>();
            let thread = std::thread::Builder::new()
                .name(format!("memkeep-resp-{i}"))
                .spawn(move || {
                    runtime.block_on(async {
                        let _ = stopped.await;
                    });
                    // Cancels whatever is left; blocking work gets a moment.
                    runtime.shutdown_timeout(Duration::from_secs(1));
                })?;
            workers.push(Worker {
                handle,
                connections: Arc::new(AtomicUsize::new(0)),
                stop,
                thread,
            });
        }
        Ok(ConnPool { workers })
    }

    /// Runs a connection's task on the least busy thread.
    pub(crate) fn spawn(&self, task: impl Future<Output = ()> + Send + 'static) {
        let worker = self
            .workers
            .iter()
            .min_by_key(|w| w.connections.load(Ordering::Relaxed))
            .expect("at least one worker");
        let count = worker.connections.clone();
        count.fetch_add(1, Ordering::Relaxed);
        worker.handle.spawn(async move {
            task.await;
            count.fetch_sub(1, Ordering::Relaxed);
        });
    }

    /// Stops every thread, cancelling connections still running; returns
    /// once the threads have exited.
    pub(crate) fn stop(self) {
        let mut threads = Vec::new();
        for w in self.workers {
            let _ = w.stop.send(());
            threads.push(w.thread);
        }
        for t in threads {
            let _ = t.join();
        }
    }
}
