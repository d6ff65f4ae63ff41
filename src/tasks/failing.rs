use baton_napi::{Control, Error, Scheduled, Task};
use napi::bindgen_prelude::Function;
use napi::{Env, Result};
use napi_derive::napi;

use super::{schedule, AbortFlag};

/// A task whose work fails: the error path of every form.
pub struct Failing;

impl Task for Failing {
  const RESOURCE_TYPE: &'static str = "baton.failingTask";
  type Output = ();
  type JsValue = ();

  fn perform(&mut self, _control: &Control) -> std::result::Result<(), Error> {
    Err(Error::new("I am a failing task"))
  }

  fn complete(&mut self, _env: &Env, _output: ()) -> Result<()> {
    unreachable!("perform never succeeds")
  }
}

#[napi]
pub fn failing_task(
  env: Env,
  abort: Option<&AbortFlag>,
  on_progress: Option<Function>,
  callback: Option<Function>,
) -> Result<Scheduled> {
  schedule(&env, Failing, abort, on_progress, callback)
}
