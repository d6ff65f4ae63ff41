//! The plain napi-rs path, kept as the baseline that benchmarks and tests compare
//! against: a `Task` that calls its callback from the async-work completion with
//! napi-rs's own `Function::call`, as napi-rs users write it. It loses the caller's
//! async context on Node 24/26. Not part of the public JS API.

use napi::bindgen_prelude::{AsyncTask, FnArgs, Function, FunctionRef, Null};
use napi::{Env, Result, Task};
use napi_derive::napi;

type Callback<'a> = Function<'a, FnArgs<(Null, u32)>, ()>;

pub struct PlainSeventeen {
  callback: Option<FunctionRef<FnArgs<(Null, u32)>, ()>>,
}

impl Task for PlainSeventeen {
  type Output = u32;
  type JsValue = u32;

  fn compute(&mut self) -> Result<u32> {
    Ok(17)
  }

  fn resolve(&mut self, env: Env, output: u32) -> Result<u32> {
    if let Some(callback) = self.callback.take() {
      callback.borrow_back(&env)?.call((Null, output).into())?;
    }
    Ok(output)
  }
}

#[napi]
pub fn plain_async_task(callback: Option<Callback>) -> Result<AsyncTask<PlainSeventeen>> {
  let callback = callback.map(|f| f.create_ref()).transpose()?;
  Ok(AsyncTask::new(PlainSeventeen { callback }))
}
