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

/// Progress the way napi-rs users report it: a `ThreadsafeFunction` called from the
/// pool thread, whose calls napi-rs makes with `napi_call_function`. It calls
/// `on_progress` with `steps` fractions ending at 1 and resolves to `steps`; the calls
/// may arrive after the Promise settles.
pub struct PlainProgress {
  steps: u32,
  on_progress: napi::threadsafe_function::ThreadsafeFunction<f64, (), f64, napi::Status, false>,
}

impl Task for PlainProgress {
  type Output = u32;
  type JsValue = u32;

  fn compute(&mut self) -> Result<u32> {
    for step in 1..=self.steps {
      let fraction = f64::from(step) / f64::from(self.steps);
      self.on_progress.call(
        fraction,
        napi::threadsafe_function::ThreadsafeFunctionCallMode::NonBlocking,
      );
    }
    Ok(self.steps)
  }

  fn resolve(&mut self, _env: Env, output: u32) -> Result<u32> {
    Ok(output)
  }
}

#[napi]
pub fn plain_progress_task(
  steps: u32,
  on_progress: napi::threadsafe_function::ThreadsafeFunction<f64, (), f64, napi::Status, false>,
) -> AsyncTask<PlainProgress> {
  AsyncTask::new(PlainProgress { steps, on_progress })
}
