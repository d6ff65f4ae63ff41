//! Delivery of values from any thread to the JS thread, in batches.
//!
//! A thread-safe function is used only as a wake-up: values wait in a queue of our
//! own, and one wake-up delivers all that are waiting. That keeps the cost per value
//! low when many arrive at once, and lets the JS thread empty the queue on its own
//! whenever it needs to (a task flushes its last progress reports before its
//! completion callback, so no report arrives after it).
//!
//! A receiver takes the values one by one ([`open`]) or a whole batch at once
//! ([`open_batch`], for a receiver that hands many values to JavaScript in one call).
//! This is the layer under [`ThreadsafeCallback`](crate::ThreadsafeCallback), for
//! addons that deliver to Rust code on the JS thread rather than straight to one JS
//! function (baton's worker pool hands whole batches to its JS side this way).
//!
//! The rules, the same for every channel:
//! - **Batching.** Only a send onto an empty queue wakes the JS thread; one wake-up
//!   delivers everything waiting, in the order sent.
//! - **Keeping the process alive.** An open channel keeps the event loop alive until
//!   [`Receiver::set_ref`] says otherwise (ref it while something is expected, unref
//!   it when idle, as a server socket does).
//! - **Shutdown.** [`Receiver::close`] (or dropping the receiver) stops delivery: later
//!   sends return `false` and drop their value, values still queued are dropped
//!   ([`Receiver::flush`] first to deliver them). When the JS thread's environment is
//!   torn down (a worker thread terminated), the channel closes itself the same way.
//! - **Errors.** An error returned by the deliver function, or a panic in it, becomes
//!   an uncaught exception on the JS thread (a panic with code `ERR_BATON_PANIC`).
//!
//! ```no_run
//! use napi::{Env, Result};
//!
//! fn start(env: &Env) -> Result<baton_napi::channel::Receiver<String>> {
//!   let (sender, receiver) = baton_napi::channel::open(env, "example.lines", |_env, line: String| {
//!     println!("{line}");
//!     Ok(())
//!   })?;
//!   std::thread::spawn(move || {
//!     sender.send("from a Rust thread".to_owned());
//!   });
//!   // Delivery goes on while the receiver is kept (in a `#[napi]` class, say).
//!   Ok(receiver)
//! }
//! ```

use std::cell::RefCell;
use std::ffi::c_void;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;

use napi::{sys, Env, JsError, Result};
use parking_lot::{Mutex, RwLock};

use crate::error::Code;
use crate::panic;
use crate::raw::{check, string};

struct Shared<T> {
  queue: Mutex<Vec<T>>,
  /// `None` once the receiver has closed the channel. A sender holds it shared through
  /// its wake-up call, so that a close cannot release the function during the call; the
  /// receiver's flush does not take it, so a sender still in that call (a system call
  /// that wakes the JS thread, slow on some machines) cannot hold up the very delivery
  /// it woke the thread for.
  wake: RwLock<Option<Tsfn>>,
}

struct Tsfn(sys::napi_threadsafe_function);

// SAFETY: thread-safe functions exist to be called from any thread, also at once.
unsafe impl Send for Tsfn {}
unsafe impl Sync for Tsfn {}

/// The sending side of a channel: cheap to clone, usable from any thread.
pub struct Sender<T> {
  shared: Arc<Shared<T>>,
}

impl<T> Clone for Sender<T> {
  fn clone(&self) -> Self {
    Sender { shared: self.shared.clone() }
  }
}

impl<T: Send + 'static> Sender<T> {
  /// Queues `value` for the JS thread. Returns `false` when the channel is closed
  /// (the value is dropped).
  pub fn send(&self, value: T) -> bool {
    let wake = self.shared.wake.read();
    let Some(Tsfn(tsfn)) = *wake else {
      return false;
    };
    let first = {
      let mut queue = self.shared.queue.lock();
      queue.push(value);
      queue.len() == 1
    };
    if first {
      let status = unsafe {
        sys::napi_call_threadsafe_function(
          tsfn,
          ptr::null_mut(),
          sys::ThreadsafeFunctionCallMode::nonblocking,
        )
      };
      // The function is closing (its thread's environment is being torn down): nothing
      // queued will be delivered, and the next send tries again and fails too.
      if status != sys::Status::napi_ok {
        self.shared.queue.lock().clear();
        return false;
      }
    }
    true
  }
}

type Deliver<T> = Box<dyn FnMut(&Env, Vec<T>) -> Result<()>>;

struct Inbox<T> {
  shared: Arc<Shared<T>>,
  deliver: RefCell<Deliver<T>>,
}

/// The receiving side of a channel, owned by its JS thread (neither `Send` nor `Sync`).
/// Dropping it closes the channel.
pub struct Receiver<T> {
  inbox: Rc<Inbox<T>>,
}

/// Opens a channel whose values are handed to `deliver`, one call each, on the JS
/// thread of `env` (the current one). `name` is the resource type `async_hooks` sees
/// for the wake-ups. While open, the channel keeps the event loop alive (see
/// [`Receiver::set_ref`]).
pub fn open<T: Send + 'static>(
  env: &Env,
  name: &str,
  mut deliver: impl FnMut(&Env, T) -> Result<()> + 'static,
) -> Result<(Sender<T>, Receiver<T>)> {
  open_batch(env, name, move |env, batch: Vec<T>| {
    batch.into_iter().try_for_each(|value| deliver(env, value))
  })
}

