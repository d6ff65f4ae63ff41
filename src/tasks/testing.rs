//! A task that panics on purpose, for the tests that prove a panic becomes an error
//! and never aborts the process. Not part of the public JS API.

use baton_napi::{Control, Error, Scheduled, Task};
use napi::bindgen_prelude::{Function, ToNapiValue};
use napi::{sys, Env, Result};
use napi_derive::napi;

use super::{schedule, AbortFlag};

/// Where the task panics.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Phase {
  Perform,
  Complete,
  /// Turning `complete`'s value into a JS value.
  Convert,
}

pub struct Panicking {
  phase: Phase,
}

/// A value whose conversion to JS panics.
pub struct Unconvertible;

impl ToNapiValue for Unconvertible {
  unsafe fn to_napi_value(_env: sys::napi_env, _value: Self) -> Result<sys::napi_value> {
    panic!("on purpose in the conversion");
  }
}

impl Task for Panicking {
  const RESOURCE_TYPE: &'static str = "baton.panickingTask";
  type Output = ();
  type JsValue = Unconvertible;

  fn perform(&mut self, _control: &Control) -> std::result::Result<(), Error> {
    if self.phase == Phase::Perform {
      panic!("on purpose in perform");
    }
    Ok(())
  }

  fn complete(&mut self, _env: &Env, _output: ()) -> Result<Unconvertible> {
    if self.phase == Phase::Complete {
      panic!("on purpose in complete");
    }
    Ok(Unconvertible)
  }
}

/// `phase` is `"perform"`, `"complete"` or `"convert"`: where the task panics.
#[napi]
pub fn panicking_task(
  env: Env,
  phase: String,
  abort: Option<&AbortFlag>,
  on_progress: Option<Function>,
  callback: Option<Function>,
) -> Result<Scheduled> {
  let phase = match phase.as_str() {
    "perform" => Phase::Perform,
    "complete" => Phase::Complete,
    _ => Phase::Convert,
  };
  schedule(&env, Panicking { phase }, abort, on_progress, callback)
}
