//! How a failed handoff reaches JavaScript: an `Error` object with a `code`, built on
//! the JS thread (JS values cannot be made anywhere else).

use std::ptr;

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

/// Code of the error that reports a caught Rust panic.
pub const PANIC_CODE: &str = "ERR_BATON_PANIC";
/// Node's code and name for an aborted operation (what `fs` and `timers/promises` use).
pub const ABORT_CODE: &str = "ABORT_ERR";

impl Failure {
  /// Builds the JS `Error` for this failure. Must run on the JS thread.
  pub fn to_js(&self, env: &Env) -> Result<sys::napi_value> {
    match self {
      Failure::Error(e) => create_error(env, e.status.as_ref(), &e.reason),
      Failure::Panicked(Panic(message)) => {
        create_error(env, PANIC_CODE, &format!("baton task panicked: {message}"))
      }
      Failure::Aborted => {
        let error = create_error(env, ABORT_CODE, "The operation was aborted")?;
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

/// `new Error(message)` with `error.code = code`.
pub fn create_error(env: &Env, code: &str, message: &str) -> Result<sys::napi_value> {
  let code = string(env, code)?;
  let message = string(env, message)?;
  let mut error = ptr::null_mut();
  check(unsafe { sys::napi_create_error(env.raw(), code, message, &mut error) })?;
  Ok(error)
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
