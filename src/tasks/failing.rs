use napi::bindgen_prelude::Function;
use napi::{Env, Error, Result};
use napi_derive::napi;

use super::{schedule, AbortFlag, BackgroundTask, Control, Hooks, Started};
use crate::shared::error::Failure;

/// A task whose work fails: the error path of every form.
pub struct Failing;

impl BackgroundTask for Failing {
  const TYPE: &'static str = "baton.failingTask";
  type Output = ();
  type JsValue = ();

  fn perform(&mut self, _control: &Control) -> std::result::Result<(), Failure> {
    Err(Error::from_reason("I am a failing task").into())
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
) -> Result<Started> {
  let hooks = Hooks { abort, on_progress, callback };
  schedule(&env, Failing, hooks)
}
