use napi_derive::napi;

/// The native half of an `AbortSignal`: the JS side raises it from the signal's
/// `abort` event, a task's `perform` polls it from its pool thread.
#[napi]
#[derive(Default)]
pub struct AbortFlag {
  flag: baton_napi::AbortFlag,
}

#[napi]
impl AbortFlag {
  #[napi(constructor)]
  pub fn new() -> Self {
    Self::default()
  }

  #[napi]
  pub fn raise(&self) {
    self.flag.raise();
  }

  pub(crate) fn shared(&self) -> baton_napi::AbortFlag {
    self.flag.clone()
  }
}
