//! The process-wide registry of live async resources and tasks, for diagnostics.
//!
//! Keyed by thread and id: async ids restart in every worker thread, so each JS thread
//! that loads baton opens the registry once and gets a number of its own. Resources
//! are reported by the JS side in batches (one N-API call per batch, see
//! lib/context/registry.js) into one shared map; tasks are added and removed here,
//! natively, when they are scheduled and settled, in a slab of their thread's own.

use std::cell::Cell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::Float64Array;
use napi::{Error, Result, Status};
use napi_derive::napi;
use parking_lot::Mutex;

/// A resource: async ids restart in every thread, so the thread is part of the key.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
struct Key {
  thread: u32,
  async_id: u64,
}

struct Entry {
  type_name: Arc<str>,
  trigger_async_id: f64,
  since: f64,
}

#[derive(Default)]
struct Registry {
  entries: HashMap<Key, Entry>,
  type_names: Vec<Arc<str>>,
  type_ids: HashMap<Arc<str>, u32>,
}

static REGISTRY: LazyLock<Mutex<Registry>> = LazyLock::new(Mutex::default);
static NEXT_THREAD: AtomicU32 = AtomicU32::new(1);
static NEXT_TASK: AtomicU64 = AtomicU64::new(1);

thread_local! {
  /// This JS thread's number in the registry; 0 until it opens the registry.
  static THREAD: Cell<u32> = const { Cell::new(0) };
}

fn now_ms() -> f64 {
  SystemTime::now()
    .duration_since(UNIX_EPOCH)
    .map(|d| d.as_secs_f64() * 1000.0)
    .unwrap_or(0.0)
}

fn this_thread() -> u32 {
  THREAD.with(|thread| {
    if thread.get() == 0 {
      thread.set(NEXT_THREAD.fetch_add(1, Ordering::Relaxed));
    }
    thread.get()
  })
}

/// Opens the registry for the calling JS thread; returns the thread's number.
#[napi]
pub fn registry_open() -> u32 {
  this_thread()
}

/// The number standing for `type_name` in `registryApply` operations.
#[napi]
pub fn registry_intern_type(type_name: String) -> u32 {
  REGISTRY.lock().intern(&type_name)
}

impl Registry {
  /// Each type name is stored once, however many entries carry it.
  fn intern(&mut self, type_name: &str) -> u32 {
    if let Some(&id) = self.type_ids.get(type_name) {
      return id;
    }
    let id = self.type_names.len() as u32;
    let name: Arc<str> = type_name.into();
    self.type_names.push(name.clone());
    self.type_ids.insert(name, id);
    id
  }
}

/// The first number of each operation in a `registryApply` batch.
#[napi]
pub enum RegistryOp {
  /// Lists a resource.
  Add = 1,
  /// Takes a resource off the list.
  Remove = 2,
}

/// Numbers per operation in a `registryApply` batch:
/// `op, asyncId, triggerAsyncId, typeId`.
#[napi]
pub const REGISTRY_OP_STRIDE: u32 = 4;

/// Applies a batch of operations (see `REGISTRY_OP_STRIDE`) for resources of the
/// calling thread, in order.
#[napi]
pub fn registry_apply(ops: Float64Array) -> Result<()> {
  let thread = this_thread();
  let since = now_ms();
  let mut registry = REGISTRY.lock();
  for op in ops.chunks_exact(REGISTRY_OP_STRIDE as usize) {
    let key = Key { thread, async_id: op[1] as u64 };
    if op[0] == f64::from(RegistryOp::Add as u32) {
      let type_name = registry
        .type_names
        .get(op[3] as usize)
        .cloned()
        .ok_or_else(|| Error::new(Status::InvalidArg, format!("unknown type id {}", op[3])))?;
      let entry = Entry { type_name, trigger_async_id: op[2], since };
      registry.entries.insert(key, entry);
    } else if op[0] == f64::from(RegistryOp::Remove as u32) {
      registry.entries.remove(&key);
    } else {
      return Err(Error::new(
        Status::InvalidArg,
        format!("unknown registry operation {}", op[0]),
      ));
    }
  }
  Ok(())
}

