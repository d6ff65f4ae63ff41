//! `PoolWorker`: a worker thread's handle on its pool.

use std::ptr;
use std::sync::Arc;

use napi::bindgen_prelude::{BufferSlice, Function, JsValue};
use napi::{sys, Env, Error, Result, Status};
use napi_derive::napi;

use super::dispatch::{Message, WorkerId};
use super::main_thread::set_number;
use super::{call_with, find, Completion, Pool};
use crate::shared::channel::{self, Receiver};
use crate::shared::error::{check, undefined};
use crate::shared::scope::Rooted;

/// Kinds in the flat message arrays handed to the worker's JS side.
const RUN: f64 = 1.0;
const ABORT: f64 = 2.0;

#[napi]
pub struct PoolWorker {
  worker: WorkerId,
  pool: Arc<Pool>,
  _wake: Receiver<()>,
}

#[napi]
impl PoolWorker {
  /// Attaches this thread as worker `worker` of pool `pool`. From now on it is given
  /// tasks: `onMessages(batch)` receives them as a flat array of `kind, taskId,
  /// payload` triples (kind 1: run, payload a Buffer; kind 2: abort, payload undefined).
  #[napi(constructor)]
  pub fn new(env: Env, pool: u32, worker: u32, on_messages: Function) -> Result<Self> {
    let pool = find(pool)
      .ok_or_else(|| Error::new(Status::InvalidArg, format!("no worker pool {pool} is open")))?;
    let on_messages = Rooted::new(&env, on_messages.raw())?;
    let shared = pool.clone();
    let (waker, wake) = channel::open(&env, "baton.PoolWorker", move |env, ()| {
      let messages = shared.with(|d| d.take(worker));
      if messages.is_empty() {
        return Ok(());
      }
      // A wake-up still pending when the thread is terminated runs while its JS cannot:
      // the tasks never reached it, and go back for another worker.
      let batch = match to_js(env, &messages) {
        Ok(batch) => batch,
        Err(e) => {
          shared.with(|d| d.untake(worker, messages));
          return Err(e);
        }
      };
      call_with(env, on_messages.get(env)?, batch)
    })?;
    pool.inner.lock().wakers.insert(worker, waker);
    if !pool.with(|d| d.ready(worker)) {
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
  pub fn complete(&self, env: Env, task: f64, payload: BufferSlice) -> Result<sys::napi_value> {
    let task = task as u64;
    let (timing, messages) = self.pool.with(|d| {
      let timing = d.complete(self.worker, task);
      (timing, d.take(self.worker))
    });
    // Not running here any more (the pool gave up on this worker): already settled.
    if let Some(timing) = timing {
      let payload = payload.to_vec();
      self
        .pool
        .completions
        .send(Completion { task, payload, timing });
    }
    if messages.is_empty() {
      undefined(&env)
    } else {
      to_js(&env, &messages)
    }
  }
}

fn to_js(env: &Env, messages: &[Message]) -> Result<sys::napi_value> {
  let raw = env.raw();
  let mut array = ptr::null_mut();
  check(unsafe { sys::napi_create_array_with_length(raw, messages.len() * 3, &mut array) })?;
  for (i, message) in messages.iter().enumerate() {
    let at = (i * 3) as u32;
    let (kind, task, payload) = match message {
      Message::Run(task, payload) => (RUN, *task, BufferSlice::copy_from(env, payload)?.raw()),
      Message::Abort(task) => (ABORT, *task, undefined(env)?),
    };
    set_number(raw, array, at, kind)?;
    set_number(raw, array, at + 1, task as f64)?;
    check(unsafe { sys::napi_set_element(raw, array, at + 2, payload) })?;
  }
  Ok(array)
}