/// Like [`open`], but `deliver` gets every value waiting at a wake-up in one batch.
///
/// ```no_run
/// use napi::{Env, Result};
///
/// fn start(env: &Env) -> Result<baton_napi::channel::Receiver<u32>> {
///   let (sender, receiver) = baton_napi::channel::open_batch(env, "example.sum", |_env, batch: Vec<u32>| {
///     println!("{} values, sum {}", batch.len(), batch.iter().sum::<u32>());
///     Ok(())
///   })?;
///   std::thread::spawn(move || (0..1000).for_each(|i| { sender.send(i); }));
///   Ok(receiver)
/// }
/// ```
pub fn open_batch<T: Send + 'static>(
  env: &Env,
  name: &str,
  deliver: impl FnMut(&Env, Vec<T>) -> Result<()> + 'static,
) -> Result<(Sender<T>, Receiver<T>)> {
  let shared = Arc::new(Shared { queue: Mutex::default(), wake: RwLock::new(None) });
  let inbox = Rc::new(Inbox {
    shared: shared.clone(),
    deliver: RefCell::new(Box::new(deliver)),
  });
  let resource_name = string(env, name)?;
  // The function's context holds one strong count of the inbox, given back in `finalize`.
  let context = Box::into_raw(Box::new(inbox.clone()));
  let mut tsfn = ptr::null_mut();
  let status = unsafe {
    sys::napi_create_threadsafe_function(
      env.raw(),
      ptr::null_mut(),
      ptr::null_mut(),
      resource_name,
      0,
      1,
      context.cast(),
      Some(finalize::<T>),
      context.cast(),
      Some(call_js::<T>),
      &mut tsfn,
    )
  };
  if let Err(e) = check(status) {
    drop(unsafe { Box::from_raw(context) });
    return Err(e);
  }
  *shared.wake.write() = Some(Tsfn(tsfn));
  Ok((Sender { shared }, Receiver { inbox }))
}

impl<T> Receiver<T> {
  /// Delivers, now, every value that is waiting.
  pub fn flush(&self, env: &Env) {
    self.inbox.flush(env);
  }

  /// Whether the channel keeps the event loop alive while open (it does at first).
  pub fn set_ref(&self, env: &Env, keep_alive: bool) -> Result<()> {
    let Some(Tsfn(tsfn)) = *self.inbox.shared.wake.read() else {
      return Ok(());
    };
    check(unsafe {
      if keep_alive {
        sys::napi_ref_threadsafe_function(env.raw(), tsfn)
      } else {
        sys::napi_unref_threadsafe_function(env.raw(), tsfn)
      }
    })
  }

  /// Stops accepting values; the event loop is no longer kept alive by this channel.
  /// Values still queued are dropped: `flush` first to deliver them.
  pub fn close(&self) {
    let wake = self.inbox.shared.wake.write().take();
    self.inbox.shared.queue.lock().clear();
    if let Some(Tsfn(tsfn)) = wake {
      unsafe {
        sys::napi_release_threadsafe_function(tsfn, sys::ThreadsafeFunctionReleaseMode::release)
      };
    }
  }
}

impl<T> Drop for Receiver<T> {
  fn drop(&mut self) {
    self.close();
  }
}

impl<T> Inbox<T> {
  fn flush(&self, env: &Env) {
    let batch = std::mem::take(&mut *self.shared.queue.lock());
    if batch.is_empty() {
      return;
    }
    // A deliver callback that re-enters a flush of its own channel finds it borrowed;
    // its values stay queued for the next wake-up instead of being reordered.
    let Ok(mut deliver) = self.deliver.try_borrow_mut() else {
      let mut queue = self.shared.queue.lock();
      let newer = std::mem::replace(&mut *queue, batch);
      queue.extend(newer);
      return;
    };
    // Reported like an exception thrown by a callback: as an uncaught exception (a JS
    // exception the deliver function caught as an error is thrown again as it was).
    match panic::catch(|| deliver(env, batch)) {
      Ok(Ok(())) => {}
      Ok(Err(e)) => unsafe { JsError::from(e).throw_into(env.raw()) },
      Err(panic::Panic(message)) => {
        let message = format!("baton channel panicked: {message}");
        let _ = env.throw_error(&message, Some(Code::Panic.as_str()));
      }
    }
  }
}

unsafe extern "C" fn call_js<T>(
  env: sys::napi_env,
  _js_callback: sys::napi_value,
  context: *mut c_void,
  _data: *mut c_void,
) {
  // A null env means the function is being torn down: nothing to deliver to.
  if env.is_null() {
    return;
  }
  let inbox = unsafe { &*(context as *const Rc<Inbox<T>>) };
  inbox.flush(&Env::from_raw(env));
}

unsafe extern "C" fn finalize<T>(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
  let inbox = unsafe { Box::from_raw(data as *mut Rc<Inbox<T>>) };
  // Node also finalizes the function when its thread's environment is torn down (a
  // worker terminated) without the receiver closing it: senders must stop calling it.
  *inbox.shared.wake.write() = None;
  inbox.shared.queue.lock().clear();
}
