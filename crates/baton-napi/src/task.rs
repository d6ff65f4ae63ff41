//! Background work on the libuv pool whose completion runs in the caller's async
//! context. A task is one small type implementing [`BackgroundTask`] plus a `#[napi]`
//! function that hands it to [`schedule`]; the JS side (`lib/tasks`) adds the
//! callback/Promise forms, argument checks and `AbortSignal` support.

mod abort;
mod failing;
mod fibonacci;
mod plain;
mod schedule;
mod seventeen;
mod testing;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::ToNapiValue;
use napi::Env;

use crate::shared::channel::Sender;
use crate::shared::error::Failure;

pub use abort::AbortFlag;
pub use schedule::{schedule, Hooks, Scheduled};

/// Background work in two halves: `perform` off the JS thread, `complete` on it.
pub trait BackgroundTask: Send + 'static {
  /// The type `async_hooks` sees for the task's callbacks (like `AsyncResource`'s type).
  const TYPE: &'static str;
  type Output: Send + 'static;
  type JsValue: ToNapiValue;

  /// Runs on a libuv pool thread. Long loops call [`Control::checkpoint`] so an abort
  /// stops them, and may report progress.
  fn perform(&mut self, control: &Control) -> Result<Self::Output, Failure>;

  /// Runs on the JS thread: turns the output into the JS value the caller gets.
  fn complete(&mut self, env: &Env, output: Self::Output) -> napi::Result<Self::JsValue>;
}

/// What `perform` may use to talk to the caller while it runs.
pub struct Control {
  abort: Option<Arc<AtomicBool>>,
  progress: Option<Sender<f64>>,
}

impl Control {
  /// `Err(Failure::Aborted)` once the caller's signal has fired; use with `?`.
  pub fn checkpoint(&self) -> Result<(), Failure> {
    match &self.abort {
      Some(flag) if flag.load(Ordering::Acquire) => Err(Failure::Aborted),
      _ => Ok(()),
    }
  }

  /// Reports progress in `[0, 1]` to the caller's `onProgress`, if it gave one.
  pub fn report_progress(&self, fraction: f64) {
    if let Some(progress) = &self.progress {
      progress.send(fraction.clamp(0.0, 1.0));
    }
  }
}
