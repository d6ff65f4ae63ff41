//! Scheduling a [`Task`]: the adapter onto napi-rs's `AsyncTask` that captures the
//! caller's async context when the call is made and settles the call exactly once,
//! inside that context, through the callback or the Promise.

use std::rc::Rc;

use napi::bindgen_prelude::{
  AsyncTask, FromNapiValue, Function, JsValue, Object, ToNapiValue, TypeName, Unknown,
};
use napi::{sys, Env, Result, ValueType};

use crate::channel::{self, Receiver};
use crate::error::Error;
use crate::panic;
use crate::raw::{self, check};
use crate::scope::{CallScope, JsThreadOnly, Rooted};
use crate::task::{AbortFlag, Control, Task};

/// What a JS call hands over beside its task, all optional; usually the trailing
/// arguments of the `#[napi]` function that schedules it.
#[derive(Default)]
pub struct CallOptions<'a> {
  /// A Node-style `(err, value)` callback. Without one, the call settles a Promise.
  pub callback: Option<Function<'a>>,
  /// Called with a fraction in `[0, 1]` whenever `perform` reports progress.
  pub on_progress: Option<Function<'a>>,
  /// An `AbortSignal`: its `abort` event raises the task's abort flag, and the call
  /// fails with an `AbortError` whose `cause` is `signal.reason`. An already aborted
  /// signal fails the call without running `perform`.
  pub signal: Option<Object<'a>>,
  /// A flag of your own (raised by a `cancel()` method, say), polled like the signal.
  pub abort: Option<AbortFlag>,
}

/// A scheduled task, as a `#[napi]` function returns it: a Promise for JavaScript, or
/// `undefined` when the call passed a callback.
pub struct Scheduled<T: Task> {
  work: AsyncTask<Work<T>>,
  callback_form: bool,
}

/// Queues `task` on the libuv pool. Call it on the JS thread, from the `#[napi]`
/// function whose caller's async context the callbacks should see.
///
/// - With `options.callback`, the call returns `undefined` and the callback gets
///   `(null, value)` or `(error)` exactly once, never synchronously, in the caller's
///   async context (also on Node 24/26, where napi-rs's own completion has none). A
///   callback that throws raises an uncaught exception in that same context.
/// - Without it, the call returns a Promise; its continuations keep their own context.
/// - `async_hooks` sees a resource of type [`Task::RESOURCE_TYPE`], triggered by the
///   caller, whenever there is a JS function to call back (the callback or
///   `onProgress`); the callbacks run inside it, and it is destroyed after the last.
///
/// ```no_run
/// use baton_napi::{schedule, CallOptions, Control, Error, Scheduled, Task};
/// use napi::bindgen_prelude::{Function, Object};
/// use napi::{Env, Result};
/// use napi_derive::napi;
///
/// pub struct Double(f64);
///
/// impl Task for Double {
///   const RESOURCE_TYPE: &'static str = "example.Double";
///   type Output = f64;
///   type JsValue = f64;
///
///   fn perform(&mut self, _control: &Control) -> std::result::Result<f64, Error> {
///     Ok(self.0 * 2.0)
///   }
///
///   fn complete(&mut self, _env: &Env, output: f64) -> Result<f64> {
///     Ok(output)
///   }
/// }
///
/// /// `double(x[, signal][, callback])`: a Promise, or `callback(err, value)`.
/// #[napi]
/// pub fn double(
///   env: Env,
///   x: f64,
///   signal: Option<Object>,
///   callback: Option<Function>,
/// ) -> Result<Scheduled<Double>> {
///   schedule(&env, Double(x), CallOptions { signal, callback, ..Default::default() })
/// }
/// ```
pub fn schedule<T: Task>(env: &Env, task: T, options: CallOptions) -> Result<Scheduled<T>> {
  let callback_form = options.callback.is_some();
  let abort = match (&options.abort, &options.signal) {
    (Some(flag), _) => Some(flag.clone()),
    (None, Some(_)) => Some(AbortFlag::new()),
    (None, None) => None,
  };
  let signal = match (options.signal, &abort) {
    (Some(signal), Some(flag)) => Some(Signal::listen(env, signal.raw(), flag.clone())?),
    _ => None,
  };
  let scope = if options.callback.is_some() || options.on_progress.is_some() {
    Some(Rc::new(CallScope::capture(env, T::RESOURCE_TYPE)?))
  } else {
    None
  };
  let callback = options
    .callback
    .map(|f| Rooted::new(env, f.raw()))
    .transpose()?;
  let (progress_tx, progress_rx) = match (options.on_progress, &scope) {
    (Some(on_progress), Some(scope)) => {
      let on_progress = Rooted::new(env, on_progress.raw())?;
      let scope = scope.clone();
      let (tx, rx) = channel::open(env, T::RESOURCE_TYPE, move |env, fraction: f64| {
        let fraction = unsafe { f64::to_napi_value(env.raw(), fraction)? };
        scope.call(env, on_progress.get(env)?, &[fraction])
      })?;
      (Some(tx), Some(rx))
    }
    _ => (None, None),
  };
  let settlement = Settlement { scope, callback, progress: progress_rx, signal };
  let work = Work {
    task,
    control: Control { abort, progress: progress_tx },
    settlement: JsThreadOnly(settlement),
  };
  Ok(Scheduled { work: AsyncTask::new(work), callback_form })
}

