//! Scheduling a [`Task`] as N-API async work: the caller's async context is captured
//! when the call is made, and the call settles exactly once, inside that context,
//! through the callback or the Promise.
//!
//! The settlement is decided on the JS thread by whichever comes first: the work's
//! completion, or an abort. An abort settles the call at once, wherever the work is:
//! still queued for a libuv thread (the work is cancelled), running a step that cannot
//! stop (its result is dropped when it ends), or finished but not yet completed (an
//! abort raised before the completion runs wins). napi-rs's `AsyncTask` can only settle
//! from its completion, so the work is made here through `napi::sys`.

use std::cell::{Cell, RefCell};
use std::ffi::c_void;
use std::ptr;
use std::rc::{Rc, Weak};

use napi::bindgen_prelude::{Function, JsValue, Object, ToNapiValue, TypeName};
use napi::{sys, Env, Result, ValueType};

use crate::channel::{self, Receiver};
use crate::error::{invalid_arg_type, Error};
use crate::panic;
use crate::raw::{self, check};
use crate::scope::{self, CallScope, JsThreadOnly, Rooted};
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
  /// Called on the JS thread once the call has settled, however (also at once on an
  /// abort, while a running `perform` may still be ending): for bookkeeping of your
  /// own, such as a list of calls in flight.
  pub on_settled: Option<Box<dyn FnOnce()>>,
}

/// The `async_hooks` type of the N-API async work of a call whose resource of the
/// author's type is its captured scope.
const WORK_TYPE: &str = "baton_napi.Work";

/// A scheduled call, as a `#[napi]` function returns it: a Promise for JavaScript, or
/// `undefined` when the call passed a callback.
pub struct Scheduled {
  returned: sys::napi_value,
  pending: Weak<Pending>,
}

/// Settles a scheduled call as aborted, from the JS thread; see
/// [`Scheduled::abort_handle`].
#[derive(Clone)]
pub struct AbortHandle(Weak<Pending>);

