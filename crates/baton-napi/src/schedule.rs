//! The adapter from [`BackgroundTask`] to napi-rs's `Task`: it captures the caller's
//! async context when the call is made and settles the call exactly once, inside that
//! context, through the callback or the Promise.

use std::rc::Rc;

use napi::bindgen_prelude::{
  AsyncTask, FromNapiValue, Function, JsValue, ToNapiValue, TypeName, Unknown,
};
use napi::{sys, Env, Error, Result, Status, Task, ValueType};

use super::{AbortFlag, BackgroundTask, Control};
use crate::shared::channel::{self, Receiver};
use crate::shared::error::{null, undefined, Failure};
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

/// A task on its way through the libuv pool, with what it needs to settle.
pub struct Scheduled<T: BackgroundTask> {
  task: T,
  control: Control,
  js: JsThreadOnly<Completion>,
  /// Listed in the registry while scheduled; napi-rs drops the task when it settles.
  _entry: TaskEntry,
}

/// The JS-thread half of a scheduled task.
struct Completion {
  /// Present when a JS function will be called back; a Promise needs none, its
  /// continuations keep their own context.
  scope: Option<Rc<CallScope>>,
  callback: Option<Rooted>,
  progress: Option<Receiver<f64>>,
}

/// Queues `task` on the libuv pool. Must be called on the JS thread, during the call
/// whose context the callbacks should see.
pub fn schedule<T: BackgroundTask>(
  env: &Env,
  task: T,
  hooks: Hooks,
) -> Result<AsyncTask<Scheduled<T>>> {
  let scope = if hooks.callback.is_some() || hooks.on_progress.is_some() {
    Some(Rc::new(CallScope::capture(env, T::TYPE)?))
  } else {
    None
  };
  let callback = hooks
    .callback
    .map(|f| Rooted::new(env, f.raw()))
    .transpose()?;
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
  Ok(AsyncTask::new(Scheduled {
    task,
    control: Control {
      abort: hooks.abort.map(AbortFlag::shared),
      progress: progress_tx,
    },
    js: JsThreadOnly(Completion { scope, callback, progress: progress_rx }),
    _entry: TaskEntry::add(T::TYPE),
  }))
}

impl<T: BackgroundTask> Task for Scheduled<T> {
  // Failures travel as values so that `resolve` settles every outcome in one place.
  type Output = std::result::Result<T::Output, Failure>;
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
    panic::catch(|| self.js.0.settle(&env, value))
      .unwrap_or_else(|p| Err(Error::new(Status::GenericFailure, p.0)))
  }
}

impl Completion {
  fn settle(
    &mut self,
    env: &Env,
    value: std::result::Result<sys::napi_value, Failure>,
  ) -> Result<Settled> {
    // Progress reports still queued go out first: none may follow the settlement.
    if let Some(progress) = self.progress.take() {
      progress.flush(env);
      progress.close();
    }
    let Some(callback) = self.callback.take() else {
      return match value {
        Ok(value) => Ok(Settled(value)),
        Err(failure) => Err(Error::from(unsafe {
          Unknown::from_napi_value(env.raw(), failure.to_js(env)?)?
        })),
      };
    };
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
    scope.call(env, callback.get(env)?, args)?;
    // The Promise napi-rs made for this call is dropped by the JS side in callback form.
    Ok(Settled(undefined(env)?))
  }
}

/// A JS value already made on the JS thread, handed to napi-rs as is.
pub struct Settled(sys::napi_value);

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
