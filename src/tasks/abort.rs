use std::cell::RefCell;

use baton_napi::AbortHandle;
use napi::Env;
use napi_derive::napi;

/// The native half of an `AbortSignal`: the JS side raises it from the signal's
/// `abort` event, a task's `perform` polls it from its pool thread.
#[napi]
#[derive(Default)]
pub struct AbortFlag {
  flag: baton_napi::AbortFlag,
  /// The call this flag was handed to, while it has not settled.
  call: RefCell<Option<AbortHandle>>,
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
    self.flag.raise();
  }

  /// Settles the call as aborted now, wherever its work is, unless it has settled.
  #[napi]
  pub fn settle(&self, env: Env) {
    if let Some(call) = self.call.take() {
      call.abort(&env);
    }
  }

  pub(crate) fn shared(&self) -> baton_napi::AbortFlag {
    self.flag.clone()
  }

  pub(crate) fn attach(&self, call: AbortHandle) {
    self.call.replace(Some(call));
  }
}