/// Queues `task` on the libuv pool. Call it on the JS thread, from the `#[napi]`
/// function whose caller's async context the callbacks should see.
///
/// - With `options.callback`, the call returns `undefined` and the callback gets
///   `(null, value)` or `(error)` exactly once, never synchronously, in the caller's
///   async context (also on Node 24/26, where napi-rs's own completion has none). A
///   callback that throws raises an uncaught exception in that same context.
/// - Without it, the call returns a Promise; its continuations keep their own context.
/// - `async_hooks` sees one resource of type [`Task::RESOURCE_TYPE`] per call,
///   triggered by the caller and destroyed once the call has settled, and the
///   callbacks run inside it. Where the N-API async work's completion has the caller's
///   context (a call without `on_progress`, `signal` or `abort` on the async_hooks
///   engine; or a Promise, whose continuations keep their own), it is the async work
///   itself; elsewhere it is the caller's context, captured (`napi_async_init`) and
///   entered around each callback (`napi_make_callback`), and the work beside it is of
///   type `baton_napi.Work`.
/// - When the thread's JS environment exits (`process.exit()`, an uncaught exception),
///   every call's [`Control::checkpoint`] fails from then on, so that the exit does
///   not wait for the work: the first call on a thread adds a `process` `exit`
///   listener for that.
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
/// ) -> Result<Scheduled> {
///   schedule(&env, Double(x), CallOptions { signal, callback, ..Default::default() })
/// }
/// ```
pub fn schedule<T: Task>(env: &Env, task: T, options: CallOptions) -> Result<Scheduled> {
  // Refused before anything is made: a refused call leaves no trace.
  if let Some(signal) = &options.signal {
    if !raw::instance_of(env, signal.raw(), "AbortSignal")? {
      let message = "The \"signal\" argument must be an instance of AbortSignal.";
      return Err(invalid_arg_type(env, message));
    }
  }
  let abort = match (&options.abort, &options.signal) {
    (Some(flag), _) => Some(flag.clone()),
    (None, Some(_)) => Some(AbortFlag::new()),
    (None, None) => None,
  };
  // The Promise, where there is one, is the work's resource object, as with napi-rs's
  // `AsyncTask`: one object fewer per call. A callback's work gets a fresh object, which
  // the async_hooks engine's init hooks give the caller's stores.
  let (target, returned, resource) = match options.callback {
    Some(callback) => (
      Target::Callback(Rooted::new(env, callback.raw())?),
      raw::undefined(env)?,
      None,
    ),
    None => {
      let (mut deferred, mut promise) = (ptr::null_mut(), ptr::null_mut());
      check(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) })?;
      (Target::Promise(deferred), promise, Some(promise))
    }
  };
  // A captured scope costs a resource of its own and a scope around each callback, so
  // it is made only where the work's own resource cannot stand in for it: progress is
  // delivered outside the work's completion, so is a settlement by an abort, and on
  // AsyncContextFrame not even the completion gets the caller's frame.
  let scope_needed = options.on_progress.is_some()
    || (matches!(target, Target::Callback(_))
      && (abort.is_some() || !scope::resource_scope_keeps_context(env)));
  // Beside a scope, the work and the scope share one resource object: both are made
  // here, in the same context, so whatever init hooks record on it is the same for
  // both, and Node need not make a second object (measured: about 300 instructions).
  let resource = match resource {
    None if scope_needed => raw::object(env)?,
    resource => resource.unwrap_or(ptr::null_mut()),
  };
  let scope = if scope_needed {
    Some(Rc::new(CallScope::capture(
      env,
      T::RESOURCE_TYPE,
      resource,
    )?))
  } else {
    None
  };
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
  let has_scope = scope.is_some();
  let pending = Rc::new(Pending {
    env: env.raw(),
    resource_type: T::RESOURCE_TYPE,
    work: Cell::new(ptr::null_mut()),
    abort: abort.clone(),
    settlement: RefCell::new(Some(Settlement {
      scope,
      target,
      progress: progress_rx,
      signal: None,
      on_settled: options.on_settled,
    })),
  });
  if let (Some(signal), Some(flag)) = (options.signal, &abort) {
    let signal = Signal::listen(env, signal.raw(), flag.clone(), Rc::downgrade(&pending))?;
    if let Some(settlement) = pending.settlement.borrow_mut().as_mut() {
      settlement.signal = Some(signal);
    }
  }
  // Every work polls its thread's exit flag too, so that the process's exit can stop it.
  let exit = at_exit::flag(env)?;
  let work = Box::into_raw(Box::new(Work {
    task,
    control: Control { abort, exit: Some(exit), progress: progress_tx },
    outcome: None,
    pending: JsThreadOnly(pending.clone()),
  }));
  // One resource of the author's type per call: the captured scope when there is one
  // (the callbacks run inside it), else the work itself (its completion calls back).
  let work_type = if has_scope {
    WORK_TYPE
  } else {
    T::RESOURCE_TYPE
  };
  let queued = raw::string(env, work_type).and_then(|name| {
    let mut handle = ptr::null_mut();
    check(unsafe {
      sys::napi_create_async_work(
        env.raw(),
        resource,
        name,
        Some(execute::<T>),
        Some(complete::<T>),
        work.cast(),
        &mut handle,
      )
    })?;
    pending.work.set(handle);
    check(unsafe { sys::napi_queue_async_work(env.raw(), handle) }).inspect_err(|_| unsafe {
      sys::napi_delete_async_work(env.raw(), handle);
    })
  });
  if let Err(e) = queued {
    // Never queued: nothing will complete it. Its Promise is dropped unsettled with it.
    drop(unsafe { Box::from_raw(work) });
    return Err(e);
  }
  Ok(Scheduled { returned, pending: Rc::downgrade(&pending) })
}

