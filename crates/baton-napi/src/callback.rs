//! [`ThreadsafeCallback`]: a JS function that long-lived Rust threads call, each call
//! in the async context of the JS call that asked for it.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::HashMap;
use std::ptr;
use std::rc::Rc;
use std::sync::Arc;

use napi::bindgen_prelude::{Function, JsValue, ToNapiValue};
use napi::{Env, Result};

use crate::channel::{self, Receiver, Sender};
use crate::scope::{CallScope, Rooted};

/// A JS function that any thread may call, the napi-rs `ThreadsafeFunction` use case,
/// but where each call runs in the async context of a *submission*: the JS call during
/// which [`ThreadsafeCallback::caller`] was made (napi-rs's calls run in no context on
/// Node 24/26, and in the creation's on 20/22).
///
/// Made and owned on the JS thread. Each `caller()` captures the current async context
/// (an `async_hooks` resource of the callback's type, triggered by the caller) and
/// returns a [`Caller`], which is `Send` and `Clone`: move it into a Rust thread and
/// call it as often as needed; the context is destroyed once every clone is dropped.
///
/// The rules are those of baton's [`channel`](crate::channel):
/// - **Batching.** Calls are queued; one wake-up of the JS thread delivers all those
///   waiting, in order, each as `callback(value)` in its caller's context.
/// - **Keeping the process alive.** While any `Caller` is alive (a call may still
///   come), the callback keeps the event loop alive, as baton's pool does while a
///   task is out; with none, it does not. [`set_ref(false)`](Self::set_ref) lets the
///   process exit even while callers are alive.
/// - **Shutdown.** [`close`](Self::close) stops delivery at once: queued calls are
///   dropped and later ones return `false`. Dropping the `ThreadsafeCallback` closes
///   it only once its last `Caller` is gone, so a thread may go on calling after the
///   `#[napi]` function that started it returned. A JS thread's environment torn down
///   (a worker terminated) closes it too.
/// - **Errors.** A callback that throws raises an uncaught exception in its caller's
///   context, as Node's own callbacks do; a panic converting a value is reported as
///   an uncaught `ERR_BATON_PANIC` error.
///
/// ```no_run
/// use baton_napi::ThreadsafeCallback;
/// use napi::bindgen_prelude::Function;
/// use napi::{Env, Result};
/// use napi_derive::napi;
///
/// /// `ticks(n, onTick)`: a Rust thread calls `onTick(i)` n times, each call in the
/// /// async context of this call of `ticks`.
/// #[napi]
/// pub fn ticks(env: Env, n: u32, on_tick: Function) -> Result<()> {
///   let callback = ThreadsafeCallback::<u32>::new(&env, "example.ticks", on_tick)?;
///   let caller = callback.caller(&env)?;
///   std::thread::spawn(move || {
///     for i in 0..n {
///       caller.call(i);
///     }
///   });
///   Ok(())
/// }
/// ```
pub struct ThreadsafeCallback<T: Send + 'static> {
  state: Rc<State<T>>,
}

/// A handle on one submission's async context, for calling a [`ThreadsafeCallback`]
/// from any thread. Clones share the context.
pub struct Caller<T: Send + 'static> {
  submission: Arc<Submission<T>>,
}

impl<T: Send + 'static> Clone for Caller<T> {
  fn clone(&self) -> Self {
    Caller { submission: self.submission.clone() }
  }
}

struct Submission<T: Send + 'static> {
  id: u64,
  sender: Sender<Message<T>>,
}

enum Message<T> {
  /// `callback(value)` in the context of submission `id`.
  Call(u64, T),
  /// Every `Caller` of submission `id` is gone: its context can be destroyed.
  Release(u64),
}

/// The JS-thread state, shared by the handle and the channel's deliver function.
///
/// While the channel is open its deliver function holds the state, so a dropped
/// handle leaves delivery running for the callers still alive; closing the channel
/// ends that cycle. (Only when the environment is torn down with the channel open is
/// the state left unfreed: its contexts cannot be destroyed without the environment.)
struct State<T: Send + 'static> {
  resource_type: &'static str,
  callback: Rooted,
  /// `None` once closed. An `Rc` so that a flush holds no borrow while it delivers.
  receiver: RefCell<Option<Rc<Receiver<Message<T>>>>>,
  sender: Sender<Message<T>>,
  /// The async context of each submission with a live `Caller`.
  scopes: RefCell<HashMap<u64, Rc<CallScope>>>,
  next_id: Cell<u64>,
  keep_alive: Cell<bool>,
  /// Whether the `ThreadsafeCallback` itself is still held.
  held: Cell<bool>,
}

