//! `PoolWorker`: a worker thread's handle on its pool.

use std::sync::Arc;

use baton_napi::channel::{self, Receiver};
use napi::bindgen_prelude::{Array, BufferSlice, Either, Function, Undefined};
use napi::{sys, Env, Error, Result, Status};
use napi_derive::napi;

use super::dispatch::{Message, WorkerId};
use super::{find, hand_over, Finished, MessageKind, Pool, MESSAGE_STRIDE};

#[napi]
pub struct PoolWorker {
  worker: WorkerId,
  pool: Arc<Pool>,
  _wake: Receiver<()>,
}

#[napi]
impl PoolWorker {
  /// Attaches this thread as worker `worker` of pool `pool`. From now on it is given
  /// tasks: `onMessages(batch)` receives them as a flat array of `MESSAGE_STRIDE`
  /// values each: `kind` (a `MessageKind`), `taskId`, `payload`.
  #[napi(constructor)]
  pub fn new(
    env: Env,
    pool: u32,
    worker: u32,
    on_messages: Function<sys::napi_value, ()>,
  ) -> Result<Self> {
    let pool = find(pool)
      .ok_or_else(|| Error::new(Status::InvalidArg, format!("no worker pool {pool} is open")))?;
    let on_messages = on_messages.create_ref()?;
    let shared = pool.clone();
    let (waker, wake) = channel::open(&env, "baton.PoolWorker", move |env, ()| {
      let messages = shared.with(|d| d.take(worker));
      if messages.is_empty() {
        return Ok(());
      }
      // A wake-up still pending when the thread is terminated runs while its JS cannot:
      // the tasks never reached it, and go back for another worker.
      let batch = match to_batch(env, &messages) {
        Ok(batch) => batch,
        Err(e) => {
          shared.with(|d| d.untake(worker, messages));
          return Err(e);
        }
      };
      hand_over(env, &on_messages, batch)
    })?;
    pool.inner.lock().wakers.insert(worker, waker);
    if !pool.with(|d| d.attach(worker)) {
      return Err(Error::new(
        Status::InvalidArg,
        format!("worker {worker} is not part of the pool"),
      ));
    }
    Ok(PoolWorker { worker, pool, _wake: wake })
  }

  /// Reports a finished task with its serialized outcome, and returns the messages
  /// that wait for this worker now (the next task, without a wake-up), if any.
  #[napi]
  pub fn complete<'env>(
    &self,
    env: &'env Env,
    task: f64,
    payload: BufferSlice,
  ) -> Result<Either<Array<'env>, Undefined>> {
    let task = task as u64;
    let (timing, messages) = self.pool.with(|d| {
      let timing = d.complete(self.worker, task);
      (timing, d.take(self.worker))
    });
    // Not running here any more (the pool gave up on this worker): already settled.
    if let Some(timing) = timing {
      let payload = payload.to_vec();
      self.pool.finished.send(Finished { task, payload, timing });
    }
    batch_or_none(env, &messages)
  }

  /// With nothing in flight, before waiting on the wake cell (`atomics: 'sync'`): the
  /// messages waiting now, if any, and then the worker must not wait; else it is parked,
  /// and the main thread notifies the cell when the next message comes.
  #[napi]
  pub fn park<'env>(&self, env: &'env Env) -> Result<Either<Array<'env>, Undefined>> {
    let messages = self.pool.with(|d| d.park(self.worker));
    batch_or_none(env, &messages)
  }

  /// The messages waiting now, if any: after a wait on the wake cell ended.
  #[napi]
  pub fn take<'env>(&self, env: &'env Env) -> Result<Either<Array<'env>, Undefined>> {
    let messages = self.pool.with(|d| d.take(self.worker));
    batch_or_none(env, &messages)
  }
}

fn batch_or_none<'env>(
  env: &'env Env,
  messages: &[Message],
) -> Result<Either<Array<'env>, Undefined>> {
  if messages.is_empty() {
    Ok(Either::B(()))
  } else {
    to_batch(env, messages).map(Either::A)
  }
}

fn to_batch<'env>(env: &'env Env, messages: &[Message]) -> Result<Array<'env>> {
  let stride = MESSAGE_STRIDE;
  let mut array = env.create_array(messages.len() as u32 * stride)?;
  for (i, message) in (0u32..).zip(messages) {
    let at = i * stride;
    match message {
      Message::Run(task, payload) => {
        array.set(at, MessageKind::Run as u32)?;
        array.set(at + 1, *task as f64)?;
        array.set(at + 2, BufferSlice::copy_from(env, payload)?)?;
      }
      Message::Abort(task) => {
        array.set(at, MessageKind::Abort as u32)?;
        array.set(at + 1, *task as f64)?;
        array.set(at + 2, ())?;
      }
    }
  }
  Ok(array)
}
