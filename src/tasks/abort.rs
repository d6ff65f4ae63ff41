use std::cell::RefCell;
use std::rc::{Rc, Weak};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi::Env;
use napi_derive::napi;

use super::schedule::Pending;

/// The native half of an `AbortSignal`: the JS side raises it from the signal's
/// `abort` event, a task's `perform` polls it from its pool thread.
#[napi]
#[derive(Default)]
pub struct AbortFlag {
  raised: Arc<AtomicBool>,
  /// The call this flag was handed to, while it has not settled.
  call: RefCell<Weak<Pending>>,
}

#[napi]
impl AbortFlag {
  #[napi(constructor)]
  pub fn new() -> Self {
    Self::default()
  }

  /// Raised synchronously from the signal's `abort` event: from here on, the call's
  /// outcome is an abort, and `perform` stops at its next checkpoint.
  #[napi]
  pub fn raise(&self) {
    self.raised.store(true, Ordering::Release);
  }

  /// Settles the call as aborted now, wherever its work is, unless it has settled.
  #[napi]
  pub fn settle(&self, env: Env) {
    if let Some(call) = self.call.take().upgrade() {
      call.abort(&env);
    }
  }

  pub(crate) fn shared(&self) -> Arc<AtomicBool> {
    self.raised.clone()
  }

  pub(crate) fn attach(&self, call: &Rc<Pending>) {
    self.call.replace(Rc::downgrade(call));
  }
}
