//! The process-wide registry of live async resources and tasks, for diagnostics.
//!
//! Keyed by thread and id: async ids restart in every worker thread, so each JS thread
//! that loads baton opens the registry once and gets a number of its own. Resources
//! are reported by the JS side in batches (one N-API call per batch, see
//! lib/context/registry.js) into one shared map; tasks are added and removed here,
//! natively, when they are scheduled and settled, in a slab of their thread's own.
//! When a thread's environment is torn down (a worker that exits or is terminated),
//! everything it listed leaves with it: nothing of it could ever be removed later.

use std::cell::Cell;
use std::collections::HashMap;
use std::panic::catch_unwind;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{SystemTime, UNIX_EPOCH};

use napi::bindgen_prelude::Float64Array;
use napi::{Env, Error, Result, Status};
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

thread_local! {
  /// Whether this thread's environment will clear its entries when torn down.
  static CLEARED_AT_TEARDOWN: Cell<bool> = const { Cell::new(false) };
}

/// Opens the registry for the calling JS thread; returns the thread's number.
#[napi]
pub fn registry_open(env: Env) -> Result<u32> {
  let thread = this_thread();
  if !CLEARED_AT_TEARDOWN.get() {
    env.add_env_cleanup_hook(thread, |thread| {
      // Nothing may unwind out of an N-API callback.
      let _ = catch_unwind(|| forget_thread(thread));
    })?;
    CLEARED_AT_TEARDOWN.set(true);
  }
  Ok(thread)
}

/// Removes every resource and task of `thread`, whose environment is gone.
fn forget_thread(thread: u32) {
  REGISTRY
    .lock()
    .entries
    .retain(|key, _| key.thread != thread);
  TASK_SHARDS.lock().retain(|shard| {
    let mut shard = shard.lock();
    if shard.thread != thread {
      return true;
    }
    shard.closed = true;
    shard.slots.clear();
    shard.free.clear();
    false
  });
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
  apply(this_thread(), &ops)
}

fn apply(thread: u32, ops: &[f64]) -> Result<()> {
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
  /// Set when the thread's environment is torn down: nothing is listed any more.
  closed: bool,
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
      closed: false,
    }));
    TASK_SHARDS.lock().push(shard.clone());
    ShardHandle(shard)
  };
}

/// A task's place in the registry, from scheduling until it is dropped (settled).
/// Made and dropped on the same JS thread (napi-rs drops a task where it completes).
pub struct TaskEntry {
  /// `None` when added after its thread's teardown: never listed.
  slot: Option<usize>,
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
      if shard.closed {
        return None;
      }
      Some(match shard.free.pop() {
        Some(slot) => {
          shard.slots[slot] = Some(record);
          slot
        }
        None => {
          shard.slots.push(Some(record));
          shard.slots.len() - 1
        }
      })
    });
    TaskEntry { slot }
  }
}

impl Drop for TaskEntry {
  fn drop(&mut self) {
    let Some(slot) = self.slot else {
      return;
    };
    // At thread exit the shard may be gone already; its entries went with it.
    let _ = TASKS.try_with(|tasks| {
      let mut shard = tasks.0.lock();
      // Closed at teardown: its slots went with it.
      if !shard.closed {
        shard.slots[slot] = None;
        shard.free.push(slot);
      }
    });
  }
}

#[cfg(test)]
mod tests {
  use std::collections::HashSet;
  use std::panic::{resume_unwind, AssertUnwindSafe};
  use std::sync::atomic::AtomicBool;
  use std::sync::Barrier;

  use super::*;

  /// xorshift64*: a seeded generator, so that a failing run can be replayed.
  struct Random(u64);

  impl Random {
    fn below(&mut self, n: usize) -> usize {
      self.0 ^= self.0 >> 12;
      self.0 ^= self.0 << 25;
      self.0 ^= self.0 >> 27;
      (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 33) as usize % n
    }
  }

  const ADD: f64 = RegistryOp::Add as u32 as f64;
  const REMOVE: f64 = RegistryOp::Remove as u32 as f64;
  const RESOURCE: &str = "registry.test.Resource";
  const TASK: &str = "registry.test.Task";

