//! A panic must never unwind across the N-API boundary: in an `extern "C"` callback
//! it aborts the whole process. Everything Rust runs on behalf of JavaScript goes
//! through [`catch`], which turns a panic into an ordinary error value.

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// The message of a caught panic, as reported to JavaScript (see
/// [`Error::Panicked`](crate::Error::Panicked)).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Panic(pub String);

impl Panic {
  fn from_payload(payload: Box<dyn Any + Send>) -> Self {
    let message = if let Some(s) = payload.downcast_ref::<&'static str>() {
      (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
      s.clone()
    } else {
      "a panic with a non-string payload".to_owned()
    };
    Panic(message)
  }
}

/// Runs `f`, turning a panic into `Err(Panic)`.
///
/// `AssertUnwindSafe` is sound here because a panicking task is never run again:
/// whatever state it left half-written is dropped, not observed.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, Panic> {
  catch_unwind(AssertUnwindSafe(f)).map_err(Panic::from_payload)
}

#[cfg(test)]
mod tests {
  use super::*;

  #[test]
  fn passes_values_through() {
    assert_eq!(catch(|| 41 + 1), Ok(42));
  }

  #[test]
  fn turns_str_and_string_panics_into_messages() {
    assert_eq!(
      catch(|| panic!("plain")),
      Err::<(), _>(Panic("plain".into()))
    );
    let n = 7;
    assert_eq!(
      catch(|| panic!("formatted {n}")),
      Err::<(), _>(Panic("formatted 7".into()))
    );
  }

  #[test]
  fn names_non_string_payloads() {
    let caught = catch(|| std::panic::panic_any(12_u8));
    assert_eq!(
      caught,
      Err::<(), _>(Panic("a panic with a non-string payload".into()))
    );
  }
}
