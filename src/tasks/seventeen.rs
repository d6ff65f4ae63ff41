use baton_napi::{Control, Error, Scheduled, Task};
use napi::bindgen_prelude::Function;
use napi::{Env, Result};
use napi_derive::napi;

use super::{schedule, AbortFlag};

/// The smallest useful task: it answers 17. Used to measure the round trip.
pub struct Seventeen;

impl Task for Seventeen {
  const RESOURCE_TYPE: &'static str = "baton.performAsyncTask";
  type Output = u32;
  type JsValue = u32;

  fn perform(&mut self, _control: &Control) -> std::result::Result<u32, Error> {
    Ok(17)
  }

  fn complete(&mut self, _env: &Env, output: u32) -> Result<u32> {
    Ok(output)
  }
}

#[napi]
pub fn perform_async_task(
  env: Env,
  abort: Option<&AbortFlag>,
  on_progress: Option<Function>,
  callback: Option<Function>,
) -> Result<Scheduled> {
  schedule(&env, Seventeen, abort, on_progress, callback)
}
