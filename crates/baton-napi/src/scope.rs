//! Capturing the async context of a call, and restoring it around later callbacks.
//!
//! Node restores a call's context for native code only when it enters JavaScript
//! through `napi_make_callback` with an async context made by `napi_async_init` while
//! the call was being made. napi-rs's own ways in (async-work completion, thread-safe
//! functions) do not: on Node 24/26 their callbacks see no store at all, on 20/22 the
//! store of wherever the thread-safe function was created. napi-rs wraps none of these
//! calls, so they are made here through `napi::sys`.

use std::cell::Cell;
use std::ptr;

use napi::{sys, Env, Result};

use crate::raw::{self, check, function, global, string};

/// One call's async context: captured on the JS thread when the call is made,
/// entered around each callback the call makes later, destroyed when dropped.
///
/// Neither `Send` nor `Sync`: it must be made, used and dropped on its JS thread.
pub(crate) struct CallScope {
  env: sys::napi_env,
  context: sys::napi_async_context,
}

impl CallScope {
  /// Captures the current async context. `resource_type` is the type that
  /// `async_hooks` init hooks see (as with `new AsyncResource(type)`), `resource` the
  /// object they get; null makes Node create a fresh one. Stores of the hooks engine
  /// (Node 20/22) are copied onto that object by the init hook.
  pub(crate) fn capture(env: &Env, resource_type: &str, resource: sys::napi_value) -> Result<Self> {
    let name = string(env, resource_type)?;
    let mut context = ptr::null_mut();
    check(unsafe { sys::napi_async_init(env.raw(), resource, name, &mut context) })?;
    Ok(CallScope { env: env.raw(), context })
  }

  /// Calls `func(...args)` inside the captured context.
  ///
  /// An exception thrown by `func` becomes an uncaught exception, reported inside the
  /// captured context, as for a throwing callback of `fs` or `timers`.
  pub(crate) fn call(
    &self,
    env: &Env,
    func: sys::napi_value,
    args: &[sys::napi_value],
  ) -> Result<()> {
    let status = self.make_callback(env, func, args)?;
    if status == sys::Status::napi_pending_exception {
      return self.report_uncaught(env);
    }
    check(status)
  }

  fn make_callback(
    &self,
    env: &Env,
    func: sys::napi_value,
    args: &[sys::napi_value],
  ) -> Result<sys::napi_status> {
    // napi_make_callback needs an object receiver; the global is what Node's own
    // callbacks would see in sloppy mode.
    let receiver = global(env)?;
    let mut result = ptr::null_mut();
    Ok(unsafe {
      sys::napi_make_callback(
        env.raw(),
        self.context,
        receiver,
        func,
        args.len(),
        args.as_ptr(),
        &mut result,
      )
    })
  }

  /// Left pending, the exception would be reported only after the native callback
  /// returns: outside the captured context (no store at all on Node 24/26), and with
  /// the env still marked as throwing, so an `uncaughtException` handler that calls
  /// into the addon would get the same exception thrown back at it. Instead, clear it
  /// and raise it again from a native function entered through the captured context.
  fn report_uncaught(&self, env: &Env) -> Result<()> {
    let error = take_exception(env)?;
    let report = function(env, "reportUncaught", Some(report_uncaught))?;
    check(self.make_callback(env, report, &[error])?)
  }
}

/// Calls `func(...args)` in the async context current now, for a callback made from
/// inside a scope Node opened for the call's own async resource (its work's
/// completion). A throw becomes an uncaught exception, reported at once in that same
/// context, for the reasons [`CallScope::call`] gives.
pub(crate) fn call_here(env: &Env, func: sys::napi_value, args: &[sys::napi_value]) -> Result<()> {
  let status = raw::call(env, global(env)?, func, args);
  if status == sys::Status::napi_pending_exception {
    let error = take_exception(env)?;
    return check(unsafe { sys::napi_fatal_exception(env.raw(), error) });
  }
  check(status)
}

fn take_exception(env: &Env) -> Result<sys::napi_value> {
  let mut error = ptr::null_mut();
  check(unsafe { sys::napi_get_and_clear_last_exception(env.raw(), &mut error) })?;
  Ok(error)
}

