//! How a failed handoff reaches JavaScript: an `Error` object with a `code`, built on
//! the JS thread (JS values cannot be made anywhere else).

use std::ptr;

use napi::bindgen_prelude::{FromNapiValue, Unknown};
use napi::{sys, Env, Error, Result, Status};

use super::panic::Panic;

/// Why a piece of background work did not produce a value.
#[derive(Debug)]
pub enum Failure {
  /// The work returned an error of its own.
  Error(Error),
  /// The work panicked; the panic was caught on the Rust side.
  Panicked(Panic),
  /// The work saw its abort flag and stopped.
  Aborted,
}

impl From<Error> for Failure {
  fn from(e: Error) -> Self {
    Failure::Error(e)
  }
}

impl From<Panic> for Failure {
  fn from(p: Panic) -> Self {
    Failure::Panicked(p)
  }
}

/// The codes Rust gives the errors it makes: baton's own and the Node codes it uses.
/// The one catalog on the Rust side; `lib/shared/errors.js` is the JS one. A napi-rs
/// status name (`GenericFailure`, `InvalidArg`) is never a code.
pub mod code {
  /// A Rust panic, caught before it could cross into JavaScript.
  pub const PANIC: &str = "ERR_BATON_PANIC";
  /// Node's code for an aborted operation (what `fs` and `timers/promises` use).
  pub const ABORT: &str = "ABORT_ERR";
  /// Node's code for a number outside the range an argument accepts.
  pub const OUT_OF_RANGE: &str = "ERR_OUT_OF_RANGE";
}

impl Failure {
  /// Builds the JS `Error` for this failure. Must run on the JS thread.
  pub fn to_js(&self, env: &Env) -> Result<sys::napi_value> {
    match self {
      // The task's own error has no code: its status is napi-rs's, not a Node code.
      Failure::Error(e) => create_error(env, None, &e.reason),
      Failure::Panicked(Panic(message)) => create_error(
        env,
        Some(code::PANIC),
        &format!("baton task panicked: {message}"),
      ),
      Failure::Aborted => {
        let error = create_error(env, Some(code::ABORT), "The operation was aborted")?;
        set_string(env, error, "name", "AbortError")?;
        Ok(error)
      }
    }
  }
}

/// A JS string. (Made anew each time: before N-API 10 a reference cannot hold one.)
pub fn string(env: &Env, s: &str) -> Result<sys::napi_value> {
  let mut value = ptr::null_mut();
  check(unsafe {
    sys::napi_create_string_utf8(env.raw(), s.as_ptr().cast(), s.len() as isize, &mut value)
  })?;
  Ok(value)
}

fn set_string(env: &Env, object: sys::napi_value, key: &str, value: &str) -> Result<()> {
  let key = string(env, key)?;
  let value = string(env, value)?;
  check(unsafe { sys::napi_set_property(env.raw(), object, key, value) })
}

/// JS `null`.
pub fn null(env: &Env) -> Result<sys::napi_value> {
  let mut value = ptr::null_mut();
  check(unsafe { sys::napi_get_null(env.raw(), &mut value) })?;
  Ok(value)
}

/// JS `undefined`.
pub fn undefined(env: &Env) -> Result<sys::napi_value> {
  let mut value = ptr::null_mut();
  check(unsafe { sys::napi_get_undefined(env.raw(), &mut value) })?;
  Ok(value)
}

/// `new Error(message)`, with `error.code = code` when given.
pub fn create_error(env: &Env, code: Option<&str>, message: &str) -> Result<sys::napi_value> {
  let code = code.map(|code| string(env, code)).transpose()?;
  let message = string(env, message)?;
  let mut error = ptr::null_mut();
  check(unsafe {
    sys::napi_create_error(
      env.raw(),
      code.unwrap_or(ptr::null_mut()),
      message,
      &mut error,
    )
  })?;
  Ok(error)
}

/// `new RangeError(message)` with Node's `ERR_OUT_OF_RANGE`, as an error napi-rs throws
/// as is.
pub fn out_of_range(env: &Env, message: &str) -> Error {
  let made = string(env, code::OUT_OF_RANGE).and_then(|code| {
    let message = string(env, message)?;
    let mut error = ptr::null_mut();
    check(unsafe { sys::napi_create_range_error(env.raw(), code, message, &mut error) })?;
    Ok(error)
  });
  match made {
    Ok(error) => throwable(env, error),
    Err(e) => e,
  }
}

/// An `Error` that napi-rs throws as the JS value `error` itself (not one it makes with
/// its status name as the code).
pub fn throwable(env: &Env, error: sys::napi_value) -> Error {
  match unsafe { Unknown::from_napi_value(env.raw(), error) } {
    Ok(error) => Error::from(error),
    Err(e) => e,
  }
}

/// Turns an N-API status into a `Result`.
pub fn check(status: sys::napi_status) -> Result<()> {
  if status == sys::Status::napi_ok {
    Ok(())
  } else {
    Err(Error::new(
      Status::from(status),
      "N-API call failed".to_owned(),
    ))
  }
}
