//! The worker pool's native dispatch core, shared by the main thread and the pool's
//! worker threads (which load this same addon).
//!
//! - `dispatch`: the queue, which worker runs what, each worker's inbox (no N-API).
//! - `main_thread`: `PoolCore`, the pool's handle on the main thread: submits tasks,
//!   aborts them, hears of workers that exit, and receives completions in batches.
//! - `worker_thread`: `PoolWorker`, a worker's handle: woken when its inbox has
//!   messages, it reports each completion and takes its next task in the same call.
//!   With `atomics: 'sync'`, a worker with nothing to do parks in `Atomics.wait` on a
//!   cell of shared memory instead of sleeping in its loop (`Dispatch::park`); the main
//!   thread's JavaScript wakes it (`Atomics.notify` is JavaScript's own futex: no N-API
//!   call reaches a waiter), told which worker by `PoolCore`'s `onParked`.
//!
//! Payloads are bytes (`v8.serialize`, done by the JS side): JS values cannot cross
//! threads through N-API any other way. What must move rather than be copied (a
//! transferred buffer, a `SharedArrayBuffer`) goes by postMessage on the worker's
//! MessageChannel, and its bytes here are a marker for it (`lib/pool/side-channel.js`),
//! pinned to that worker (`Dispatch::submit_to`). Wake-ups in both directions go through `baton_napi::channel`,
//! so one wake-up carries every message waiting. A batch reaches JS, on either side, as
//! one ArrayBuffer (`batch_buffer`), whose layout (strides, message kinds) is exported
//! from here for the JS side to read.

mod dispatch;
mod main_thread;
mod worker_thread;

use std::collections::HashMap;
use std::ptr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, LazyLock, Weak};

use baton_napi::channel::Sender;
use napi::bindgen_prelude::FunctionRef;
use napi::{check_status, sys, Env, Result};
use napi_derive::napi;
use parking_lot::Mutex;

use dispatch::{Dispatch, TaskId, Timing, Wake, WorkerId};

/// Numbers per finished task in the batches `PoolCore` hands its `onSettled`:
/// `taskId, payload length, waitNs, runNs` (the payloads follow the numbers).
#[napi]
pub const SETTLED_STRIDE: u32 = 4;

/// Numbers per message in the batches `PoolWorker` hands its `onMessages`:
/// `kind, taskId, payload length` (the payloads follow the numbers).
#[napi]
pub const MESSAGE_STRIDE: u32 = 3;

/// The kind of a message to a worker, first in each of its numbers.
#[napi]
pub enum MessageKind {
  /// Run the task; the payload is its serialized form.
  Run = 1,
  /// Abort the task if it still runs; the payload is empty.
  Abort = 2,
}

/// A finished task on its way to the main thread.
struct Finished {
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
  finished: Sender<Finished>,
}

impl Pool {
  /// Runs `f` on the dispatch state, then wakes through their loops the workers whose
  /// inbox it filled; returns those of them that are parked (`atomics: 'sync'`), which
  /// only the main thread's JavaScript can wake (`PoolCore`'s `onParked`).
  fn with_parked<R>(&self, f: impl FnOnce(&mut Dispatch) -> R) -> (R, Vec<WorkerId>) {
    let mut parked = Vec::new();
    let mut wakers = Vec::new();
    let result = {
      let mut inner = self.inner.lock();
      let result = f(&mut inner.dispatch);
      for wake in inner.dispatch.take_wakes() {
        match wake {
          // A worker whose thread is gone cannot be woken; its exit requeues its inbox.
          Wake::Loop(worker) => wakers.extend(inner.wakers.get(&worker).cloned()),
          Wake::Parked(worker) => parked.push(worker),
        }
      }
      result
    };
    // Woken after the lock is released: the first thing a woken worker does is take its
    // messages under this lock, and it would wait for it while the waking call, a system
    // call that may take long, ends here.
    for waker in wakers {
      waker.send(());
    }
    (result, parked)
  }

  /// `with_parked` for a worker's own calls: they fill only that worker's inbox, and a
  /// worker that runs JavaScript is not parked.
  fn with<R>(&self, f: impl FnOnce(&mut Dispatch) -> R) -> R {
    let (result, parked) = self.with_parked(f);
    debug_assert!(
      parked.is_empty(),
      "a worker's call woke parked workers {parked:?}"
    );
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

/// A JS function that takes one batch, held past the call that gave it.
type BatchHandler = FunctionRef<sys::napi_value, ()>;

/// A whole batch in one ArrayBuffer, one allocation and no N-API call per entry: a
/// count, then `stride` numbers per entry (`numbers` writes them), all as native-endian
/// f64s that a Float64Array over the buffer reads, then the entries' payloads end to
/// end, the buffer's length rounded up to whole f64s.
fn batch_buffer<T>(
  env: &Env,
  entries: &[T],
  stride: u32,
  numbers: impl Fn(&T, &mut dyn FnMut(f64)),
  payload: impl Fn(&T) -> &[u8],
) -> Result<sys::napi_value> {
  const F64: usize = std::mem::size_of::<f64>();
  let header = (1 + entries.len() * stride as usize) * F64;
  let payloads: usize = entries.iter().map(|entry| payload(entry).len()).sum();
  let length = (header + payloads).next_multiple_of(F64);
  let mut data = ptr::null_mut();
  let mut buffer = ptr::null_mut();
  check_status!(unsafe {
    sys::napi_create_arraybuffer(env.raw(), length, &mut data, &mut buffer)
  })?;
  // SAFETY: N-API gave `length` writable bytes at `data`, owned by `buffer`, which
  // nothing else can reach before it is returned.
  let bytes = unsafe { std::slice::from_raw_parts_mut(data.cast::<u8>(), length) };
  let mut slots = bytes[..header].chunks_exact_mut(F64);
  let mut put = |n: f64| slots.next().unwrap().copy_from_slice(&n.to_ne_bytes());
  put(entries.len() as f64);
  for entry in entries {
    numbers(entry, &mut put);
  }
  let mut at = header;
  for entry in entries {
    let payload = payload(entry);
    bytes[at..at + payload.len()].copy_from_slice(payload);
    at += payload.len();
  }
  Ok(buffer)
}
