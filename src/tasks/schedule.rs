//! The adapter from [`BackgroundTask`] to N-API async work: it captures the caller's
//! async context when the call is made and settles the call exactly once, inside that
//! context, through the callback or the Promise.
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
use std::rc::Rc;

use napi::bindgen_prelude::{Function, JsValue, ToNapiValue, TypeName};
use napi::{sys, Env, Result, ValueType};

use super::{AbortFlag, BackgroundTask, Control};
use crate::shared::channel::{self, Receiver};
use crate::shared::error::{check, null, string, undefined, Failure};
use crate::shared::panic;
use crate::shared::registry::TaskEntry;
use crate::shared::scope::{CallScope, JsThreadOnly, Rooted};

/// What a call hands over beside its task: all optional.
pub struct Hooks<'a> {
  /// Raised by the JS side when the caller's `AbortSignal` fires.
  pub abort: Option<&'a AbortFlag>,
  /// Called with a fraction in `[0, 1]` whenever `perform` reports progress.
  pub on_progress: Option<Function<'a>>,
  /// A Node-style `(err, value)` callback. Without it the call settles a Promise.
  pub callback: Option<Function<'a>>,
}

/// The JS-thread state of a scheduled call, shared by its async work and its abort flag.
pub struct Pending {
  env: sys::napi_env,
  /// Valid while `completion` is present: the work's completion takes that first.
  work: Cell<sys::napi_async_work>,
  /// `None` once the call has settled.
  completion: RefCell<Option<Completion>>,
}

/// How a call settles, and what it holds until then.
struct Completion {
  /// Present when a JS function will be called back; a Promise needs none, its
  /// continuations keep their own context.
  scope: Option<Rc<CallScope>>,
  target: Target,
  progress: Option<Receiver<f64>>,
  /// Listed in the registry until the call settles.
  _entry: TaskEntry,
}

enum Target {
  Callback(Rooted),
  Promise(sys::napi_deferred),
}

/// The task itself, on its way through the libuv pool and back.
struct Work<T: BackgroundTask> {
  task: T,
  control: Control,
  outcome: Option<std::result::Result<T::Output, Failure>>,
  pending: JsThreadOnly<Rc<Pending>>,
}

