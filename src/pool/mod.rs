//! The worker pool's native dispatch core, shared by the main thread and the pool's
//! worker threads (which load this same addon).
//!
//! - `dispatch`: the queue, which worker runs what, each worker's inbox (no N-API).
//! - `main_thread`: `PoolCore`, the pool's handle on the main thread: submits tasks,
//!   aborts them, hears of workers that exit, and receives completions in batches.
//! - `worker_thread`: `PoolWorker`, a worker's handle: woken when its inbox has
//!   messages, it reports each completion and takes its next task in the same call.
//!
//! Payloads are bytes (`v8.serialize`, done by the JS side): JS values cannot cross
//! threads any other way. Wake-ups in both directions go through `shared::channel`,
//! so one wake-up carries every message waiting.

mod dispatch;
mod main_thread;
mod worker_thread;

use std::collections::HashMap;
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Weak};

use napi::{sys, Env, Result};
use parking_lot::Mutex;

use crate::shared::channel::Sender;
use crate::shared::error::{check, undefined};
use dispatch::{Dispatch, TaskId, Timing, WorkerId};

/// A finished task on its way to the main thread.
struct Completion {
  task: TaskId,
  payload: Vec<u8>,
  timing: Timing,
}

struct Inner {
  dispatch: Dispatch,
  /// Each attached worker's wake-up.
  wakers: HashMap<WorkerId, Sender<()>>,
}

/// One pool, reachable from every thread through `POOLS`.
struct Pool {
  inner: Mutex<Inner>,
  completions: Sender<Completion>,
}

impl Pool {
  /// Runs `f` on the dispatch state, then wakes the workers whose inbox it filled.
  fn with<R>(&self, f: impl FnOnce(&mut Dispatch) -> R) -> R {
    let mut inner = self.inner.lock();
    let result = f(&mut inner.dispatch);
    for worker in inner.dispatch.take_wakes() {
      // A worker whose thread is gone cannot be woken; its exit requeues its inbox.
      if let Some(waker) = inner.wakers.get(&worker) {
        waker.send(());
      }
    }
    result
  }
}

static POOLS: LazyLock<Mutex<HashMap<u32, Weak<Pool>>>> = LazyLock::new(Mutex::default);
static NEXT_POOL: AtomicU32 = AtomicU32::new(1);

fn register(pool: &Arc<Pool>) -> u32 {
  let id = NEXT_POOL.fetch_add(1, Ordering::Relaxed);
  POOLS.lock().insert(id, Arc::downgrade(pool));
  id
}

fn find(id: u32) -> Option<Arc<Pool>> {
  POOLS.lock().get(&id).and_then(Weak::upgrade)
}

fn unregister(id: u32) {
  POOLS.lock().remove(&id);
}

/// Calls `func(arg)` on the JS thread of `env`, with `undefined` as `this`: how the core
/// hands a batch (a flat array) to the pool's JS side, on either thread.
fn call_with(env: &Env, func: sys::napi_value, arg: sys::napi_value) -> Result<()> {
  let mut result = ptr::null_mut();
  let receiver = undefined(env)?;
  check(unsafe { sys::napi_call_function(env.raw(), receiver, func, 1, &arg, &mut result) })
}
