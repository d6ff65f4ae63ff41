use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use napi_derive::napi;

/// The native half of an `AbortSignal`: the JS side raises it from the signal's
/// `abort` event, a task's `perform` polls it from its pool thread.
#[napi]
#[derive(Default)]
pub struct AbortFlag {
  raised: Arc<AtomicBool>,
}

#[napi]
impl AbortFlag {
  #[napi(constructor)]
  pub fn new() -> Self {
    Self::default()
  }

  #[napi]
  pub fn raise(&self) {
    self.raised.store(true, Ordering::Release);
  }

  pub(crate) fn shared(&self) -> Arc<AtomicBool> {
    self.raised.clone()
  }
}