impl<T: Task> TypeName for Scheduled<T> {
  fn type_name() -> &'static str {
    "Promise<unknown> | undefined"
  }

  fn value_type() -> ValueType {
    ValueType::Unknown
  }
}

impl<T: Task> ToNapiValue for Scheduled<T> {
  unsafe fn to_napi_value(env: sys::napi_env, value: Self) -> Result<sys::napi_value> {
    let promise = unsafe { AsyncTask::to_napi_value(env, value.work)? };
    if value.callback_form {
      // The Promise never rejects in callback form: it settles with `undefined`.
      raw::undefined(&Env::from_raw(env))
    } else {
      Ok(promise)
    }
  }
}

/// A task on its way through the libuv pool, with what it needs to settle.
struct Work<T: Task> {
  task: T,
  control: Control,
  settlement: JsThreadOnly<Settlement>,
}

/// The JS-thread half of a scheduled task.
struct Settlement {
  /// Present when a JS function will be called back; a Promise needs none, its
  /// continuations keep their own context.
  scope: Option<Rc<CallScope>>,
  callback: Option<Rooted>,
  progress: Option<Receiver<f64>>,
  signal: Option<Signal>,
}

impl<T: Task> napi::Task for Work<T> {
  // Failures travel as values so that `resolve` settles every outcome in one place.
  type Output = std::result::Result<T::Output, Error>;
  type JsValue = Settled;

  fn compute(&mut self) -> Result<Self::Output> {
    Ok(
      panic::catch(|| {
        self.control.checkpoint()?;
        self.task.perform(&self.control)
      })
      .unwrap_or_else(|p| Err(p.into())),
    )
  }

  fn resolve(&mut self, env: Env, outcome: Self::Output) -> Result<Settled> {
    let value = outcome.and_then(|output| {
      let js = panic::catch(|| self.task.complete(&env, output))??;
      Ok(unsafe { T::JsValue::to_napi_value(env.raw(), js)? })
    });
    panic::catch(|| self.settlement.0.settle(&env, value))
      .unwrap_or_else(|p| Err(rejection(&env, &Error::Panicked(p))))
  }
}

