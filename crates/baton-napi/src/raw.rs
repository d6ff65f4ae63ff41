//! The crate's one home for raw N-API calls that napi-rs does not wrap, or wraps only
//! behind types this crate cannot hold (a value kept past its call, a function with
//! no Rust closure). Everything here runs on the JS thread of `env`.

use std::ptr;

use napi::{sys, Env, Error, Result, Status};

/// Turns an N-API status into a `Result`.
pub(crate) fn check(status: sys::napi_status) -> Result<()> {
  if status == sys::Status::napi_ok {
    Ok(())
  } else {
    Err(Error::new(
      Status::from(status),
      "N-API call failed".to_owned(),
    ))
  }
}

/// A JS string. (Made anew each time: before N-API 10 a reference cannot hold one.)
/// ASCII text, such as every resource type name, is made as Latin-1: V8 then copies the
/// bytes instead of decoding UTF-8 (measured: about 200 instructions less per string).
pub(crate) fn string(env: &Env, s: &str) -> Result<sys::napi_value> {
  let create = if s.is_ascii() {
    sys::napi_create_string_latin1
  } else {
    sys::napi_create_string_utf8
  };
  let mut value = ptr::null_mut();
  check(unsafe { create(env.raw(), s.as_ptr().cast(), s.len() as isize, &mut value) })?;
  Ok(value)
}

/// JS `null`.
pub(crate) fn null(env: &Env) -> Result<sys::napi_value> {
  let mut value = ptr::null_mut();
  check(unsafe { sys::napi_get_null(env.raw(), &mut value) })?;
  Ok(value)
}

/// JS `undefined`.
pub(crate) fn undefined(env: &Env) -> Result<sys::napi_value> {
  let mut value = ptr::null_mut();
  check(unsafe { sys::napi_get_undefined(env.raw(), &mut value) })?;
  Ok(value)
}

/// `globalThis`.
pub(crate) fn global(env: &Env) -> Result<sys::napi_value> {
  let mut value = ptr::null_mut();
  check(unsafe { sys::napi_get_global(env.raw(), &mut value) })?;
  Ok(value)
}

/// `object[key]`.
pub(crate) fn get(env: &Env, object: sys::napi_value, key: &str) -> Result<sys::napi_value> {
  let key = string(env, key)?;
  let mut value = ptr::null_mut();
  check(unsafe { sys::napi_get_property(env.raw(), object, key, &mut value) })?;
  Ok(value)
}

/// `object[key] = value`.
pub(crate) fn set(
  env: &Env,
  object: sys::napi_value,
  key: &str,
  value: sys::napi_value,
) -> Result<()> {
  let key = string(env, key)?;
  check(unsafe { sys::napi_set_property(env.raw(), object, key, value) })
}

/// Defines `object[key] = value` as a writable, configurable, non-enumerable own
/// property, as `new Error(message, { cause })` installs `cause`.
pub(crate) fn define_hidden(
  env: &Env,
  object: sys::napi_value,
  key: &str,
  value: sys::napi_value,
) -> Result<()> {
  let property = sys::napi_property_descriptor {
    utf8name: ptr::null(),
    name: string(env, key)?,
    method: None,
    getter: None,
    setter: None,
    value,
    attributes: sys::PropertyAttributes::writable | sys::PropertyAttributes::configurable,
    data: ptr::null_mut(),
  };
  check(unsafe { sys::napi_define_properties(env.raw(), object, 1, &property) })
}

/// `func.call(this, ...args)`; the status tells a thrown exception apart.
pub(crate) fn call(
  env: &Env,
  this: sys::napi_value,
  func: sys::napi_value,
  args: &[sys::napi_value],
) -> sys::napi_status {
  let mut result = ptr::null_mut();
  unsafe {
    sys::napi_call_function(
      env.raw(),
      this,
      func,
      args.len(),
      args.as_ptr(),
      &mut result,
    )
  }
}

/// A JS function named `name` that runs `callback`, with no data of its own.
pub(crate) fn function(
  env: &Env,
  name: &str,
  callback: sys::napi_callback,
) -> Result<sys::napi_value> {
  let mut func = ptr::null_mut();
  check(unsafe {
    sys::napi_create_function(
      env.raw(),
      name.as_ptr().cast(),
      name.len() as isize,
      callback,
      ptr::null_mut(),
      &mut func,
    )
  })?;
  Ok(func)
}

/// `{}`.
pub(crate) fn object(env: &Env) -> Result<sys::napi_value> {
  let mut value = ptr::null_mut();
  check(unsafe { sys::napi_create_object(env.raw(), &mut value) })?;
  Ok(value)
}

/// A JS boolean.
pub(crate) fn boolean(env: &Env, b: bool) -> Result<sys::napi_value> {
  let mut value = ptr::null_mut();
  check(unsafe { sys::napi_get_boolean(env.raw(), b, &mut value) })?;
  Ok(value)
}

/// Whether `value` is truthy, as `if (value)` would decide.
pub(crate) fn truthy(env: &Env, value: sys::napi_value) -> Result<bool> {
  let mut coerced = ptr::null_mut();
  check(unsafe { sys::napi_coerce_to_bool(env.raw(), value, &mut coerced) })?;
  let mut b = false;
  check(unsafe { sys::napi_get_value_bool(env.raw(), coerced, &mut b) })?;
  Ok(b)
}

/// `value instanceof globalThis[class]`.
pub(crate) fn instance_of(env: &Env, value: sys::napi_value, class: &str) -> Result<bool> {
  let constructor = get(env, global(env)?, class)?;
  let mut result = false;
  check(unsafe { sys::napi_instanceof(env.raw(), value, constructor, &mut result) })?;
  Ok(result)
}

/// The class of a JS error made here.
pub(crate) enum ErrorClass {
  Error,
  TypeError,
  RangeError,
}

/// `new Error(message)` (or `TypeError`, `RangeError`), with `error.code = code` when
/// given.
pub(crate) fn error(
  env: &Env,
  class: ErrorClass,
  code: Option<&str>,
  message: &str,
) -> Result<sys::napi_value> {
  let code = code.map(|code| string(env, code)).transpose()?;
  let message = string(env, message)?;
  let create = match class {
    ErrorClass::Error => sys::napi_create_error,
    ErrorClass::TypeError => sys::napi_create_type_error,
    ErrorClass::RangeError => sys::napi_create_range_error,
  };
  let mut error = ptr::null_mut();
  check(unsafe {
    create(
      env.raw(),
      code.unwrap_or(ptr::null_mut()),
      message,
      &mut error,
    )
  })?;
  Ok(error)
}
