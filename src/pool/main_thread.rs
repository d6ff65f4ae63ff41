//! `PoolCore`: the pool's native half on the main thread.

use std::sync::Arc;

use baton_napi::channel::{self, Receiver};
use napi::bindgen_prelude::{BufferSlice, Function, FunctionRef};
use napi::{sys, Env, Result};
use napi_derive::napi;
use parking_lot::Mutex;

use super::dispatch::{Abort, Dispatch, WorkerId};
use super::{
  batch_buffer, register, unregister, BatchHandler, Finished, Inner, Pool, SETTLED_STRIDE,
};

#[napi]
pub struct PoolCore {
  id: u32,
  pool: Arc<Pool>,
  finished: Receiver<Finished>,
  on_parked: FunctionRef<WorkerId, ()>,
}

#[napi]
impl PoolCore {
  /// `onSettled(batch)` receives finished tasks in one ArrayBuffer (see `settle`), one
  /// call per wake-up.
  /// `maxQueue`: how many tasks may wait for a worker. `onParked(worker)` is called
  /// when a call hands a message to a worker parked on its wake cell, to notify it.
  #[napi(constructor)]
  pub fn new(
    env: Env,
    on_settled: Function<sys::napi_value, ()>,
    max_queue: f64,
    on_parked: Function<WorkerId, ()>,
  ) -> Result<Self> {
    let on_settled = on_settled.create_ref()?;
    let on_parked = on_parked.create_ref()?;
    let (sender, finished) = channel::open_batch(&env, "baton.WorkerPool", move |env, batch| {
      settle(env, &on_settled, batch)
    })?;
    let max_queue = if max_queue.is_finite() {
      max_queue as usize
    } else {
      usize::MAX
    };
    let pool = Arc::new(Pool {
      inner: Mutex::new(Inner {
        dispatch: Dispatch::new(max_queue),
        wakers: Default::default(),
      }),
      finished: sender,
    });
    let core = PoolCore { id: register(&pool), pool, finished, on_parked };
    // Nothing to wait for yet: an idle pool does not keep the process alive.
    core.finished.set_ref(&env, false)?;
    Ok(core)
  }

  /// The number workers use to find this pool.
  #[napi(getter)]
  pub fn id(&self) -> u32 {
    self.id
  }

  #[napi(getter)]
  pub fn queue_size(&self) -> u32 {
    self.pool.inner.lock().dispatch.queue_size() as u32
  }

  /// Workers with no task, starting ones included.
  #[napi(getter)]
  pub fn idle_workers(&self) -> u32 {
    self.pool.inner.lock().dispatch.idle_workers() as u32
  }

  /// A slot for a worker about to be started: it takes tasks into its inbox at once,
  /// and attaches from its own thread.
  #[napi]
  pub fn add_worker(&self, env: &Env, capacity: u32) -> Result<u32> {
    self.with(env, |d| d.add_worker(capacity as usize))
  }

  /// Queues a serialized task, or hands it straight to a worker with room. Returns its
  /// id, or `undefined` when the queue is full.
  #[napi]
  pub fn submit(&self, env: &Env, payload: BufferSlice) -> Result<Option<f64>> {
    let payload: Arc<[u8]> = Arc::from(&*payload);
    Ok(self.with(env, |d| d.submit(payload))?.map(|id| id as f64))
  }

  /// The worker a task whose payload goes to one worker only (by its MessagePort) would
  /// be pinned to, or `undefined` when `submit` would refuse it or there is no worker,
  /// or when every worker is busy and `may_start` (the pool starts one for the task).
  #[napi]
  pub fn pin_target(&self, may_start: bool) -> Option<u32> {
    self.pool.inner.lock().dispatch.pin_target(may_start)
  }

  /// Submits a task that only `worker` (from `pinTarget`) can run: it waits for room
  /// there, and ends with that worker. Returns its id, or `undefined` for an unknown worker.
  #[napi]
  pub fn submit_to(&self, env: &Env, worker: u32, payload: BufferSlice) -> Result<Option<f64>> {
    let payload: Arc<[u8]> = Arc::from(&*payload);
    Ok(
      self
        .with(env, |d| d.submit_to(worker, payload))?
        .map(|id| id as f64),
    )
  }

  /// Where the abort found `task`: `{ type: 'Unknown' }` (settled already),
  /// `{ type: 'Dequeued' }` (it will not run), or `{ type: 'Started', worker }` (that
  /// worker has been told to abort it).
  #[napi]
  pub fn abort(&self, env: &Env, task: f64) -> Result<Abort> {
    self.with(env, |d| d.abort(task as u64))
  }

  /// The id of the worker that has started `task`, if one has.
  #[napi]
  pub fn started_on(&self, task: f64) -> Option<u32> {
    self.pool.inner.lock().dispatch.started_on(task as u64)
  }

  /// A worker exited: returns the tasks that ended with it (its other tasks go back to
  /// the queue, see `Dispatch::remove_worker`).
  #[napi]
  pub fn worker_exited(&self, env: &Env, worker: u32, requeue_started: bool) -> Result<Vec<f64>> {
    let ended = self.with(env, |d| d.remove_worker(worker, requeue_started))?;
    self.pool.inner.lock().wakers.remove(&worker);
    Ok(ended.into_iter().map(|id| id as f64).collect())
  }

  /// Empties the queue; returns the tasks that were waiting.
  #[napi]
  pub fn drain_queue(&self, env: &Env) -> Result<Vec<f64>> {
    let drained = self.with(env, Dispatch::drain_queue)?;
    Ok(drained.into_iter().map(|id| id as f64).collect())
  }

  /// Whether pending completions keep the process alive: true while tasks are out.
  #[napi]
  pub fn set_ref(&self, env: Env, keep_alive: bool) -> Result<()> {
    self.finished.set_ref(&env, keep_alive)
  }

  /// Completions waiting now are delivered now (before the pool settles the rest).
  #[napi]
  pub fn flush(&self, env: Env) {
    self.finished.flush(&env);
  }

  /// No worker can find the pool any more; no completion is delivered after this.
  #[napi]
  pub fn close(&self) {
    unregister(self.id);
    self.finished.close();
  }
}

impl PoolCore {
  /// `Pool::with`, then the parked workers it handed messages to are notified.
  fn with<R>(&self, env: &Env, f: impl FnOnce(&mut Dispatch) -> R) -> Result<R> {
    let (result, parked) = self.pool.with_parked(f);
    if !parked.is_empty() {
      let on_parked = self.on_parked.borrow_back(env)?;
      // Every one of them, whatever one call gave: a worker not notified waits for good.
      let mut failed = None;
      for worker in parked {
        if let Err(e) = on_parked.call(worker) {
          failed.get_or_insert(e);
        }
      }
      if let Some(e) = failed {
        return Err(e);
      }
    }
    Ok(result)
  }
}

impl Drop for PoolCore {
  fn drop(&mut self) {
    unregister(self.id);
  }
}

/// The batch in one ArrayBuffer (`batch_buffer`): `SETTLED_STRIDE` numbers per task.
fn settle(env: &Env, on_settled: &BatchHandler, batch: Vec<Finished>) -> Result<()> {
  let buffer = batch_buffer(
    env,
    &batch,
    SETTLED_STRIDE,
    |finished, put| {
      put(finished.task as f64);
      put(finished.payload.len() as f64);
      put(finished.timing.wait_ns as f64);
      put(finished.timing.run_ns as f64);
    },
    |finished| &finished.payload,
  )?;
  on_settled.borrow_back(env)?.call(buffer)
}
