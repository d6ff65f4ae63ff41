//! A small napi-rs addon built on baton-napi: one background task and one thread-safe
//! callback fired from a long-lived Rust thread, each next to the plain napi-rs code
//! it replaces (`plain*`), which loses the caller's async context on Node 24/26.

use std::sync::mpsc;

use baton_napi::{
  schedule, AbortHandle, CallOptions, Caller, Control, Error, Scheduled, Task, ThreadsafeCallback,
};
use napi::bindgen_prelude::{AsyncTask, FnArgs, Function, FunctionRef, Null, Object};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Status};
use napi_derive::napi;

/// The sum 1 + 2 + ... + n, computed on a libuv pool thread.
pub struct SumTo(u32);

impl Task for SumTo {
  const RESOURCE_TYPE: &'static str = "example.SumTo";
  type Output = f64;
  type JsValue = f64;

  fn perform(&mut self, control: &Control) -> Result<f64, Error> {
    let mut sum = 0.0;
    for i in 1..=self.0 {
      if i % 100_000 == 0 {
        control.checkpoint()?;
        control.report_progress(f64::from(i) / f64::from(self.0));
      }
      sum += f64::from(i);
    }
    Ok(sum)
  }

  fn complete(&mut self, _env: &Env, sum: f64) -> napi::Result<f64> {
    Ok(sum)
  }
}

/// `sumTo(n, signal?, onProgress?, callback?)`: `callback(err, sum)`, or a Promise
/// when there is no callback.
#[napi]
pub fn sum_to(
  env: Env,
  n: u32,
  signal: Option<Object>,
  on_progress: Option<Function>,
  callback: Option<Function>,
) -> napi::Result<Scheduled> {
  let options = CallOptions { callback, on_progress, signal, ..Default::default() };
  schedule(&env, SumTo(n), options)
}

/// `sumToCancellable(n, callback)`: `sumTo` in callback form without a signal, returning
/// a `Cancel` whose `cancel()` settles the call at once with an AbortError (the sum
/// itself runs on to its end: it is given no flag to poll).
#[napi]
pub fn sum_to_cancellable(env: Env, n: u32, callback: Function) -> napi::Result<Cancel> {
  let options = CallOptions { callback: Some(callback), ..Default::default() };
  let handle = schedule(&env, SumTo(n), options)?.abort_handle();
  Ok(Cancel { handle })
}

/// The handle `sumToCancellable` returns.
#[napi]
pub struct Cancel {
  handle: AbortHandle,
}

#[napi]
impl Cancel {
  /// Settles the call as aborted, unless it has settled.
  #[napi]
  pub fn cancel(&self, env: Env) {
    self.handle.abort(&env);
  }
}

/// A long-lived Rust thread that calls `onTick(i)` for i in 0..n on each
/// `tick(n)`, every call in the async context of the `tick` that asked for it.
#[napi]
pub struct Ticker {
  on_tick: ThreadsafeCallback<u32>,
  requests: mpsc::Sender<(u32, Caller<u32>)>,
}

#[napi]
impl Ticker {
  #[napi(constructor)]
  pub fn new(env: Env, on_tick: Function) -> napi::Result<Self> {
    let on_tick = ThreadsafeCallback::new(&env, "example.Ticker", on_tick)?;
    let (requests, received) = mpsc::channel::<(u32, Caller<u32>)>();
    std::thread::spawn(move || {
      for (n, caller) in received {
        for i in 0..n {
          caller.call(i);
        }
      }
    });
    Ok(Ticker { on_tick, requests })
  }

  /// Asks the thread for `n` ticks.
  #[napi]
  pub fn tick(&self, env: Env, n: u32) -> napi::Result<()> {
    let caller = self.on_tick.caller(&env)?;
    self
      .requests
      .send((n, caller))
      .map_err(|_| napi::Error::from_reason("the ticker thread has ended"))
  }

  /// No tick is delivered after this.
  #[napi]
  pub fn close(&self) {
    self.on_tick.close();
  }
}

/// The plain napi-rs way of the same task: `AsyncTask` calling a callback from its
/// completion.
pub struct PlainSumTo {
  n: u32,
  callback: Option<FunctionRef<FnArgs<(Null, f64)>, ()>>,
}

impl napi::Task for PlainSumTo {
  type Output = f64;
  type JsValue = ();

  fn compute(&mut self) -> napi::Result<f64> {
    Ok((1..=self.n).map(f64::from).sum())
  }

  fn resolve(&mut self, env: Env, sum: f64) -> napi::Result<()> {
    if let Some(callback) = self.callback.take() {
      callback.borrow_back(&env)?.call((Null, sum).into())?;
    }
    Ok(())
  }
}

/// `plainSumTo(n, callback)`.
#[napi]
pub fn plain_sum_to(
  n: u32,
  callback: Function<FnArgs<(Null, f64)>, ()>,
) -> napi::Result<AsyncTask<PlainSumTo>> {
  let callback = Some(callback.create_ref()?);
  Ok(AsyncTask::new(PlainSumTo { n, callback }))
}

/// `plainTicks(n, onTick)`: the plain napi-rs way of calling JS from a Rust thread, a
/// `ThreadsafeFunction`.
#[napi]
pub fn plain_ticks(n: u32, on_tick: ThreadsafeFunction<u32, (), u32, Status, false>) {
  std::thread::spawn(move || {
    for i in 0..n {
      on_tick.call(i, ThreadsafeFunctionCallMode::NonBlocking);
    }
  });
}