impl Scheduled {
  /// A handle that settles this call as aborted, for an abort that comes from
  /// somewhere other than [`CallOptions::signal`] (a `cancel()` method, say).
  ///
  /// ```no_run
  /// use baton_napi::{schedule, AbortHandle, CallOptions, Control, Error, Scheduled, Task};
  /// use napi::{Env, Result};
  ///
  /// struct Forever;
  ///
  /// impl Task for Forever {
  ///   const RESOURCE_TYPE: &'static str = "example.Forever";
  ///   type Output = ();
  ///   type JsValue = ();
  ///
  ///   fn perform(&mut self, control: &Control) -> std::result::Result<(), Error> {
  ///     loop {
  ///       control.checkpoint()?;
  ///     }
  ///   }
  ///
  ///   fn complete(&mut self, _env: &Env, _output: ()) -> Result<()> {
  ///     Ok(())
  ///   }
  /// }
  ///
  /// fn start(env: &Env) -> Result<(Scheduled, AbortHandle)> {
  ///   let abort = baton_napi::AbortFlag::new();
  ///   let scheduled = schedule(env, Forever, CallOptions { abort: Some(abort), ..Default::default() })?;
  ///   let handle = scheduled.abort_handle();
  ///   // Later, on the JS thread: `handle.abort(env)` raises the flag and settles the
  ///   // call with an AbortError now; `perform` stops at its next checkpoint.
  ///   Ok((scheduled, handle))
  /// }
  /// ```
  ///
  /// Ask for it before the `#[napi]` function returns: a call with a callback and no
  /// [`CallOptions::abort`] or [`CallOptions::signal`] would be called back from its
  /// work's completion only, so it captures the caller's context here (`async_hooks`
  /// then sees a second resource of the task's type for it, the one its callback runs
  /// in).
  pub fn abort_handle(&self) -> AbortHandle {
    if let Some(pending) = self.pending.upgrade() {
      pending.prepare_abort();
    }
    AbortHandle(self.pending.clone())
  }
}

impl AbortHandle {
  /// Raises the call's abort flag (if it has one, see [`CallOptions::abort`]) and
  /// settles the call as aborted now, unless it has settled. A work still queued is
  /// cancelled; one running is left to end on its own, and its result is dropped.
  /// Call it on the JS thread, not from inside `abort()` of an `AbortController` (the
  /// callback would run from there): `process.nextTick` first, as Node's APIs do.
  pub fn abort(&self, env: &Env) {
    if let Some(pending) = self.0.upgrade() {
      pending.abort(env);
    }
  }
}

impl TypeName for Scheduled {
  fn type_name() -> &'static str {
    "Promise<unknown> | undefined"
  }

  fn value_type() -> ValueType {
    ValueType::Unknown
  }
}

impl ToNapiValue for Scheduled {
  unsafe fn to_napi_value(_env: sys::napi_env, value: Self) -> Result<sys::napi_value> {
    Ok(value.returned)
  }
}

/// The JS-thread state of a scheduled call, shared by its async work and whatever can
/// abort it.
struct Pending {
  env: sys::napi_env,
  resource_type: &'static str,
  /// Valid while `settlement` is present: the work's completion takes that first.
  work: Cell<sys::napi_async_work>,
  abort: Option<AbortFlag>,
  /// `None` once the call has settled.
  settlement: RefCell<Option<Settlement>>,
}

/// How a call settles, and what it holds until then.
struct Settlement {
  /// Present when a JS function will be called back; a Promise needs none, its
  /// continuations keep their own context.
  scope: Option<Rc<CallScope>>,
  target: Target,
  progress: Option<Receiver<f64>>,
  signal: Option<Signal>,
  on_settled: Option<Box<dyn FnOnce()>>,
}

enum Target {
  Callback(Rooted),
  Promise(sys::napi_deferred),
}

/// The task itself, on its way through the libuv pool and back.
struct Work<T: Task> {
  task: T,
  control: Control,
  outcome: Option<std::result::Result<T::Output, Error>>,
  pending: JsThreadOnly<Rc<Pending>>,
}

/// On a libuv pool thread: touches only the task and its control, never the JS half.
unsafe extern "C" fn execute<T: Task>(_env: sys::napi_env, data: *mut c_void) {
  let work = unsafe { &mut *(data as *mut Work<T>) };
  let (task, control) = (&mut work.task, &work.control);
  work.outcome = Some(
    panic::catch(|| {
      control.checkpoint()?;
      task.perform(control)
    })
    .unwrap_or_else(|p| Err(p.into())),
  );
}

/// On the JS thread, once the work has run or was cancelled before it started.
unsafe extern "C" fn complete<T: Task>(
  env: sys::napi_env,
  status: sys::napi_status,
  data: *mut c_void,
) {
  let work = unsafe { Box::from_raw(data as *mut Work<T>) };
  // Nothing may unwind out of an N-API callback.
  let _ = panic::catch(|| finish(Env::from_raw(env), status, *work));
}

