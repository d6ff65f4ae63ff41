//! `PoolCore`: the pool's native half on the main thread.

use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::{BufferSlice, Function, JsValue};
use napi::{sys, Env, Result};
use napi_derive::napi;
use parking_lot::Mutex;

use super::dispatch::{Abort, Dispatch};
use super::{call_with, register, unregister, Completion, Inner, Pool};
use crate::shared::channel::{self, Receiver};
use crate::shared::error::check;
use crate::shared::scope::Rooted;

#[napi]
pub struct PoolCore {
  id: u32,
  pool: Arc<Pool>,
  completions: Receiver<Completion>,
}

#[napi]
impl PoolCore {
  /// `onSettled(batch)` receives finished tasks as a flat array of
  /// `taskId, payload (Buffer), waitNs, runNs` quadruples, one call per wake-up.
  /// `maxQueue`: how many tasks may wait for a worker.
  #[napi(constructor)]
  pub fn new(env: Env, on_settled: Function, max_queue: f64) -> Result<Self> {
    let on_settled = Rooted::new(&env, on_settled.raw())?;
    let (sender, completions) =
      channel::open_batch(&env, "baton.WorkerPool", move |env, batch| {
        deliver(env, on_settled.get(env)?, batch)
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
      completions: sender,
    });
    let core = PoolCore { id: register(&pool), pool, completions };
    // Nothing to wait for yet: an idle pool does not keep the process alive.
    core.completions.set_ref(&env, false)?;
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

  /// A slot for a worker about to be started; it attaches from its own thread.
  #[napi]
  pub fn add_worker(&self, capacity: u32) -> u32 {
    self
      .pool
      .inner
      .lock()
      .dispatch
      .add_worker(capacity as usize)
  }

  /// Queues a serialized task, or hands it straight to a worker with room. Returns its
  /// id, or 0 when the queue is full.
  #[napi]
  pub fn submit(&self, payload: BufferSlice) -> f64 {
    let payload: Arc<[u8]> = Arc::from(&*payload);
    self
      .pool
      .with(|d| d.submit(payload))
      .map_or(0.0, |id| id as f64)
  }

  /// -1: not known (settled already); 0: it left the queue; otherwise the id of the
  /// worker that runs it, which has been told to abort it.
  #[napi]
  pub fn abort(&self, task: f64) -> i64 {
    match self.pool.with(|d| d.abort(task as u64)) {
      Abort::Unknown => -1,
      Abort::Dequeued => 0,
      Abort::Running(worker) => i64::from(worker),
    }
  }

  /// The id of the worker that has started `task`, or 0.
  #[napi]
  pub fn running_on(&self, task: f64) -> u32 {
    self
      .pool
      .inner
      .lock()
      .dispatch
      .running_on(task as u64)
      .unwrap_or(0)
  }

  /// A worker exited: returns the tasks that ended with it (its other tasks go back to
  /// the queue, see `Dispatch::remove_worker`).
  #[napi]
  pub fn worker_exited(&self, worker: u32, requeue_started: bool) -> Vec<f64> {
    let ended = self.pool.with(|d| d.remove_worker(worker, requeue_started));
    self.pool.inner.lock().wakers.remove(&worker);
    ended.into_iter().map(|id| id as f64).collect()
  }

  /// Empties the queue; returns the tasks that were waiting.
  #[napi]
  pub fn drain_queue(&self) -> Vec<f64> {
    let drained = self.pool.with(Dispatch::drain_queue);
    drained.into_iter().map(|id| id as f64).collect()
  }

  /// Whether pending completions keep the process alive: true while tasks are out.
  #[napi]
  pub fn set_ref(&self, env: Env, keep_alive: bool) -> Result<()> {
    self.completions.set_ref(&env, keep_alive)
  }

  /// Completions waiting now are delivered now (before the pool settles the rest).
  #[napi]
  pub fn flush(&self, env: Env) {
    self.completions.flush(&env);
  }

  /// No worker can find the pool any more; no completion is delivered after this.
  #[napi]
  pub fn close(&self) {
    unregister(self.id);
    self.completions.close();
  }
}

impl Drop for PoolCore {
  fn drop(&mut self) {
    unregister(self.id);
  }
}

fn deliver(env: &Env, on_settled: sys::napi_value, batch: Vec<Completion>) -> Result<()> {
  let raw = env.raw();
  let mut array = ptr::null_mut();
  check(unsafe { sys::napi_create_array_with_length(raw, batch.len() * 4, &mut array) })?;
  for (i, completion) in batch.iter().enumerate() {
    let payload = BufferSlice::copy_from(env, &completion.payload)?;
    let at = (i * 4) as u32;
    set_number(raw, array, at, completion.task as f64)?;
    check(unsafe { sys::napi_set_element(raw, array, at + 1, payload.raw()) })?;
    set_number(raw, array, at + 2, completion.timing.wait_ns as f64)?;
    set_number(raw, array, at + 3, completion.timing.run_ns as f64)?;
  }
  call_with(env, on_settled, array)
}

pub(super) fn set_number(
  env: sys::napi_env,
  array: sys::napi_value,
  at: u32,
  n: f64,
) -> Result<()> {
  let mut value = ptr::null_mut();
  check(unsafe { sys::napi_create_double(env, n, &mut value) })?;
  check(unsafe { sys::napi_set_element(env, array, at, value) })
}
