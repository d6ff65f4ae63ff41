//! A task that panics on purpose, for the tests that prove a panic becomes an error
//! and never aborts the process. Not part of the public JS API.

use baton_napi::{Control, Error, Scheduled, Task};
use napi::bindgen_prelude::Function;
use napi::{Env, Result};
use napi_derive::napi;

use super::{schedule, AbortFlag};

pub struct Panicking {
  in_complete: bool,
}

impl Task for Panicking {
  const RESOURCE_TYPE: &'static str = "baton.panickingTask";
  type Output = ();
  type JsValue = ();

  fn perform(&mut self, _control: &Control) -> std::result::Result<(), Error> {
    if !self.in_complete {
      panic!("on purpose in perform");
    }
    Ok(())
  }

  fn complete(&mut self, _env: &Env, _output: ()) -> Result<()> {
    panic!("on purpose in complete");
  }
}

/// `phase` is `"perform"` or `"complete"`: where the task panics.
#[napi]
pub fn panicking_task(
  env: Env,
  phase: String,
  abort: Option<&AbortFlag>,
  on_progress: Option<Function>,
  callback: Option<Function>,
) -> Result<Scheduled> {
  let task = Panicking { in_complete: phase == "complete" };
  schedule(&env, task, abort, on_progress, callback)
}
