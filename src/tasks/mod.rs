//! baton's background tasks on the libuv pool, built on `baton_napi`. A task is one
//! small file: a type implementing [`Task`] plus a `#[napi]` function that hands it
//! to [`schedule`]. The JS side (`lib/tasks`) adds argument checks, the
//! callback/Promise forms and `AbortSignal` support.

mod abort;
mod failing;
mod fibonacci;
mod plain;
mod seventeen;
mod testing;

use baton_napi::{CallOptions, Control, Error, Scheduled, Task};
use napi::bindgen_prelude::Function;
use napi::Env;

use crate::shared::registry::TaskEntry;

pub use abort::AbortFlag;

/// A task listed in baton's registry (`resources()`) from scheduling until it is
/// dropped, on its JS thread, once settled.
pub struct Listed<T> {
  task: T,
  _entry: TaskEntry,
}

impl<T: Task> Task for Listed<T> {
  const RESOURCE_TYPE: &'static str = T::RESOURCE_TYPE;
  type Output = T::Output;
  type JsValue = T::JsValue;

  fn perform(&mut self, control: &Control) -> Result<T::Output, Error> {
    self.task.perform(control)
  }

  fn complete(&mut self, env: &Env, output: T::Output) -> napi::Result<T::JsValue> {
    self.task.complete(env, output)
  }
}

/// Schedules `task` with the trailing arguments every baton task function takes:
/// `(abortFlag, onProgress, callback)`, each optional (see `lib/tasks/schedule.js`).
/// Returns the Promise, or `undefined` in callback form.
pub fn schedule<T: Task>(
  env: &Env,
  task: T,
  abort: Option<&AbortFlag>,
  on_progress: Option<Function>,
  callback: Option<Function>,
) -> napi::Result<Scheduled> {
  let listed = Listed { task, _entry: TaskEntry::add(T::RESOURCE_TYPE) };
  let options = CallOptions {
    callback,
    on_progress,
    abort: abort.map(AbortFlag::shared),
    ..Default::default()
  };
  let scheduled = baton_napi::schedule(env, listed, options)?;
  if let Some(flag) = abort {
    flag.attach(scheduled.abort_handle());
  }
  Ok(scheduled)
}
