//! The [`Task`] trait and what a task's `perform` may use while it runs.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::bindgen_prelude::ToNapiValue;
use napi::Env;

use crate::channel::Sender;
use crate::error::{Aborted, Error};

/// Background work in two halves: [`perform`](Task::perform) on a libuv pool thread,
/// [`complete`](Task::complete) on the JS thread. Hand one to
/// [`schedule`](crate::schedule) from a `#[napi]` function.
///
/// ```
/// use baton_napi::{Control, Error, Task};
/// use napi::{Env, Result};
///
/// /// Sums 1..=n, polling for an abort and reporting progress every 1,000 numbers.
/// struct SumTo(u64);
///
/// impl Task for SumTo {
///   const RESOURCE_TYPE: &'static str = "example.SumTo";
///   type Output = u64;
///   type JsValue = f64;
///
///   fn perform(&mut self, control: &Control) -> std::result::Result<u64, Error> {
///     let mut sum = 0;
///     for i in 1..=self.0 {
///       if i % 1_000 == 0 {
///         control.checkpoint()?;
///         control.report_progress(i as f64 / self.0 as f64);
///       }
///       sum += i;
///     }
///     Ok(sum)
///   }
///
///   fn complete(&mut self, _env: &Env, sum: u64) -> Result<f64> {
///     Ok(sum as f64)
///   }
/// }
///
/// let control = Control::detached();
/// assert_eq!(SumTo(100).perform(&control).unwrap(), 5050);
/// ```
pub trait Task: Send + 'static {
  /// The type `async_hooks` sees for the task's resource (as with
  /// `new AsyncResource(type)`); name it after your addon, `'myaddon.Compress'`.
  const RESOURCE_TYPE: &'static str;
  /// What `perform` hands over to `complete`.
  type Output: Send + 'static;
  /// The value the caller gets (the callback's second argument, or the Promise's).
  type JsValue: ToNapiValue;

  /// Runs on a libuv pool thread. A long loop calls [`Control::checkpoint`] so that an
  /// abort stops it, and may report progress. A panic here fails the call with
  /// `ERR_BATON_PANIC`.
  fn perform(&mut self, control: &Control) -> Result<Self::Output, Error>;

  /// Runs on the JS thread: turns the output into the value the caller gets. An error
  /// fails the call with it; a panic fails it with `ERR_BATON_PANIC`.
  fn complete(&mut self, env: &Env, output: Self::Output) -> napi::Result<Self::JsValue>;
}

/// What [`Task::perform`] may use to talk to its caller while it runs.
pub struct Control {
  pub(crate) abort: Option<AbortFlag>,
  /// Raised when the thread's JS environment exits (see `schedule`).
  pub(crate) exit: Option<AbortFlag>,
  pub(crate) progress: Option<Sender<f64>>,
}

impl Control {
  /// A control with no abort flag and nowhere to report progress to: for calling
  /// `perform` outside a scheduled call, as in unit tests.
  pub fn detached() -> Self {
    Control { abort: None, exit: None, progress: None }
  }

  /// A detached control (see [`Control::detached`]) that watches `flag`.
  pub fn with_abort(flag: AbortFlag) -> Self {
    Control { abort: Some(flag), exit: None, progress: None }
  }

  /// `Err(Aborted)` once the call has been aborted; use with `?` in `perform`.
  ///
  /// ```
  /// use baton_napi::{AbortFlag, Aborted, Control};
  ///
  /// let flag = AbortFlag::new();
  /// let control = Control::with_abort(flag.clone());
  /// assert_eq!(control.checkpoint(), Ok(()));
  /// flag.raise();
  /// assert_eq!(control.checkpoint(), Err(Aborted));
  /// ```
  pub fn checkpoint(&self) -> Result<(), Aborted> {
    let raised = |flag: &Option<AbortFlag>| flag.as_ref().is_some_and(AbortFlag::is_raised);
    if raised(&self.abort) || raised(&self.exit) {
      Err(Aborted)
    } else {
      Ok(())
    }
  }

  /// Reports progress, a fraction in `[0, 1]` (clamped), to the caller's `onProgress`
  /// if it gave one. Cheap: reports are queued, and the JS thread is woken once for
  /// all those waiting; each is delivered in the caller's async context, and all of
  /// them before the call settles.
  pub fn report_progress(&self, fraction: f64) {
    if let Some(progress) = &self.progress {
      progress.send(fraction.clamp(0.0, 1.0));
    }
  }
}

/// A flag that cancels a task: raised from anywhere (an `AbortSignal`'s `abort` event,
/// a `#[napi]` method, another thread), polled by [`Control::checkpoint`]. Clones
/// share one flag.
///
/// ```
/// let flag = baton_napi::AbortFlag::new();
/// let seen_elsewhere = flag.clone();
/// flag.raise();
/// assert!(seen_elsewhere.is_raised());
/// ```
#[derive(Clone, Default, Debug)]
pub struct AbortFlag(Arc<AtomicBool>);

impl AbortFlag {
  /// A flag not raised yet.
  pub fn new() -> Self {
    Self::default()
  }

  /// Raises the flag; the task's next checkpoint fails with [`Aborted`].
  pub fn raise(&self) {
    self.0.store(true, Ordering::Release);
  }

  /// Whether the flag has been raised.
  pub fn is_raised(&self) -> bool {
    self.0.load(Ordering::Acquire)
  }
}
