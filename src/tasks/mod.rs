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

use baton_napi::{CallOptions, Scheduled, Task};
use napi::bindgen_prelude::Function;
use napi::Env;

use crate::shared::registry::TaskEntry;

pub use abort::AbortFlag;

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
  // Listed in the registry until the call settles.
  let entry = TaskEntry::add(T::RESOURCE_TYPE);
  let options = CallOptions {
    callback,
    on_progress,
    abort: abort.map(AbortFlag::shared),
    on_settled: Some(Box::new(move || drop(entry))),
    ..Default::default()
  };
  let scheduled = baton_napi::schedule(env, task, options)?;
  if let Some(flag) = abort {
    flag.attach(scheduled.abort_handle());
  }
  Ok(scheduled)
}
