//! The exact n-th Fibonacci number, by fast doubling, on a libuv pool thread.

use baton_napi::{out_of_range, Control, Error, Scheduled, Task};
use dashu_int::ops::BitTest;
use dashu_int::{UBig, Word};
use napi::bindgen_prelude::{BigInt, Function};
use napi::{Env, Result};
use napi_derive::napi;

use super::{schedule, AbortFlag};

/// The largest `n` accepted: F(n) then has about 69 million bits (8.7 MB), far below
/// V8's BigInt limit, and takes seconds, not minutes.
#[napi]
pub const FIBONACCI_MAX_N: u32 = 100_000_000;

// JS BigInts are built from 64-bit words.
const _: () = assert!(Word::BITS == 64);

pub struct Fibonacci {
  n: u32,
}

/// F(n) by fast doubling over the bits of `n`, highest first: from (F(k), F(k+1)),
/// F(2k) = F(k)·(2·F(k+1) − F(k)) and F(2k+1) = F(k)² + F(k+1)² (the two on two
/// threads once the numbers are large). After each bit the
/// abort flag is polled and progress reported as k/n (the cost of a step grows
/// with k, so this tracks the work done, not the steps taken).
pub fn fibonacci(n: u32, control: &Control) -> std::result::Result<UBig, Error> {
  let (mut a, mut b) = (UBig::ZERO, UBig::ONE);
  for i in (0..u32::BITS - n.leading_zeros()).rev() {
    control.checkpoint()?;
    let odd = (n >> i) & 1 == 1;
    if i == 0 {
      // The last step needs only the one number it returns.
      return Ok(if odd {
        sum_of_squares(&a, &b)
      } else {
        product(&a, &((&b << 1) - &a))
      });
    }
    let (even_half, odd_half) = doubling_step(&a, &b);
    (a, b) = if odd {
      let next = &even_half + &odd_half;
      (odd_half, next)
    } else {
      (even_half, odd_half)
    };
    control.report_progress(f64::from(n >> i) / f64::from(n));
  }
  Ok(a)
}

/// Above this size the two products of a step are computed on two threads: a thread
/// start (tens of µs) is small beside them, and the JS thread is idle meanwhile.
const PARALLEL_BITS: usize = 1 << 16;

/// (F(2k), F(2k+1)) from (F(k), F(k+1)).
fn doubling_step(a: &UBig, b: &UBig) -> (UBig, UBig) {
  let even = || a * ((b << 1) - a);
  let odd = || a.sqr() + b.sqr();
  if a.bit_len() < PARALLEL_BITS {
    return (even(), odd());
  }
  both(even, odd)
}

/// `a² + b²`, the squares on two threads when large.
fn sum_of_squares(a: &UBig, b: &UBig) -> UBig {
  if a.bit_len() < PARALLEL_BITS {
    return a.sqr() + b.sqr();
  }
  let (a2, b2) = both(|| a.sqr(), || b.sqr());
  a2 + b2
}

/// `x · y`; when large, as `(high · y) << k + low · y` with the halves of `x` on two
/// threads: the last step of F(n) for even n is this one product.
fn product(x: &UBig, y: &UBig) -> UBig {
  if x.bit_len() < PARALLEL_BITS {
    return x * y;
  }
  let k = x.bit_len() / 2;
  let high = x >> k;
  let low = x - (&high << k);
  let (high, low) = both(|| &high * y, || &low * y);
  (high << k) + low
}

/// Runs `f` on a second thread and `g` on this one. A panic on the second thread goes on
/// unwinding here, into the task's catch.
fn both<A: Send, B>(f: impl FnOnce() -> A + Send, g: impl FnOnce() -> B) -> (A, B) {
  std::thread::scope(|scope| {
    let f = scope.spawn(f);
    let b = g();
    let a = f
      .join()
      .unwrap_or_else(|payload| std::panic::resume_unwind(payload));
    (a, b)
  })
}

impl Task for Fibonacci {
  const RESOURCE_TYPE: &'static str = "baton.fibonacci";
  type Output = UBig;
  type JsValue = BigInt;

  fn perform(&mut self, control: &Control) -> std::result::Result<UBig, Error> {
    let value = fibonacci(self.n, control)?;
    control.report_progress(1.0);
    Ok(value)
  }

  fn complete(&mut self, _env: &Env, output: UBig) -> Result<BigInt> {
    Ok(BigInt { sign_bit: false, words: output.as_words().to_vec() })
  }
}

/// `n` is checked on the JS side (`lib/tasks`); above the limit is refused here too.
#[napi]
pub fn fibonacci_task(
  env: Env,
  n: u32,
  abort: Option<&AbortFlag>,
  on_progress: Option<Function>,
  callback: Option<Function>,
) -> Result<Scheduled> {
  if n > FIBONACCI_MAX_N {
    return Err(out_of_range(
      &env,
      &format!(
        "The value of \"n\" is out of range. It must be >= 0 && <= {FIBONACCI_MAX_N}. Received {n}"
      ),
    ));
  }
  schedule(&env, Fibonacci { n }, abort, on_progress, callback)
}

#[cfg(test)]
mod tests {
  use super::*;

  fn control() -> Control {
    Control::detached()
  }

  #[test]
  fn first_values() {
    let expected = [0u32, 1, 1, 2, 3, 5, 8, 13, 21, 34, 55, 89, 144];
    for (n, want) in expected.iter().enumerate() {
      assert_eq!(
        fibonacci(n as u32, &control()).unwrap(),
        UBig::from(*want),
        "F({n})"
      );
    }
  }

  #[test]
  fn agrees_with_the_simple_recurrence() {
    let (mut a, mut b) = (UBig::ZERO, UBig::ONE);
    for n in 0..500u32 {
      assert_eq!(fibonacci(n, &control()).unwrap(), a, "F({n})");
      (a, b) = (b.clone(), a + b);
    }
  }

  #[test]
  fn hundred_thousandth_has_20899_digits() {
    let f = fibonacci(100_000, &control()).unwrap();
    assert_eq!(f.to_string().len(), 20_899);
  }

  #[test]
  fn parallel_steps_agree_with_sequential_ones() {
    // Both sides of PARALLEL_BITS: F(200_000) has about 139,000 bits; its last step
    // is a split product (even n), that of F(200_001) a sum of squares (odd n).
    let (mut a, mut b) = (UBig::ZERO, UBig::ONE);
    for _ in 0..200_000 {
      (a, b) = (b.clone(), a + b);
    }
    assert_eq!(fibonacci(200_000, &control()).unwrap(), a);
    assert_eq!(fibonacci(200_001, &control()).unwrap(), b);
  }

  #[test]
  fn split_product_equals_plain_product() {
    let x = (UBig::ONE << 200_000) - UBig::from(12_345u32);
    let y = (UBig::ONE << 150_000) + UBig::from(678u32);
    assert_eq!(product(&x, &y), &x * &y);
  }

  #[test]
  fn stops_when_aborted() {
    let flag = baton_napi::AbortFlag::new();
    flag.raise();
    let control = Control::with_abort(flag);
    assert!(matches!(fibonacci(1_000, &control), Err(Error::Aborted)));
  }
}