fn finish<T: Task>(env: Env, status: sys::napi_status, mut work: Work<T>) {
  let pending = work.pending.0.clone();
  // Settled already (aborted): the result is dropped with the work.
  let settlement = pending.settlement.borrow_mut().take();
  unsafe { sys::napi_delete_async_work(env.raw(), pending.work.replace(ptr::null_mut())) };
  let Some(settlement) = settlement else {
    return;
  };
  // Reports still queued go out before the outcome is decided: one may abort.
  settlement.flush_progress(&env);
  // An abort raised before this point came first, and wins over a finished result.
  let aborted = status == sys::Status::napi_cancelled || work.control.checkpoint().is_err();
  let outcome = match work.outcome.take() {
    Some(outcome) if !aborted => outcome,
    _ => Err(Error::Aborted),
  };
  // The conversion is the author's code too (a `ToNapiValue` of their own).
  let value = outcome.and_then(|output| {
    let converted = panic::catch(|| {
      let js = work.task.complete(&env, output)?;
      unsafe { T::JsValue::to_napi_value(env.raw(), js) }
    })?;
    Ok(converted?)
  });
  settlement.settle(&env, value);
}

impl Pending {
  /// Gives a callback that was to be called from the work's completion the scope that
  /// a settlement by an abort, from anywhere, needs.
  fn prepare_abort(&self) {
    let mut settlement = self.settlement.borrow_mut();
    let Some(settlement) = settlement.as_mut() else {
      return;
    };
    if settlement.scope.is_none() && matches!(settlement.target, Target::Callback(_)) {
      // Failing only while the environment is torn down, when no callback runs anyway.
      if let Ok(scope) = CallScope::capture(
        &Env::from_raw(self.env),
        self.resource_type,
        ptr::null_mut(),
      ) {
        settlement.scope = Some(Rc::new(scope));
      }
    }
  }

  fn abort(&self, env: &Env) {
    if let Some(flag) = &self.abort {
      flag.raise();
    }
    let Some(settlement) = self.settlement.borrow_mut().take() else {
      return;
    };
    // Refused unless no thread has started the work; its completion then still runs.
    unsafe { sys::napi_cancel_async_work(self.env, self.work.get()) };
    settlement.settle(env, Err(Error::Aborted));
  }
}

impl Settlement {
  fn flush_progress(&self, env: &Env) {
    if let Some(progress) = &self.progress {
      progress.flush(env);
    }
  }

  /// Settles the call. Nothing is left to report a failure to: if the JS calls fail
  /// (the thread's environment is being torn down), the call goes with it.
  fn settle(mut self, env: &Env, value: std::result::Result<sys::napi_value, Error>) {
    let on_settled = self.on_settled.take();
    let _ = panic::catch(|| self.try_settle(env, value));
    if let Some(on_settled) = on_settled {
      let _ = panic::catch(on_settled);
    }
  }

  fn try_settle(self, env: &Env, value: std::result::Result<sys::napi_value, Error>) -> Result<()> {
    // Progress reports still queued go out first: none may follow the settlement.
    if let Some(progress) = &self.progress {
      progress.flush(env);
      progress.close();
    }
    if let Some(signal) = &self.signal {
      signal.stop_listening(env)?;
    }
    let value = value.map_err(|failure| self.error(env, &failure));
    match self.target {
      Target::Promise(deferred) => match value {
        Ok(value) => check(unsafe { sys::napi_resolve_deferred(env.raw(), deferred, value) }),
        Err(error) => {
          // A deferred must be settled even if the error cannot be made.
          let error = error.or_else(|_| raw::undefined(env))?;
          check(unsafe { sys::napi_reject_deferred(env.raw(), deferred, error) })
        }
      },
      Target::Callback(ref callback) => {
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
        // Without a captured scope the call settles only from its work's completion
        // (an abort handle captures one), inside the work's own resource, which has the
        // caller's context.
        match &self.scope {
          Some(scope) => scope.call(env, callback.get(env)?, args),
          None => scope::call_here(env, callback.get(env)?, args),
        }
      }
    }
  }

