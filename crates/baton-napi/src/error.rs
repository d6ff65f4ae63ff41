//! How a failed task reaches JavaScript: an `Error` object with a `code`, built on
//! the JS thread (JS values cannot be made anywhere else).

use std::borrow::Cow;
use std::fmt;

use napi::bindgen_prelude::{FromNapiValue, Unknown};
use napi::{sys, Env, Result};

use crate::panic::Panic;
use crate::raw::{self, set, string, ErrorClass};

/// The `code` of every error this crate makes, one catalog: baton's own and the Node
/// codes it uses. A napi-rs status name (`GenericFailure`, `InvalidArg`) is never one.
///
/// ```
/// assert_eq!(baton_napi::Code::Panic.as_str(), "ERR_BATON_PANIC");
/// assert_eq!(baton_napi::Code::Abort.as_str(), "ABORT_ERR");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
  /// `ERR_BATON_PANIC`: Rust code panicked; the panic was caught on the Rust side.
  Panic,
  /// `ABORT_ERR`: Node's code for an aborted operation (what `fs` and
  /// `timers/promises` use), on an error named `AbortError`.
  Abort,
  /// `ERR_OUT_OF_RANGE`: Node's code for a number outside an argument's range.
  OutOfRange,
  /// `ERR_INVALID_ARG_TYPE`: Node's code for an argument of the wrong type.
  InvalidArgType,
}

impl Code {
  /// The code as JavaScript sees it in `error.code`.
  pub const fn as_str(self) -> &'static str {
    match self {
      Code::Panic => "ERR_BATON_PANIC",
      Code::Abort => "ABORT_ERR",
      Code::OutOfRange => "ERR_OUT_OF_RANGE",
      Code::InvalidArgType => "ERR_INVALID_ARG_TYPE",
    }
  }
}

/// Why a task did not produce a value: what [`Task::perform`](crate::Task::perform)
/// returns on failure. `?` converts a [`napi::Error`] and [`Aborted`] into it.
///
/// ```
/// use baton_napi::Error;
///
/// let failed = Error::with_code("ERR_NOT_FOUND", "no such key");
/// assert_eq!(failed.to_string(), "no such key");
/// let plain: Error = napi::Error::from_reason("disk full").into();
/// assert_eq!(plain.to_string(), "disk full");
/// ```
#[derive(Debug)]
pub enum Error {
  /// The task failed: `new Error(message)`, with `error.code = code` when there is one.
  Failed {
    /// The error's message.
    message: String,
    /// The error's `code`, if any.
    code: Option<Cow<'static, str>>,
  },
  /// The task panicked: an error with code [`Code::Panic`].
  Panicked(Panic),
  /// The task saw its abort flag and stopped: an `AbortError` with code
  /// [`Code::Abort`] (and `cause = signal.reason` when it had a signal).
  Aborted,
}

impl Error {
  /// A failure with a message and no code.
  pub fn new(message: impl Into<String>) -> Self {
    Error::Failed { message: message.into(), code: None }
  }

  /// A failure with a message and an `error.code` (Node's convention: `ERR_*`).
  pub fn with_code(code: impl Into<Cow<'static, str>>, message: impl Into<String>) -> Self {
    Error::Failed { message: message.into(), code: Some(code.into()) }
  }

  /// Builds the JS `Error` for this failure. Must run on the JS thread.
  pub(crate) fn to_js(&self, env: &Env) -> Result<sys::napi_value> {
    match self {
      Error::Failed { message, code } => {
        raw::error(env, ErrorClass::Error, code.as_deref(), message)
      }
      Error::Panicked(_) => raw::error(
        env,
        ErrorClass::Error,
        Some(Code::Panic.as_str()),
        &self.to_string(),
      ),
      Error::Aborted => {
        let error = raw::error(
          env,
          ErrorClass::Error,
          Some(Code::Abort.as_str()),
          "The operation was aborted",
        )?;
        set(env, error, "name", string(env, "AbortError")?)?;
        Ok(error)
      }
    }
  }
}

impl fmt::Display for Error {
  fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    match self {
      Error::Failed { message, .. } => f.write_str(message),
      Error::Panicked(Panic(message)) => write!(f, "baton task panicked: {message}"),
      Error::Aborted => f.write_str("The operation was aborted"),
    }
  }
}

impl std::error::Error for Error {}

/// A napi-rs error's reason becomes the message; its status is not a JS code.
impl From<napi::Error> for Error {
  fn from(e: napi::Error) -> Self {
    Error::new(e.reason)
  }
}

impl From<Panic> for Error {
  fn from(p: Panic) -> Self {
    Error::Panicked(p)
  }
}

/// What [`Control::checkpoint`](crate::Control::checkpoint) returns once the task is
/// aborted; `?` turns it into [`Error::Aborted`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Aborted;

impl From<Aborted> for Error {
  fn from(_: Aborted) -> Self {
    Error::Aborted
  }
}

/// A `RangeError` with code `ERR_OUT_OF_RANGE`, for a `#[napi]` function to return:
/// napi-rs throws it as is (its own errors would carry a status name as their code).
///
/// ```no_run
/// use napi::{Env, Result};
/// use napi_derive::napi;
///
/// #[napi]
/// pub fn percent(env: Env, n: u32) -> Result<u32> {
///   if n > 100 {
///     let message = format!("The value of \"n\" is out of range. It must be <= 100. Received {n}");
///     return Err(baton_napi::out_of_range(&env, &message));
///   }
///   Ok(n)
/// }
/// ```
pub fn out_of_range(env: &Env, message: &str) -> napi::Error {
  throwable(
    env,
    raw::error(
      env,
      ErrorClass::RangeError,
      Some(Code::OutOfRange.as_str()),
      message,
    ),
  )
}

/// A `TypeError` with code `ERR_INVALID_ARG_TYPE`, for a `#[napi]` function to return
/// (see [`out_of_range`]).
pub fn invalid_arg_type(env: &Env, message: &str) -> napi::Error {
  throwable(
    env,
    raw::error(
      env,
      ErrorClass::TypeError,
      Some(Code::InvalidArgType.as_str()),
      message,
    ),
  )
}

/// An error napi-rs throws as the JS value `error` itself.
fn throwable(env: &Env, error: Result<sys::napi_value>) -> napi::Error {
  match error.and_then(|error| unsafe { Unknown::from_napi_value(env.raw(), error) }) {
    Ok(error) => napi::Error::from(error),
    Err(e) => e,
  }
}