/// Whether the scope Node opens for an async resource's own callbacks (an N-API async
/// work's completion) restores the context the resource was made in. It does on the
/// async_hooks engine (Node 20/22 by default, 24/26 with `--no-async-context-frame`),
/// where every store is copied onto each new resource and read back from the resource
/// being run. It does not on AsyncContextFrame (24/26 by default, 22 with
/// `--experimental-async-context-frame`): Node enters no frame there, so only
/// `napi_make_callback` with a context of `napi_async_init` brings the caller's back.
///
/// Asked once per thread, of that thread's own environment, as `lib/context/engine`
/// asks; a probe that fails answers `false`, which only costs a scope per call.
pub(crate) fn resource_scope_keeps_context(env: &Env) -> bool {
  thread_local! {
    static KEEPS: Cell<Option<bool>> = const { Cell::new(None) };
  }
  if let Some(keeps) = KEEPS.get() {
    return keeps;
  }
  let keeps = probe_engine(env).unwrap_or_else(|_| {
    // A probe that threw leaves nothing pending behind it.
    let _ = take_exception(env);
    false
  });
  KEEPS.set(Some(keeps));
  keeps
}

/// The async_hooks engine keeps a store entered inside `runInAsyncScope()` on the
/// resource itself, so a later `runInAsyncScope()` sees it; AsyncContextFrame does not.
/// The storage is disabled afterwards, which turns the hooks engine's hooks off again if
/// no other storage needs them.
const ENGINE_PROBE: &str = "(() => {
  const { AsyncLocalStorage, AsyncResource } = process.getBuiltinModule('node:async_hooks')
  const storage = new AsyncLocalStorage()
  const resource = new AsyncResource('baton_napi.EngineProbe', { requireManualDestroy: true })
  resource.runInAsyncScope(() => storage.enterWith(true))
  const kept = resource.runInAsyncScope(() => storage.getStore()) === true
  resource.emitDestroy()
  storage.disable()
  return kept
})()";

fn probe_engine(env: &Env) -> Result<bool> {
  let mut result = ptr::null_mut();
  check(unsafe { sys::napi_run_script(env.raw(), string(env, ENGINE_PROBE)?, &mut result) })?;
  let mut kept = false;
  check(unsafe { sys::napi_get_value_bool(env.raw(), result, &mut kept) })?;
  Ok(kept)
}

/// `reportUncaught(error)`: hands `error` to Node's uncaught-exception handling.
unsafe extern "C" fn report_uncaught(
  env: sys::napi_env,
  info: sys::napi_callback_info,
) -> sys::napi_value {
  let mut argc = 1;
  let mut error = ptr::null_mut();
  let status = unsafe {
    sys::napi_get_cb_info(
      env,
      info,
      &mut argc,
      &mut error,
      ptr::null_mut(),
      ptr::null_mut(),
    )
  };
  if status == sys::Status::napi_ok && argc == 1 {
    unsafe { sys::napi_fatal_exception(env, error) };
  }
  ptr::null_mut()
}

impl Drop for CallScope {
  fn drop(&mut self) {
    unsafe { sys::napi_async_destroy(self.env, self.context) };
  }
}

/// A JS value kept alive past the call that handed it over (a strong `napi_ref`).
/// Like [`CallScope`], it belongs to its JS thread.
pub(crate) struct Rooted {
  env: sys::napi_env,
  reference: sys::napi_ref,
}

impl Rooted {
  pub(crate) fn new(env: &Env, value: sys::napi_value) -> Result<Self> {
    let mut reference = ptr::null_mut();
    check(unsafe { sys::napi_create_reference(env.raw(), value, 1, &mut reference) })?;
    Ok(Rooted { env: env.raw(), reference })
  }

  pub(crate) fn get(&self, env: &Env) -> Result<sys::napi_value> {
    let mut value = ptr::null_mut();
    check(unsafe { sys::napi_get_reference_value(env.raw(), self.reference, &mut value) })?;
    Ok(value)
  }
}

impl Drop for Rooted {
  fn drop(&mut self) {
    unsafe { sys::napi_delete_reference(self.env, self.reference) };
  }
}

/// Carries JS-thread-only state through a structure that must be `Send`.
///
/// napi-rs moves a whole task to a libuv pool thread for `compute`, but the fields
/// wrapped here are created, used and dropped only on the JS thread (napi-rs drops a
/// finished task in its completion callback); the pool thread never touches them.
pub(crate) struct JsThreadOnly<T>(pub T);

// SAFETY: see the type's documentation; every owner keeps the JS-thread-only rule.
unsafe impl<T> Send for JsThreadOnly<T> {}
