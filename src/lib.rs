//! baton: async context that survives every handoff between JavaScript and Rust.
//!
//! Built on the `baton-napi` crate (crates/baton-napi), which captures a call's async
//! context and restores it around callbacks, delivers from Rust threads to the JS
//! thread, and keeps panics on the Rust side of the N-API boundary; this addon uses
//! only its public API, as any napi-rs addon would.
//!
//! - `shared`: the registry of live resources and tasks.
//! - `tasks`: baton's background tasks, one small file each.
//! - `pool`: the worker pool's dispatch core, shared with its worker threads.

// `#[napi]` registration is compiled out of unit tests, which leaves exports unused there.
#![cfg_attr(test, allow(dead_code))]

mod pool;
mod shared;
mod tasks;
