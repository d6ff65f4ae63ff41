//! `PoolWorker`: a worker thread's handle on its pool.

use std::sync::Arc;

use baton_napi::channel::{self, Receiver};
use napi::bindgen_prelude::{
  BufferSlice, Either, Function, ToNapiValue, TypeName, Undefined, ValueType,
};
use napi::{sys, Env, Error, Result, Status};
use napi_derive::napi;

use super::dispatch::{Message, WorkerId};
use super::{batch_buffer, find, Finished, MessageKind, Pool, MESSAGE_STRIDE};

#[napi]
pub struct PoolWorker {
  worker: WorkerId,
  pool: Arc<Pool>,
  _wake: Receiver<()>,
}

#[napi]
impl PoolWorker {
  /// Attaches this thread as worker `worker` of pool `pool`. From now on it is given
  /// tasks: `onMessages(batch)` receives them in one ArrayBuffer (`batch_buffer`),
  /// `MESSAGE_STRIDE` numbers each: `kind` (a `MessageKind`), `taskId`, payload length.
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
      on_messages.borrow_back(env)?.call(batch.0)
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
  pub fn complete(
    &self,
    env: &Env,
    task: f64,
    payload: BufferSlice,
  ) -> Result<Either<Batch, Undefined>> {
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
  pub fn park(&self, env: &Env) -> Result<Either<Batch, Undefined>> {
    let messages = self.pool.with(|d| d.park(self.worker));
    batch_or_none(env, &messages)
  }

  /// The messages waiting now, if any: after a wait on the wake cell ended.
  #[napi]
  pub fn take(&self, env: &Env) -> Result<Either<Batch, Undefined>> {
    let messages = self.pool.with(|d| d.take(self.worker));
    batch_or_none(env, &messages)
  }
}

fn batch_or_none(env: &Env, messages: &[Message]) -> Result<Either<Batch, Undefined>> {
  if messages.is_empty() {
    Ok(Either::B(()))
  } else {
    to_batch(env, messages).map(Either::A)
  }
}

/// A batch of messages, one ArrayBuffer (`batch_buffer`), returned to JS as it is.
pub struct Batch(sys::napi_value);

impl ToNapiValue for Batch {
  unsafe fn to_napi_value(_: sys::napi_env, batch: Self) -> Result<sys::napi_value> {
    Ok(batch.0)
  }
}

impl TypeName for Batch {
  fn type_name() -> &'static str {
    "ArrayBuffer"
  }

  fn value_type() -> ValueType {
    ValueType::Object
  }
}

fn to_batch(env: &Env, messages: &[Message]) -> Result<Batch> {
  let buffer = batch_buffer(
    env,
    messages,
    MESSAGE_STRIDE,
    |message, put| match message {
      Message::Run(task, payload) => {
        put(MessageKind::Run as u32 as f64);
        put(*task as f64);
        put(payload.len() as f64);
      }
      Message::Abort(task) => {
        put(MessageKind::Abort as u32 as f64);
        put(*task as f64);
        put(0.0);
      }
    },
    |message| match message {
      Message::Run(_, payload) => payload,
      Message::Abort(_) => &[],
    },
  )?;
  Ok(Batch(buffer))
}