  /// What the registry lists of `thread`: its resources' ids and its number of tasks.
  fn listed(thread: u32) -> (HashSet<u64>, usize) {
    let entries = registry_entries();
    let ours = entries.iter().filter(|entry| entry.thread == thread);
    let resources = ours
      .clone()
      .filter(|entry| entry.kind == "resource" && entry.r#type == RESOURCE)
      .map(|entry| entry.id as u64)
      .collect();
    let tasks = ours
      .filter(|entry| entry.kind == "task" && entry.r#type == TASK)
      .count();
    (resources, tasks)
  }

  fn assert_nothing_listed(thread: u32, what: &str) {
    assert_eq!(listed(thread), (HashSet::new(), 0), "{what}");
  }

  /// One simulated JS thread: random adds and removes of resources and tasks, checking
  /// after each that the registry lists exactly what is alive; then, at the barriers,
  /// either a teardown of its own or a check that others' teardowns left it alone.
  fn js_thread(seed: u64, tears_down: bool, type_id: f64, barrier: &Barrier) {
    let thread = this_thread();
    // A failure still reaches both barriers, so that the other threads do not wait forever.
    let alive = catch_unwind(AssertUnwindSafe(|| churn(thread, seed, type_id)));
    barrier.wait();
    let torn_down = catch_unwind(AssertUnwindSafe(|| {
      if tears_down {
        forget_thread(thread);
        assert_nothing_listed(thread, &format!("seed {seed}: teardown left entries"));
        // Entries of a torn-down thread that end later, or start after it, are not listed.
        let late = TaskEntry::add(TASK);
        apply(thread, &[REMOVE, 1.0, 0.0, 0.0]).unwrap();
        assert_nothing_listed(thread, &format!("seed {seed}: listed after teardown"));
        drop(late);
      }
    }));
    barrier.wait();
    let (resources, tasks) = alive.unwrap_or_else(|p| resume_unwind(p));
    torn_down.unwrap_or_else(|p| resume_unwind(p));
    if tears_down {
      drop(tasks);
      assert_nothing_listed(thread, &format!("seed {seed}: listed after teardown"));
      return;
    }
    assert_eq!(
      listed(thread),
      (resources.clone(), tasks.len()),
      "seed {seed}: another thread's teardown removed entries"
    );
    let ops: Vec<f64> = resources
      .iter()
      .flat_map(|&id| [REMOVE, id as f64, 0.0, 0.0])
      .collect();
    apply(thread, &ops).unwrap();
    drop(tasks);
    assert_nothing_listed(
      thread,
      &format!("seed {seed}: removed entries still listed"),
    );
  }

  /// Random adds and removes of resources and tasks, checking after each that the
  /// registry lists exactly what is alive. Returns what is left alive.
  fn churn(thread: u32, seed: u64, type_id: f64) -> (HashSet<u64>, Vec<TaskEntry>) {
    let mut random = Random(seed);
    let mut resources = HashSet::new();
    let mut tasks = Vec::new();
    let mut next_id = 1u64;
    for step in 0..STEPS {
      match random.below(4) {
        0 => {
          apply(thread, &[ADD, next_id as f64, 0.0, type_id]).unwrap();
          resources.insert(next_id);
          next_id += 1;
        }
        1 if !resources.is_empty() => {
          let id = *resources.iter().nth(random.below(resources.len())).unwrap();
          apply(thread, &[REMOVE, id as f64, 0.0, 0.0]).unwrap();
          resources.remove(&id);
        }
        2 => tasks.push(TaskEntry::add(TASK)),
        _ if !tasks.is_empty() => drop(tasks.swap_remove(random.below(tasks.len()))),
        _ => {}
      }
      assert_eq!(
        listed(thread),
        (resources.clone(), tasks.len()),
        "seed {seed}, step {step}"
      );
    }
    (resources, tasks)
  }

  /// Steps per thread: enough for thousands of entries to interleave, few enough for an
  /// unoptimized build to run in seconds.
  const STEPS: usize = 1_000;

  struct StopListing<'a>(&'a AtomicBool);

  impl Drop for StopListing<'_> {
    fn drop(&mut self) {
      self.0.store(true, Ordering::Release);
    }
  }

  #[test]
  fn many_threads_see_exactly_what_is_alive_and_teardown_removes_only_its_own() {
    let seed = std::env::var("BATON_SEED")
      .ok()
      .and_then(|seed| seed.parse().ok())
      .unwrap_or_else(|| now_ms() as u64 | 1);
    println!("registry property test: BATON_SEED={seed}");
    let type_id = f64::from(registry_intern_type(RESOURCE.to_owned()));
    const THREADS: usize = 8;
    let barrier = Barrier::new(THREADS);
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
      // Dropped when this closure ends, also by a panic: the listers stop either way.
      let _stop = StopListing(&done);
      // Listers run beside the writers: no entry is ever listed twice.
      for _ in 0..2 {
        scope.spawn(|| {
          while !done.load(Ordering::Acquire) {
            let entries = registry_entries();
            let keys: HashSet<_> = entries
              .iter()
              .map(|entry| (entry.kind.clone(), entry.thread, entry.id as u64))
              .collect();
            assert_eq!(
              keys.len(),
              entries.len(),
              "seed {seed}: an entry listed twice"
            );
          }
        });
      }
      let writers: Vec<_> = (0..THREADS)
        .map(|i| {
          let barrier = &barrier;
          let seed = seed.wrapping_add((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1;
          scope.spawn(move || js_thread(seed, i % 2 == 1, type_id, barrier))
        })
        .collect();
      let outcomes: Vec<_> = writers.into_iter().map(|writer| writer.join()).collect();
      for outcome in outcomes {
        if let Err(panic) = outcome {
          std::panic::resume_unwind(panic);
        }
      }
    });
  }
}