/// Queues `task` on the libuv pool. Must be called on the JS thread, during the call
/// whose context the callbacks should see. Returns the Promise, or `undefined` in
/// callback form.
pub fn schedule<T: BackgroundTask>(env: &Env, task: T, hooks: Hooks) -> Result<Started> {
  let scope = if hooks.callback.is_some() || hooks.on_progress.is_some() {
    Some(Rc::new(CallScope::capture(env, T::TYPE)?))
  } else {
    None
  };
  let (progress_tx, progress_rx) = match (hooks.on_progress, &scope) {
    (Some(on_progress), Some(scope)) => {
      let on_progress = Rooted::new(env, on_progress.raw())?;
      let scope = scope.clone();
      let (tx, rx) = channel::open(env, T::TYPE, move |env, fraction: f64| {
        let fraction = unsafe { f64::to_napi_value(env.raw(), fraction)? };
        scope.call(env, on_progress.get(env)?, &[fraction])
      })?;
      (Some(tx), Some(rx))
    }
    _ => (None, None),
  };
  let (target, started) = match hooks.callback {
    Some(callback) => (
      Target::Callback(Rooted::new(env, callback.raw())?),
      undefined(env)?,
    ),
    None => {
      let (mut deferred, mut promise) = (ptr::null_mut(), ptr::null_mut());
      check(unsafe { sys::napi_create_promise(env.raw(), &mut deferred, &mut promise) })?;
      (Target::Promise(deferred), promise)
    }
  };
  let pending = Rc::new(Pending {
    env: env.raw(),
    work: Cell::new(ptr::null_mut()),
    completion: RefCell::new(Some(Completion {
      scope,
      target,
      progress: progress_rx,
      _entry: TaskEntry::add(T::TYPE),
    })),
  });
  let work = Box::into_raw(Box::new(Work {
    task,
    control: Control {
      abort: hooks.abort.map(AbortFlag::shared),
      progress: progress_tx,
    },
    outcome: None,
    pending: JsThreadOnly(pending.clone()),
  }));
  let queued = string(env, T::TYPE).and_then(|name| {
    let mut handle = ptr::null_mut();
    check(unsafe {
      sys::napi_create_async_work(
        env.raw(),
        ptr::null_mut(),
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
  if let Some(flag) = hooks.abort {
    flag.attach(&pending);
  }
  Ok(Started(started))
}

/// On a libuv pool thread: touches only the task and its control, never the JS half.
unsafe extern "C" fn execute<T: BackgroundTask>(_env: sys::napi_env, data: *mut c_void) {
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
unsafe extern "C" fn complete<T: BackgroundTask>(
  env: sys::napi_env,
  status: sys::napi_status,
  data: *mut c_void,
) {
  let work = unsafe { Box::from_raw(data as *mut Work<T>) };
  // Nothing may unwind out of an N-API callback.
  let _ = panic::catch(|| finish(Env::from_raw(env), status, *work));
}

fn finish<T: BackgroundTask>(env: Env, status: sys::napi_status, mut work: Work<T>) {
  let pending = work.pending.0.clone();
  // Settled already (aborted): the result is dropped with the work.
  let completion = pending.completion.borrow_mut().take();
  unsafe { sys::napi_delete_async_work(env.raw(), pending.work.replace(ptr::null_mut())) };
  let Some(completion) = completion else {
    return;
  };
  // Reports still queued go out before the outcome is decided: one may abort.
  completion.flush_progress(&env);
  // An abort raised before this point came first, and wins over a finished result.
  let aborted = status == sys::Status::napi_cancelled || work.control.checkpoint().is_err();
  let outcome = match work.outcome.take() {
    Some(outcome) if !aborted => outcome,
    _ => Err(Failure::Aborted),
  };
  let value = outcome.and_then(|output| {
    let js = panic::catch(|| work.task.complete(&env, output))??;
    Ok(unsafe { T::JsValue::to_napi_value(env.raw(), js)? })
  });
  completion.settle(&env, value);
}

impl Pending {
  /// Settles the call as aborted unless it has settled; a work still queued is
  /// cancelled, one running is left to end on its own, its result dropped.
  pub fn abort(&self, env: &Env) {
    let Some(completion) = self.completion.borrow_mut().take() else {
      return;
    };
    // Refused unless no thread has started the work; its completion then still runs.
    unsafe { sys::napi_cancel_async_work(self.env, self.work.get()) };
    completion.settle(env, Err(Failure::Aborted));
  }
}

impl Completion {
  fn flush_progress(&self, env: &Env) {
    if let Some(progress) = &self.progress {
      progress.flush(env);
    }
  }

  /// Settles the call. Nothing is left to report a failure to: if the JS calls fail
  /// (the thread's environment is being torn down), the call goes with it.
  fn settle(self, env: &Env, value: std::result::Result<sys::napi_value, Failure>) {
    let _ = panic::catch(|| self.try_settle(env, value));
  }

  fn try_settle(
    self,
    env: &Env,
    value: std::result::Result<sys::napi_value, Failure>,
  ) -> Result<()> {
    // Progress reports still queued go out first: none may follow the settlement.
    if let Some(progress) = &self.progress {
      progress.flush(env);
      progress.close();
    }
    match self.target {
      Target::Promise(deferred) => match value {
        Ok(value) => check(unsafe { sys::napi_resolve_deferred(env.raw(), deferred, value) }),
        Err(failure) => {
          // A deferred must be settled even if the error cannot be made.
          let error = failure.to_js(env).or_else(|_| undefined(env))?;
          check(unsafe { sys::napi_reject_deferred(env.raw(), deferred, error) })
        }
      },
      Target::Callback(ref callback) => {
        // Node's convention: `(null, value)` on success, `(err)` alone on failure.
        let ok;
        let failed;
        let args: &[sys::napi_value] = match value {
          Ok(value) => {
            ok = [null(env)?, value];
            &ok
          }
          Err(failure) => {
            failed = [failure.to_js(env)?];
            &failed
          }
        };
        let scope = self
          .scope
          .as_ref()
          .expect("a callback always comes with a captured scope");
        scope.call(env, callback.get(env)?, args)
      }
    }
  }
}

/// What a task function returns: its Promise, or `undefined` in callback form.
pub struct Started(sys::napi_value);

impl TypeName for Started {
  fn type_name() -> &'static str {
    "unknown"
  }

  fn value_type() -> ValueType {
    ValueType::Unknown
  }
}

impl ToNapiValue for Started {
  unsafe fn to_napi_value(_env: sys::napi_env, value: Self) -> Result<sys::napi_value> {
    Ok(value.0)
  }
}