/// One live entry, as `resources()` reports it.
#[napi(object)]
pub struct RegistryEntry {
  /// `'resource'` or `'task'`.
  pub kind: String,
  /// The registry's number for the JS thread that made it.
  pub thread: u32,
  /// A resource's async id; a task's sequence number.
  pub id: f64,
  pub r#type: String,
  /// Resources only: the async id of what caused it.
  pub trigger_async_id: Option<f64>,
  /// When it was registered, in ms since the epoch (within one turn of the event loop).
  pub since: f64,
}

/// Every live resource and task, of every thread.
#[napi]
pub fn registry_entries() -> Vec<RegistryEntry> {
  let mut entries: Vec<RegistryEntry> = REGISTRY
    .lock()
    .entries
    .iter()
    .map(|(key, entry)| RegistryEntry {
      kind: "resource".to_owned(),
      thread: key.thread,
      id: key.async_id as f64,
      r#type: entry.type_name.to_string(),
      trigger_async_id: Some(entry.trigger_async_id),
      since: entry.since,
    })
    .collect();
  for shard in TASK_SHARDS.lock().iter() {
    let shard = shard.lock();
    entries.extend(shard.slots.iter().flatten().map(|task| RegistryEntry {
      kind: "task".to_owned(),
      thread: shard.thread,
      id: task.id as f64,
      r#type: task.type_name.to_owned(),
      trigger_async_id: None,
      since: task.since,
    }));
  }
  entries
}

/// The live tasks of one JS thread: a slab whose slots are reused, under a lock that
/// only its own thread takes, except for `resources()`. Tasks come and go far faster
/// than resources, so they stay out of the shared map.
struct TaskShard {
  thread: u32,
  slots: Vec<Option<TaskRecord>>,
  free: Vec<usize>,
}

struct TaskRecord {
  id: u64,
  type_name: &'static str,
  since: f64,
}

static TASK_SHARDS: LazyLock<Mutex<Vec<Arc<Mutex<TaskShard>>>>> = LazyLock::new(Mutex::default);

/// A thread's shard, listed in `TASK_SHARDS` while the thread lives.
struct ShardHandle(Arc<Mutex<TaskShard>>);

impl Drop for ShardHandle {
  fn drop(&mut self) {
    TASK_SHARDS
      .lock()
      .retain(|shard| !Arc::ptr_eq(shard, &self.0));
  }
}

thread_local! {
  static TASKS: ShardHandle = {
    let shard = Arc::new(Mutex::new(TaskShard {
      thread: this_thread(),
      slots: Vec::new(),
      free: Vec::new(),
    }));
    TASK_SHARDS.lock().push(shard.clone());
    ShardHandle(shard)
  };
}

/// A task's place in the registry, from scheduling until it is dropped (settled).
/// Made and dropped on the same JS thread (napi-rs drops a task where it completes).
pub struct TaskEntry {
  slot: usize,
}

impl TaskEntry {
  pub fn add(type_name: &'static str) -> Self {
    let record = TaskRecord {
      id: NEXT_TASK.fetch_add(1, Ordering::Relaxed),
      type_name,
      since: now_ms(),
    };
    let slot = TASKS.with(|tasks| {
      let mut shard = tasks.0.lock();
      match shard.free.pop() {
        Some(slot) => {
          shard.slots[slot] = Some(record);
          slot
        }
        None => {
          shard.slots.push(Some(record));
          shard.slots.len() - 1
        }
      }
    });
    TaskEntry { slot }
  }
}

impl Drop for TaskEntry {
  fn drop(&mut self) {
    // At thread exit the shard may be gone already; its entries went with it.
    let _ = TASKS.try_with(|tasks| {
      let mut shard = tasks.0.lock();
      shard.slots[self.slot] = None;
      shard.free.push(self.slot);
    });
  }
}