  /// The JS error for `failure`; an abort's `cause` is the signal's reason, if any.
  fn error(&self, env: &Env, failure: &Error) -> Result<sys::napi_value> {
    let error = failure.to_js(env)?;
    if let (Error::Aborted, Some(signal)) = (failure, &self.signal) {
      signal.set_cause(env, error)?;
    }
    Ok(error)
  }
}

/// Stopping running work when its thread's JS environment exits. At `process.exit()`
/// (and after an uncaught exception) Node joins the libuv pool's threads before the
/// process ends, and env cleanup hooks come only after that: a work left running would
/// hold the exit up until it finished (measured: 27 s for three `fibonacci(100_000_000)`).
/// So every work of a thread polls one flag of that thread, and the first call
/// scheduled there adds a `process` `exit` listener that raises it; each work stops at
/// its next checkpoint, and every checkpoint fails from then on.
mod at_exit {
  use std::cell::RefCell;

  use napi::bindgen_prelude::JsValue;
  use napi::{Env, Result};

  use crate::raw::{self, check};
  use crate::task::AbortFlag;

  thread_local! {
    /// `None` until the thread's listener is added.
    static EXITING: RefCell<Option<AbortFlag>> = const { RefCell::new(None) };
  }

  /// The flag raised when this thread's environment exits.
  pub(super) fn flag(env: &Env) -> Result<AbortFlag> {
    if let Some(flag) = EXITING.with(|exiting| exiting.borrow().clone()) {
      return Ok(flag);
    }
    let flag = AbortFlag::new();
    let raised = flag.clone();
    let listener = env.create_function_from_closure::<(), (), _>("stopNativeWork", move |_| {
      raised.raise();
      Ok(())
    })?;
    let process = raw::get(env, raw::global(env)?, "process")?;
    let on = raw::get(env, process, "on")?;
    check(raw::call(
      env,
      process,
      on,
      &[raw::string(env, "exit")?, listener.raw()],
    ))?;
    EXITING.with(|exiting| *exiting.borrow_mut() = Some(flag.clone()));
    Ok(flag)
  }
}

/// Settles `call` as aborted on the next tick (unless it has settled by then).
fn abort_next_tick(env: &Env, call: Weak<Pending>) -> Result<()> {
  let settle = env.create_function_from_closure::<(), (), _>("settleAborted", move |ctx| {
    AbortHandle(call.clone()).abort(ctx.env);
    Ok(())
  })?;
  let process = raw::get(env, raw::global(env)?, "process")?;
  let next_tick = raw::get(env, process, "nextTick")?;
  check(raw::call(env, process, next_tick, &[settle.raw()]))
}

/// A caller's `AbortSignal`, listened to until the call settles.
struct Signal {
  signal: Rooted,
  /// `None` when the signal was aborted already: there is nothing to listen for.
  listener: Option<Rooted>,
}

impl Signal {
  /// Raises `flag` when `signal` fires (at once if it has), and settles the call on
  /// the next tick, as Node's own APIs never call back from inside `abort()`; an
  /// already aborted signal does not wait for a libuv thread either.
  fn listen(
    env: &Env,
    signal: sys::napi_value,
    flag: AbortFlag,
    call: Weak<Pending>,
  ) -> Result<Self> {
    let rooted = Rooted::new(env, signal)?;
    if raw::truthy(env, raw::get(env, signal, "aborted")?)? {
      flag.raise();
      abort_next_tick(env, call)?;
      return Ok(Signal { signal: rooted, listener: None });
    }
    let listener = env
      .create_function_from_closure::<(), (), _>("onAbort", move |ctx| {
        flag.raise();
        abort_next_tick(ctx.env, call.clone())
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
    // A fired `once` listener is gone already.
    if raw::truthy(env, raw::get(env, signal, "aborted")?)? {
      return Ok(());
    }
    let remove = raw::get(env, signal, "removeEventListener")?;
    let args = [raw::string(env, "abort")?, listener.get(env)?];
    check(raw::call(env, signal, remove, &args))
  }

  /// `error.cause = signal.reason`, as Node's own aborted operations do.
  fn set_cause(&self, env: &Env, error: sys::napi_value) -> Result<()> {
    let signal = self.signal.get(env)?;
    raw::define_hidden(env, error, "cause", raw::get(env, signal, "reason")?)
  }
}