impl<T: ToNapiValue + Send + 'static> ThreadsafeCallback<T> {
  /// Wraps `callback` for calls from other threads. `resource_type` is the type
  /// `async_hooks` sees for each submission (name it after your addon).
  pub fn new(env: &Env, resource_type: &'static str, callback: Function) -> Result<Self> {
    let callback = Rooted::new(env, callback.raw())?;
    let slot: Rc<OnceCell<Rc<State<T>>>> = Rc::new(OnceCell::new());
    let target = slot.clone();
    let (sender, receiver) =
      channel::open(env, resource_type, move |env, message| match target.get() {
        Some(state) => state.deliver(env, message),
        None => Ok(()),
      })?;
    // No caller yet: nothing can come, nothing to wait for.
    receiver.set_ref(env, false)?;
    let state = Rc::new(State {
      resource_type,
      callback,
      receiver: RefCell::new(Some(Rc::new(receiver))),
      sender,
      scopes: RefCell::default(),
      next_id: Cell::new(1),
      keep_alive: Cell::new(true),
      held: Cell::new(true),
    });
    let _ = slot.set(state.clone());
    Ok(ThreadsafeCallback { state })
  }

  /// Captures the current async context as a submission and returns its caller. Call
  /// it on the JS thread, during the JS call whose context the calls should see.
  /// After [`close`](Self::close), the caller's calls return `false`.
  pub fn caller(&self, env: &Env) -> Result<Caller<T>> {
    let state = &self.state;
    if state.receiver.borrow().is_none() {
      // Closed: a caller whose calls are refused needs no context.
      let submission = Submission { id: 0, sender: state.sender.clone() };
      return Ok(Caller { submission: Arc::new(submission) });
    }
    let id = state.next_id.get();
    state.next_id.set(id + 1);
    let scope = Rc::new(CallScope::capture(
      env,
      state.resource_type,
      ptr::null_mut(),
    )?);
    let first = {
      let mut scopes = state.scopes.borrow_mut();
      scopes.insert(id, scope);
      scopes.len() == 1
    };
    if first {
      state.update_ref(env)?;
    }
    let submission = Submission { id, sender: state.sender.clone() };
    Ok(Caller { submission: Arc::new(submission) })
  }

  /// Whether live callers keep the event loop alive (they do at first).
  pub fn set_ref(&self, env: &Env, keep_alive: bool) -> Result<()> {
    self.state.keep_alive.set(keep_alive);
    self.state.update_ref(env)
  }

  /// Delivers, now, every call that is waiting.
  pub fn flush(&self, env: &Env) {
    let receiver = self.state.receiver.borrow().clone();
    if let Some(receiver) = receiver {
      receiver.flush(env);
    }
  }

  /// Stops delivery: queued calls are dropped, later ones return `false`, and every
  /// submission's context is destroyed.
  pub fn close(&self) {
    self.state.close();
  }
}

impl<T: Send + 'static> Drop for ThreadsafeCallback<T> {
  fn drop(&mut self) {
    self.state.held.set(false);
    if self.state.scopes.borrow().is_empty() {
      self.state.close();
    }
  }
}

impl<T: Send + 'static> Caller<T> {
  /// Queues `callback(value)`, to run on the JS thread in this caller's submission
  /// context. Returns `false` (dropping the value) once the callback is closed.
  pub fn call(&self, value: T) -> bool {
    self
      .submission
      .sender
      .send(Message::Call(self.submission.id, value))
  }
}

impl<T: Send + 'static> Drop for Submission<T> {
  fn drop(&mut self) {
    self.sender.send(Message::Release(self.id));
  }
}

impl<T: Send + 'static> State<T> {
  fn deliver(&self, env: &Env, message: Message<T>) -> Result<()>
  where
    T: ToNapiValue,
  {
    match message {
      Message::Call(id, value) => {
        // Cloned out: the callback may make callers of its own meanwhile.
        let Some(scope) = self.scopes.borrow().get(&id).cloned() else {
          return Ok(());
        };
        let value = unsafe { T::to_napi_value(env.raw(), value)? };
        scope.call(env, self.callback.get(env)?, &[value])
      }
      Message::Release(id) => {
        let scope = self.scopes.borrow_mut().remove(&id);
        drop(scope);
        if !self.scopes.borrow().is_empty() {
          return Ok(());
        }
        if self.held.get() {
          self.update_ref(env)
        } else {
          self.close();
          Ok(())
        }
      }
    }
  }

  fn update_ref(&self, env: &Env) -> Result<()> {
    let waiting = !self.scopes.borrow().is_empty();
    let receiver = self.receiver.borrow().clone();
    match receiver {
      Some(receiver) => receiver.set_ref(env, self.keep_alive.get() && waiting),
      None => Ok(()),
    }
  }

  fn close(&self) {
    let receiver = self.receiver.borrow_mut().take();
    if let Some(receiver) = receiver {
      receiver.close();
    }
    let scopes = std::mem::take(&mut *self.scopes.borrow_mut());
    drop(scopes);
  }
}
