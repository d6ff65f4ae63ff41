//! Background tasks and thread-safe callbacks for [napi-rs](https://napi.rs) addons
//! that call JavaScript back **in the caller's async context**: the
//! `AsyncLocalStorage` store (a request id, a trace span) that was current when the
//! JS code called your addon is current again in your callbacks, on Node 20, 22, 24
//! and 26.
//!
//! napi-rs's own ways back into JavaScript, the completion of an `AsyncTask` and a
//! `ThreadsafeFunction`'s calls, enter it with no context at all on Node 24/26 (and,
//! for thread-safe functions, with the context where the function was created on
//! 20/22). This crate captures the context with `napi_async_init` when the call is
//! made and enters it with `napi_make_callback` for every callback, then destroys it
//! (`napi_async_destroy`), as Node's own `fs` and `timers` do.
//!
//! - [`Task`] and [`schedule`]: work on a libuv pool thread ([`Task::perform`]) whose
//!   result is turned into a JS value on the JS thread ([`Task::complete`]). A call
//!   with a Node-style callback gets `(err, value)` in its context; one without gets
//!   a Promise. Cancellation ([`AbortFlag`], an `AbortSignal`) and progress reports
//!   ([`Control`]) come with it.
//! - [`ThreadsafeCallback`]: a JS function that long-lived Rust threads call, each
//!   call in the context of the JS call that asked for it ([`Caller`]).
//! - [`channel`]: the batched delivery from any thread to the JS thread that both are
//!   built on.
//!
//! A panic in your code never unwinds into Node: it becomes a JS error with code
//! `ERR_BATON_PANIC` ([`Code::Panic`]).
//!
//! ```no_run
//! use baton_napi::{schedule, CallOptions, Control, Error, Scheduled, Task};
//! use napi::bindgen_prelude::Function;
//! use napi::{Env, Result};
//! use napi_derive::napi;
//!
//! pub struct Answer;
//!
//! impl Task for Answer {
//!   const RESOURCE_TYPE: &'static str = "example.Answer";
//!   type Output = u32;
//!   type JsValue = u32;
//!
//!   fn perform(&mut self, _control: &Control) -> std::result::Result<u32, Error> {
//!     Ok(42)
//!   }
//!
//!   fn complete(&mut self, _env: &Env, output: u32) -> Result<u32> {
//!     Ok(output)
//!   }
//! }
//!
//! /// `answer([callback])`: `callback(null, 42)` in the caller's context, or a Promise.
//! #[napi]
//! pub fn answer(env: Env, callback: Option<Function>) -> Result<Scheduled> {
//!   schedule(&env, Answer, CallOptions { callback, ..Default::default() })
//! }
//! ```

#![warn(missing_docs)]

mod callback;
pub mod channel;
mod error;
mod panic;
mod raw;
mod schedule;
mod scope;
mod task;

pub use callback::{Caller, ThreadsafeCallback};
pub use error::{invalid_arg_type, out_of_range, Aborted, Code, Error};
pub use panic::Panic;
pub use schedule::{schedule, AbortHandle, CallOptions, Scheduled};
pub use task::{AbortFlag, Control, Task};

// The README's examples, compiled as doc tests so that the migration notes stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
