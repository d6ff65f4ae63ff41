//! baton: async context that survives every handoff between JavaScript and Rust.
//!
//! - `shared`: what every capability uses: capturing a call's async context and
//!   restoring it around callbacks, delivery from Rust threads to the JS thread, and
//!   keeping panics on the Rust side of the N-API boundary.
//! - `tasks`: background work on the libuv pool whose completion runs in the caller's
//!   async context.
//! - `pool`: the worker pool's dispatch core, shared with its worker threads.

// `#[napi]` registration is compiled out of unit tests, which leaves exports unused there.
#![cfg_attr(test, allow(dead_code))]

mod pool;
mod shared;
mod tasks;