impl Settlement {
  fn settle(
    &mut self,
    env: &Env,
    value: std::result::Result<sys::napi_value, Error>,
  ) -> Result<Settled> {
    // Progress reports still queued go out first: none may follow the settlement.
    if let Some(progress) = self.progress.take() {
      progress.flush(env);
      progress.close();
    }
    let signal = self.signal.take();
    if let Some(signal) = &signal {
      signal.stop_listening(env)?;
    }
    let value = value.map_err(|failure| {
      let error = failure.to_js(env)?;
      if let (Error::Aborted, Some(signal)) = (&failure, &signal) {
        signal.set_cause(env, error)?;
      }
      Ok::<_, napi::Error>(error)
    });
    let Some(callback) = self.callback.take() else {
      return match value {
        Ok(value) => Ok(Settled(value)),
        Err(error) => Err(napi::Error::from(unsafe {
          Unknown::from_napi_value(env.raw(), error?)?
        })),
      };
    };
    // Node's convention: `(null, value)` on success, `(err)` alone on failure.
    let ok;
    let failed;
    let args: &[sys::napi_value] = match value {
      Ok(value) => {
        ok = [raw::null(env)?, value];
        &ok
      }
      Err(error) => {
        failed = [error?];
        &failed
      }
    };
    let scope = self
      .scope
      .as_ref()
      .expect("a callback always comes with a captured scope");
    scope.call(env, callback.get(env)?, args)?;
    Ok(Settled(raw::undefined(env)?))
  }
}

/// The napi-rs error that rejects a Promise with the JS error for `failure`.
fn rejection(env: &Env, failure: &Error) -> napi::Error {
  match failure
    .to_js(env)
    .and_then(|error| unsafe { Unknown::from_napi_value(env.raw(), error) })
  {
    Ok(error) => napi::Error::from(error),
    Err(e) => e,
  }
}

/// A caller's `AbortSignal`, listened to until the call settles.
struct Signal {
  signal: Rooted,
  /// `None` when the signal was aborted already: there is nothing to listen for.
  listener: Option<Rooted>,
}

impl Signal {
  fn listen(env: &Env, signal: sys::napi_value, flag: AbortFlag) -> Result<Self> {
    if !raw::instance_of(env, signal, "AbortSignal")? {
      let message = "The \"signal\" argument must be an instance of AbortSignal.";
      let error = raw::type_error(env, "ERR_INVALID_ARG_TYPE", message)?;
      return Err(napi::Error::from(unsafe {
        Unknown::from_napi_value(env.raw(), error)?
      }));
    }
    let rooted = Rooted::new(env, signal)?;
    if raw::truthy(env, raw::get(env, signal, "aborted")?)? {
      flag.raise();
      return Ok(Signal { signal: rooted, listener: None });
    }
    let listener = env
      .create_function_from_closure::<(), (), _>("onAbort", move |_| {
        flag.raise();
        Ok(())
      })?
      .raw();
    let once = raw::object(env)?;
    raw::set(env, once, "once", raw::boolean(env, true)?)?;
    let add = raw::get(env, signal, "addEventListener")?;
    check(raw::call(
      env,
      signal,
      add,
      &[raw::string(env, "abort")?, listener, once],
    ))?;
    Ok(Signal { signal: rooted, listener: Some(Rooted::new(env, listener)?) })
  }

  fn stop_listening(&self, env: &Env) -> Result<()> {
    let Some(listener) = &self.listener else {
      return Ok(());
    };
    let signal = self.signal.get(env)?;
    let remove = raw::get(env, signal, "removeEventListener")?;
    let args = [raw::string(env, "abort")?, listener.get(env)?];
    check(raw::call(env, signal, remove, &args))
  }

  /// `error.cause = signal.reason`, as Node's own aborted operations do.
  fn set_cause(&self, env: &Env, error: sys::napi_value) -> Result<()> {
    let signal = self.signal.get(env)?;
    raw::set(env, error, "cause", raw::get(env, signal, "reason")?)
  }
}

/// A JS value already made on the JS thread, handed to napi-rs as is.
struct Settled(sys::napi_value);

impl TypeName for Settled {
  fn type_name() -> &'static str {
    "unknown"
  }

  fn value_type() -> ValueType {
    ValueType::Unknown
  }
}

impl ToNapiValue for Settled {
  unsafe fn to_napi_value(_env: sys::napi_env, value: Self) -> Result<sys::napi_value> {
    Ok(value.0)
  }
}
