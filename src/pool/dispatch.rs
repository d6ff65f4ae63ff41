//! The pool's bookkeeping, free of N-API calls so that it can be tested on its own: the
//! queue of tasks waiting for a worker, which worker runs what, and each worker's
//! inbox of messages not yet taken. The caller holds it behind one lock and does the
//! waking (see `super::Pool`).

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::Instant;

use napi_derive::napi;

pub type TaskId = u64;
pub type WorkerId = u32;

/// A task's serialized payload and when it was submitted.
pub struct Job {
  pub id: TaskId,
  pub payload: Arc<[u8]>,
  pub submitted: Instant,
  /// Pinned to one worker (`Dispatch::submit_to`): it never moves to another.
  pub pinned: bool,
}

/// What a worker takes from its inbox.
pub enum Message {
  Run(TaskId, Arc<[u8]>),
  Abort(TaskId),
}

/// A task given to a worker: in its inbox (not started yet) or taken (started).
struct Assigned {
  job: Job,
  /// Set when the worker takes the task from its inbox.
  started: Option<Instant>,
  aborted: bool,
}

struct Worker {
  capacity: usize,
  /// False until the worker has loaded its module and attached. A starting worker is
  /// given tasks up to its capacity all the same, as piscina hands tasks to the workers
  /// it starts: they wait in its inbox, not in the queue, and run once it attaches.
  attached: bool,
  inbox: Vec<Message>,
  /// The tasks given to this worker, started or not.
  assigned: HashMap<TaskId, Assigned>,
  /// Tasks pinned to this worker that wait for room on it, oldest first.
  pinned: VecDeque<Job>,
  /// Waiting on its wake cell (`atomics: 'sync'`) with nothing in flight and an empty
  /// inbox: its next message must be announced by `Wake::Parked`, not through its loop.
  parked: bool,
}

impl Worker {
  fn has_room(&self) -> bool {
    self.assigned.len() < self.capacity
  }
}

/// Where `abort` found a task; JS gets `{ type: 'Unknown' | 'Dequeued' | 'Started' }`.
#[napi(discriminant = "type")]
#[derive(Debug, PartialEq, Eq)]
pub enum Abort {
  /// Settled already, or never submitted.
  Unknown,
  /// It had not started (queued, or still in a worker's inbox) and never will.
  Dequeued,
  /// `worker` has started it; an `Abort` message is in that worker's inbox.
  Started { worker: WorkerId },
}

/// How to wake a worker whose inbox went from empty to not empty.
#[derive(Debug, PartialEq, Eq)]
pub enum Wake {
  /// Through its event loop (its channel): it runs JavaScript, or sleeps in its loop.
  Loop(WorkerId),
  /// It is parked in `Atomics.wait` on its wake cell, where no loop wake-up reaches it:
  /// the main thread's JavaScript must bump the cell and `Atomics.notify` it.
  Parked(WorkerId),
}

/// How long a finished task waited for a worker and ran on it.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
  pub wait_ns: u64,
  pub run_ns: u64,
}

#[derive(Default)]
pub struct Dispatch {
  queue: VecDeque<Job>,
  workers: HashMap<WorkerId, Worker>,
  next_task: TaskId,
  next_worker: WorkerId,
  max_queue: usize,
  /// How many tasks wait in the workers' `pinned` queues.
  pinned: usize,
  /// Workers whose inbox went from empty to not empty since the last `take_wakes`.
  wakes: Vec<WorkerId>,
}

impl Dispatch {
  pub fn new(max_queue: usize) -> Self {
    Dispatch {
      max_queue,
      next_task: 1,
      next_worker: 1,
      ..Default::default()
    }
  }

  /// Tasks waiting for a worker: in the queue, or pinned to a worker without room.
  pub fn queue_size(&self) -> usize {
    self.queue.len() + self.pinned
  }

  /// Workers with no task, starting ones too (they take tasks as attached ones do):
  /// piscina's `idleThreads`, which counts the workers it starts with as ready at once.
  pub fn idle_workers(&self) -> usize {
    self
      .workers
      .values()
      .filter(|w| w.assigned.is_empty())
      .count()
  }

  /// A slot for a worker about to start; it takes queued tasks into its inbox at once.
  pub fn add_worker(&mut self, capacity: usize) -> WorkerId {
    let id = self.next_worker;
    self.next_worker += 1;
    let worker = Worker {
      capacity: capacity.max(1),
      attached: false,
      inbox: Vec::new(),
      assigned: HashMap::new(),
      pinned: VecDeque::new(),
      parked: false,
    };
    self.workers.insert(id, worker);
    self.fill(id);
    id
  }

  /// Attaches the worker, which has loaded its module: it is woken for what its inbox
  /// got while it started. False if it is unknown (it was removed while starting).
  pub fn attach(&mut self, worker: WorkerId) -> bool {
    let Some(w) = self.workers.get_mut(&worker) else {
      return false;
    };
    w.attached = true;
    if !w.inbox.is_empty() && !self.wakes.contains(&worker) {
      self.wakes.push(worker);
    }
    true
  }

  /// Queues a task, or hands it straight to a worker with room. `None` when the queue
  /// is full.
  pub fn submit(&mut self, payload: Arc<[u8]>) -> Option<TaskId> {
    let id = self.next_task;
    let job = Job { id, payload, submitted: Instant::now(), pinned: false };
    match self.with_room() {
      Some(worker) => self.assign(worker, job),
      None if self.queue_size() >= self.max_queue => return None,
      None => self.queue.push_back(job),
    }
    self.next_task += 1;
    Some(id)
  }

  /// A worker with room: an attached one before a starting one, then the least loaded;
  /// ties go to the lowest id, so that work concentrates on few workers and the others
  /// can go idle.
  fn with_room(&self) -> Option<WorkerId> {
    self
      .workers
      .iter()
      .filter(|(_, w)| w.has_room())
      .min_by_key(|(id, w)| (!w.attached, w.assigned.len(), **id))
      .map(|(id, _)| *id)
  }

  /// The worker a task to pin would go to (see `submit_to`): one with room, as for
  /// `submit`; else, if the queue has space, the one with the fewest tasks given or
  /// pinned to it. `None` when `submit` would refuse, or there is no worker at all; and
  /// when no worker has room and `may_start` (the pool may start another): a task
  /// pinned to a busy worker would wait for it even when the worker started for it is
  /// free, and forever if that busy task waits for it (Atomics on shared memory).
  /// Only the main thread submits, so the answer holds until its next submission.
  pub fn pin_target(&self, may_start: bool) -> Option<WorkerId> {
    if let Some(worker) = self.with_room() {
      return Some(worker);
    }
    if may_start || self.queue_size() >= self.max_queue {
      return None;
    }
    self
      .workers
      .iter()
      .min_by_key(|(id, w)| (w.assigned.len() + w.pinned.len(), **id))
      .map(|(id, _)| *id)
  }

  /// Submits a task that only `worker` can run (its payload went to that worker by
  /// another way), as `pin_target` chose. It waits for room on that worker, never on
  /// another, and ends with it if the worker exits.
  pub fn submit_to(&mut self, worker: WorkerId, payload: Arc<[u8]>) -> Option<TaskId> {
    let id = self.next_task;
    let job = Job { id, payload, submitted: Instant::now(), pinned: true };
    let w = self.workers.get_mut(&worker)?;
    if w.has_room() && w.pinned.is_empty() {
      self.assign(worker, job);
    } else {
      w.pinned.push_back(job);
      self.pinned += 1;
    }
    self.next_task += 1;
    Some(id)
  }

  fn assign(&mut self, worker: WorkerId, job: Job) {
    let w = self
      .workers
      .get_mut(&worker)
      .expect("assign to a known worker");
    post(
      &mut self.wakes,
      worker,
      w,
      Message::Run(job.id, job.payload.clone()),
    );
    w.assigned
      .insert(job.id, Assigned { job, started: None, aborted: false });
  }

  /// Gives `worker` queued tasks and those pinned to it while it has room, oldest first.
  fn fill(&mut self, worker: WorkerId) {
    while self.workers[&worker].has_room() {
      let w = self.workers.get_mut(&worker).expect("a known worker");
      let pinned_first = match (w.pinned.front(), self.queue.front()) {
        (Some(pinned), Some(queued)) => pinned.id < queued.id,
        (pinned, _) => pinned.is_some(),
      };
      let job = if pinned_first {
        self.pinned -= 1;
        w.pinned.pop_front()
      } else {
        self.queue.pop_front()
      };
      let Some(job) = job else {
        return;
      };
      self.assign(worker, job);
    }
  }

  /// The workers to wake, and how: their inbox has messages they have not been told
  /// about. A parked worker counts as awake from here on (the caller notifies it).
  pub fn take_wakes(&mut self) -> Vec<Wake> {
    let workers = &mut self.workers;
    self
      .wakes
      .drain(..)
      .map(|id| match workers.get_mut(&id) {
        Some(w) if w.parked => {
          w.parked = false;
          Wake::Parked(id)
        }
        _ => Wake::Loop(id),
      })
      .collect()
  }

  /// `worker`, with nothing in flight, is about to wait on its wake cell: its inbox if
  /// that has messages (then it does not wait); else it is parked until the next one.
  /// Under the same lock as every `post`, so no message can slip in between the check
  /// and the mark: it either is returned here or wakes the worker by `Wake::Parked`.
  pub fn park(&mut self, worker: WorkerId) -> Vec<Message> {
    let messages = self.take(worker);
    if messages.is_empty() {
      if let Some(w) = self.workers.get_mut(&worker) {
        w.parked = true;
      }
    }
    messages
  }

  /// Empties `worker`'s inbox; the tasks in it count as started from now.
  pub fn take(&mut self, worker: WorkerId) -> Vec<Message> {
    let Some(w) = self.workers.get_mut(&worker) else {
      return Vec::new();
    };
    // A worker that takes runs JavaScript: not parked, whatever woke it.
    w.parked = false;
    let messages = std::mem::take(&mut w.inbox);
    set_started(w, &messages, Some(Instant::now()));
    // Inbox empty again: the next message wakes the worker, unless it is taken first.
    forget_wake(&mut self.wakes, worker);
    messages
  }

  /// Puts back messages `take` handed out that never reached the worker's JavaScript,
  /// ahead of what came since: their tasks count as not started.
  pub fn untake(&mut self, worker: WorkerId, mut messages: Vec<Message>) {
    let Some(w) = self.workers.get_mut(&worker) else {
      return;
    };
    set_started(w, &messages, None);
    messages.append(&mut w.inbox);
    w.inbox = messages;
  }

  /// `worker` finished `task`; it gets the next queued task if any. `None` if the task
  /// was not assigned there (the worker was removed, say).
  pub fn complete(&mut self, worker: WorkerId, task: TaskId) -> Option<Timing> {
    let now = Instant::now();
    let assigned = self.workers.get_mut(&worker)?.assigned.remove(&task)?;
    let started = assigned.started.unwrap_or(now);
    self.fill(worker);
    Some(Timing {
      wait_ns: nanos(started - assigned.job.submitted),
      run_ns: nanos(now - started),
    })
  }

  /// The worker that has started `task`, if one has.
  pub fn started_on(&self, task: TaskId) -> Option<WorkerId> {
    self.workers.iter().find_map(|(id, w)| {
      let started = w.assigned.get(&task)?.started.is_some();
      started.then_some(*id)
    })
  }

  pub fn abort(&mut self, task: TaskId) -> Abort {
    if let Some(at) = self.queue.iter().position(|job| job.id == task) {
      self.queue.remove(at);
      return Abort::Dequeued;
    }
    for w in self.workers.values_mut() {
      if let Some(at) = w.pinned.iter().position(|job| job.id == task) {
        w.pinned.remove(at);
        self.pinned -= 1;
        return Abort::Dequeued;
      }
    }
    let found = self
      .workers
      .iter_mut()
      .find_map(|(id, w)| w.assigned.contains_key(&task).then_some((*id, w)));
    let Some((worker, w)) = found else {
      return Abort::Unknown;
    };
    let assigned = w.assigned.get_mut(&task).expect("found above");
    if assigned.started.is_none() {
      // Still in the inbox: take it back, the worker never sees it.
      w.inbox
        .retain(|m| !matches!(m, Message::Run(id, _) if *id == task));
      w.assigned.remove(&task);
      self.fill(worker);
      return Abort::Dequeued;
    }
    assigned.aborted = true;
    post(&mut self.wakes, worker, w, Message::Abort(task));
    Abort::Started { worker }
  }

  /// Removes a worker that exited. Tasks it had not started go back to the front of the
  /// queue; started ones go back too when `requeue_started` (the pool ended the worker
  /// itself, for another task's abort); aborted and pinned ones never do. Returns the
  /// tasks that ended with the worker; the queue is then handed to workers with room.
  pub fn remove_worker(&mut self, worker: WorkerId, requeue_started: bool) -> Vec<TaskId> {
    let Some(w) = self.workers.remove(&worker) else {
      return Vec::new();
    };
    forget_wake(&mut self.wakes, worker);
    self.pinned -= w.pinned.len();
    let mut ended: Vec<TaskId> = w.pinned.iter().map(|job| job.id).collect();
    let mut back: Vec<Job> = Vec::new();
    for assigned in w.assigned.into_values() {
      // An aborted task is settled already: it never goes back. A pinned one's payload
      // went to this worker alone.
      let pinned = assigned.job.pinned;
      if !assigned.aborted && !pinned && (assigned.started.is_none() || requeue_started) {
        back.push(assigned.job);
      } else {
        ended.push(assigned.job.id);
      }
    }
    back.sort_by_key(|job| job.id);
    for job in back.into_iter().rev() {
      self.queue.push_front(job);
    }
    ended.sort_unstable();
    self.redistribute();
    ended
  }

  /// Hands queued tasks to every worker with room.
  fn redistribute(&mut self) {
    let mut ids: Vec<WorkerId> = self.workers.keys().copied().collect();
    ids.sort_unstable();
    for id in ids {
      self.fill(id);
    }
  }

  /// Empties the queue and the pinned queues (a forced close); returns the tasks that
  /// were in them, oldest first.
  pub fn drain_queue(&mut self) -> Vec<TaskId> {
    let mut drained: Vec<TaskId> = self.queue.drain(..).map(|job| job.id).collect();
    for w in self.workers.values_mut() {
      drained.extend(w.pinned.drain(..).map(|job| job.id));
    }
    self.pinned = 0;
    drained.sort_unstable();
    drained
  }
}

/// Puts `message` in `worker`'s inbox; an inbox that was empty needs a wake-up.
fn post(wakes: &mut Vec<WorkerId>, worker: WorkerId, w: &mut Worker, message: Message) {
  if w.inbox.is_empty() {
    wakes.push(worker);
  }
  w.inbox.push(message);
}

/// Marks the tasks `messages` runs as started at `at` (taken), or not started (given back).
fn set_started(w: &mut Worker, messages: &[Message], at: Option<Instant>) {
  for message in messages {
    if let Message::Run(id, _) = message {
      if let Some(assigned) = w.assigned.get_mut(id) {
        assigned.started = at;
      }
    }
  }
}

fn forget_wake(wakes: &mut Vec<WorkerId>, worker: WorkerId) {
  wakes.retain(|w| *w != worker);
}

fn nanos(d: std::time::Duration) -> u64 {
  u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
  use super::*;

  fn payload(byte: u8) -> Arc<[u8]> {
    Arc::from(vec![byte])
  }

  fn run_ids(messages: &[Message]) -> Vec<TaskId> {
    messages
      .iter()
      .filter_map(|m| match m {
        Message::Run(id, _) => Some(*id),
        Message::Abort(_) => None,
      })
      .collect()
  }

  #[test]
  fn a_starting_worker_takes_tasks_to_capacity_and_is_woken_once_attached() {
    let mut d = Dispatch::new(100);
    let w = d.add_worker(2);
    let ids: Vec<_> = (0..3).map(|i| d.submit(payload(i)).unwrap()).collect();
    // Only the task beyond the starting worker's capacity is queued.
    assert_eq!(d.queue_size(), 1);
    d.take_wakes();
    assert!(d.attach(w));
    assert_eq!(d.take_wakes(), vec![Wake::Loop(w)]);
    assert_eq!(run_ids(&d.take(w)), ids[..2].to_vec());
    assert_eq!(d.queue_size(), 1);
    assert!(d.complete(w, ids[0]).is_some());
    // Completing made room: the queued task moved to the inbox.
    assert_eq!(run_ids(&d.take(w)), vec![ids[2]]);
    assert_eq!(d.queue_size(), 0);
    assert!(d.complete(w, ids[1]).is_some());
    assert!(d.complete(w, ids[2]).is_some());
    assert_eq!(d.idle_workers(), 1);
  }

  #[test]
  fn a_new_worker_takes_queued_tasks_and_attached_workers_come_first() {
    let mut d = Dispatch::new(100);
    let a = d.add_worker(2);
    assert_eq!(d.idle_workers(), 1);
    d.attach(a);
    let first = d.submit(payload(1)).unwrap();
    let b = d.add_worker(1);
    assert_eq!(d.idle_workers(), 1);
    // `a` is attached and has room: it gets the task, not the idle but starting `b`.
    let second = d.submit(payload(2)).unwrap();
    let third = d.submit(payload(3)).unwrap();
    let queued = d.submit(payload(4)).unwrap();
    assert_eq!(d.queue_size(), 1);
    let c = d.add_worker(1);
    assert_eq!(d.queue_size(), 0);
    d.attach(b);
    d.attach(c);
    assert_eq!(run_ids(&d.take(a)), vec![first, second]);
    assert_eq!(run_ids(&d.take(b)), vec![third]);
    assert_eq!(run_ids(&d.take(c)), vec![queued]);
  }

  #[test]
  fn wakes_a_worker_once_per_empty_inbox() {
    let mut d = Dispatch::new(100);
    let w = d.add_worker(4);
    d.attach(w);
    d.submit(payload(1));
    d.submit(payload(2));
    assert_eq!(d.take_wakes(), vec![Wake::Loop(w)]);
    assert_eq!(d.take(w).len(), 2);
    d.submit(payload(3));
    assert_eq!(d.take_wakes(), vec![Wake::Loop(w)]);
  }

  #[test]
  fn a_parked_worker_is_woken_as_parked_once_and_takes_what_came_first() {
    let mut d = Dispatch::new(100);
    let w = d.add_worker(1);
    d.attach(w);
    let first = d.submit(payload(1)).unwrap();
    // A message that came before the park is handed over instead: no wait, no wake-up.
    assert_eq!(run_ids(&d.park(w)), vec![first]);
    d.take_wakes();
    d.complete(w, first);
    assert!(d.park(w).is_empty());
    let second = d.submit(payload(2)).unwrap();
    assert_eq!(d.take_wakes(), vec![Wake::Parked(w)]);
    // Announced once; the worker is awake from then on, and takes it.
    assert!(d.take_wakes().is_empty());
    assert_eq!(run_ids(&d.take(w)), vec![second]);
    d.complete(w, second);
    let third = d.submit(payload(3)).unwrap();
    assert_eq!(d.take_wakes(), vec![Wake::Loop(w)]);
    assert_eq!(run_ids(&d.take(w)), vec![third]);
  }

  #[test]
  fn a_worker_that_takes_is_no_longer_parked() {
    let mut d = Dispatch::new(100);
    let w = d.add_worker(1);
    d.attach(w);
    assert!(d.park(w).is_empty());
    // Woken some other way (a wait that returned early): it takes, and runs JavaScript.
    assert!(d.take(w).is_empty());
    d.submit(payload(1));
    assert_eq!(d.take_wakes(), vec![Wake::Loop(w)]);
  }

  #[test]
  fn spreads_over_the_least_loaded_workers() {
    let mut d = Dispatch::new(100);
    let a = d.add_worker(1);
    let b = d.add_worker(1);
    d.attach(a);
    d.attach(b);
    let t1 = d.submit(payload(1)).unwrap();
    let t2 = d.submit(payload(2)).unwrap();
    assert_eq!(run_ids(&d.take(a)), vec![t1]);
    assert_eq!(run_ids(&d.take(b)), vec![t2]);
  }

  #[test]
  fn refuses_past_max_queue() {
    let mut d = Dispatch::new(1);
    assert!(d.submit(payload(1)).is_some());
    assert!(d.submit(payload(2)).is_none());
    assert_eq!(d.queue_size(), 1);
  }

  #[test]
  fn aborts_queued_unstarted_and_running_tasks() {
    let mut d = Dispatch::new(100);
    let w = d.add_worker(1);
    d.attach(w);
    let running = d.submit(payload(1)).unwrap();
    let queued = d.submit(payload(2)).unwrap();
    assert_eq!(d.abort(queued), Abort::Dequeued);
    assert_eq!(d.queue_size(), 0);
    // Assigned but not taken yet: leaves the inbox, the worker never sees it.
    assert_eq!(d.abort(running), Abort::Dequeued);
    assert!(d.take(w).is_empty());
    let started = d.submit(payload(3)).unwrap();
    d.take(w);
    assert_eq!(d.started_on(started), Some(w));
    assert_eq!(d.abort(started), Abort::Started { worker: w });
    assert!(matches!(d.take(w).as_slice(), [Message::Abort(id)] if *id == started));
    assert_eq!(d.abort(999), Abort::Unknown);
  }

  #[test]
  fn a_dead_worker_ends_its_started_tasks_and_requeues_the_rest() {
    let mut d = Dispatch::new(100);
    let w = d.add_worker(2);
    d.attach(w);
    let started = d.submit(payload(1)).unwrap();
    d.take(w);
    let unstarted = d.submit(payload(2)).unwrap();
    let queued = d.submit(payload(3)).unwrap();
    assert_eq!(d.remove_worker(w, false), vec![started]);
    assert_eq!(d.queue_size(), 2);
    let v = d.add_worker(2);
    d.attach(v);
    // The unstarted task keeps its place ahead of the one that was queued.
    assert_eq!(run_ids(&d.take(v)), vec![unstarted, queued]);
    assert!(d.complete(w, started).is_none());
  }

  #[test]
  fn a_worker_ended_for_an_abort_requeues_its_other_started_tasks() {
    let mut d = Dispatch::new(100);
    let w = d.add_worker(2);
    d.attach(w);
    let aborted = d.submit(payload(1)).unwrap();
    let innocent = d.submit(payload(2)).unwrap();
    d.take(w);
    assert_eq!(d.abort(aborted), Abort::Started { worker: w });
    assert_eq!(d.remove_worker(w, true), vec![aborted]);
    let v = d.add_worker(2);
    d.attach(v);
    assert_eq!(run_ids(&d.take(v)), vec![innocent]);
  }

  #[test]
  fn untaken_tasks_are_not_started_and_go_back_when_their_worker_dies() {
    let mut d = Dispatch::new(100);
    let w = d.add_worker(3);
    d.attach(w);
    let started = d.submit(payload(1)).unwrap();
    d.take(w);
    let untaken = d.submit(payload(2)).unwrap();
    let later = d.submit(payload(3)).unwrap();
    let messages = d.take(w);
    assert_eq!(run_ids(&messages), vec![untaken, later]);
    assert_eq!(d.abort(later), Abort::Started { worker: w });
    d.untake(w, messages);
    assert_eq!(d.started_on(untaken), None);
    // The started task ends with the worker, the aborted one too; the untaken one waits.
    assert_eq!(d.remove_worker(w, false), vec![started, later]);
    assert_eq!(d.queue_size(), 1);
    let v = d.add_worker(1);
    d.attach(v);
    assert_eq!(run_ids(&d.take(v)), vec![untaken]);
  }

  #[test]
  fn timing_counts_wait_until_taken_and_run_until_complete() {
    let mut d = Dispatch::new(100);
    let w = d.add_worker(1);
    let id = d.submit(payload(1)).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(5));
    d.attach(w);
    d.take(w);
    std::thread::sleep(std::time::Duration::from_millis(5));
    let timing = d.complete(w, id).unwrap();
    assert!(timing.wait_ns >= 5_000_000, "{timing:?}");
    assert!(timing.run_ns >= 5_000_000, "{timing:?}");
  }

  #[test]
  fn force_close_drains_only_the_queue() {
    let mut d = Dispatch::new(100);
    let w = d.add_worker(1);
    d.attach(w);
    let running = d.submit(payload(1)).unwrap();
    let queued = d.submit(payload(2)).unwrap();
    assert_eq!(d.drain_queue(), vec![queued]);
    assert_eq!(d.queue_size(), 0);
    assert!(d.complete(w, running).is_some());
  }

  #[test]
  fn a_pinned_task_waits_for_its_worker_and_ends_with_it() {
    let mut d = Dispatch::new(100);
    let a = d.add_worker(1);
    let b = d.add_worker(1);
    d.attach(a);
    d.attach(b);
    assert_eq!(d.pin_target(false), Some(a));
    let first = d.submit_to(a, payload(1)).unwrap();
    assert_eq!(d.pin_target(false), Some(b));
    let second = d.submit_to(b, payload(2)).unwrap();
    // No room anywhere: the least loaded, counting what waits for it.
    assert_eq!(d.pin_target(false), Some(a));
    let waiting = d.submit_to(a, payload(3)).unwrap();
    let queued = d.submit(payload(4)).unwrap();
    assert_eq!(d.queue_size(), 2);
    assert_eq!(run_ids(&d.take(a)), vec![first]);
    assert_eq!(run_ids(&d.take(b)), vec![second]);
    // b has room first, but the pinned task is not for it.
    d.complete(b, second);
    assert_eq!(run_ids(&d.take(b)), vec![queued]);
    assert_eq!(d.queue_size(), 1);
    // a's started and waiting pinned tasks end with it; neither goes to b.
    assert_eq!(d.remove_worker(a, true), vec![first, waiting]);
    assert_eq!(d.queue_size(), 0);
    d.complete(b, queued);
    assert!(d.take(b).is_empty());
  }

  #[test]
  fn a_pinned_task_finding_no_room_waits_for_a_new_worker_when_one_may_start() {
    let mut d = Dispatch::new(100);
    let busy = d.add_worker(1);
    d.submit(payload(0)).unwrap();
    assert_eq!(d.pin_target(true), None, "start a worker for it instead");
    assert_eq!(d.pin_target(false), Some(busy));
    let started = d.add_worker(1);
    assert_eq!(d.pin_target(true), Some(started), "the new worker has room");
    let pinned = d.submit_to(started, payload(1)).unwrap();
    assert_eq!(d.queue_size(), 0);
    d.attach(started);
    assert_eq!(run_ids(&d.take(started)), vec![pinned]);
  }

  #[test]
  fn pinned_and_queued_tasks_run_oldest_first_and_count_against_max_queue() {
    let mut d = Dispatch::new(2);
    let w = d.add_worker(1);
    assert_eq!(
      d.pin_target(false),
      Some(w),
      "a worker still starting has room for a pinned task"
    );
    let first = d.submit(payload(0)).unwrap();
    let pinned = d.submit_to(w, payload(1)).unwrap();
    let queued = d.submit(payload(2)).unwrap();
    assert_eq!(
      d.queue_size(),
      2,
      "a pinned task waiting for its worker counts as queued"
    );
    assert_eq!(d.pin_target(false), None, "the queue is full");
    assert!(d.submit(payload(3)).is_none());
    d.attach(w);
    assert_eq!(run_ids(&d.take(w)), vec![first]);
    d.complete(w, first);
    assert_eq!(run_ids(&d.take(w)), vec![pinned]);
    d.complete(w, pinned);
    assert_eq!(run_ids(&d.take(w)), vec![queued]);
    let later = d.submit_to(w, payload(4)).unwrap();
    assert_eq!(d.abort(later), Abort::Dequeued);
    assert_eq!(d.queue_size(), 0);
    let drained = d.submit_to(w, payload(5)).unwrap();
    assert_eq!(d.drain_queue(), vec![drained]);
    assert_eq!(d.queue_size(), 0);
  }

  /// Where the model says each task is: in the dispatch (queued or with a worker) until
  /// it ends, exactly once.
  fn check(d: &Dispatch, submitted: &[TaskId], ended: &HashMap<TaskId, u32>) {
    let mut places: HashMap<TaskId, u32> = HashMap::new();
    for job in &d.queue {
      *places.entry(job.id).or_default() += 1;
    }
    let mut pinned = 0;
    for w in d.workers.values() {
      pinned += w.pinned.len();
      for job in &w.pinned {
        *places.entry(job.id).or_default() += 1;
      }
      assert!(
        w.pinned.is_empty() || !w.has_room(),
        "a pinned task waits while its worker has room"
      );
      assert!(w.assigned.len() <= w.capacity);
      for (id, assigned) in &w.assigned {
        *places.entry(*id).or_default() += 1;
        let in_inbox = w
          .inbox
          .iter()
          .any(|m| matches!(m, Message::Run(t, _) if t == id));
        assert_eq!(
          in_inbox,
          assigned.started.is_none(),
          "task {id}: inbox and start disagree"
        );
      }
      if !d.queue.is_empty() {
        assert!(!w.has_room(), "a task waits while a worker has room");
      }
    }
    assert_eq!(d.pinned, pinned, "the count of pinned tasks is off");
    for (id, w) in &d.workers {
      // No lost wake-up: a parked worker's messages are announced by a pending wake.
      assert!(
        !w.parked || w.inbox.is_empty() || d.wakes.contains(id),
        "parked worker {id} has messages no wake announces"
      );
    }
    for id in submitted {
      let ends = ended.get(id).copied().unwrap_or(0);
      assert!(ends <= 1, "task {id} ended {ends} times");
      assert_eq!(
        places.get(id).copied().unwrap_or(0),
        1 - ends,
        "task {id}: wrong number of places"
      );
    }
  }

  fn end(ended: &mut HashMap<TaskId, u32>, task: TaskId) {
    *ended.entry(task).or_default() += 1;
  }

  #[test]
  fn random_operations_keep_each_task_in_one_place_until_it_ends_once() {
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |n: usize| {
      seed ^= seed << 13;
      seed ^= seed >> 7;
      seed ^= seed << 17;
      (seed % n as u64) as usize
    };
    for _ in 0..300 {
      let mut d = Dispatch::new(1 + next(6));
      let mut submitted = Vec::new();
      let mut ended: HashMap<TaskId, u32> = HashMap::new();
      let mut aborted = Vec::new();
      for _ in 0..150 {
        let mut workers: Vec<WorkerId> = d.workers.keys().copied().collect();
        workers.sort_unstable();
        let worker = (!workers.is_empty()).then(|| workers[next(workers.len())]);
        match next(13) {
          0 => {
            d.add_worker(1 + next(3));
          }
          1 => {
            if let Some(w) = worker {
              d.attach(w);
            }
          }
          2 | 3 => {
            let room = d.workers.values().any(Worker::has_room);
            let full = d.queue_size() >= d.max_queue;
            match d.submit(payload(0)) {
              Some(id) => submitted.push(id),
              None => assert!(!room && full, "refused with room or queue space"),
            }
          }
          4 => {
            if let Some(w) = worker {
              d.take(w);
            }
          }
          5 => {
            let started: Vec<(WorkerId, TaskId)> = d
              .workers
              .iter()
              .flat_map(|(w, s)| {
                s.assigned
                  .iter()
                  .filter(|(_, r)| r.started.is_some())
                  .map(|(t, _)| (*w, *t))
              })
              .collect();
            if !started.is_empty() {
              let (w, task) = started[next(started.len())];
              assert!(d.complete(w, task).is_some());
              end(&mut ended, task);
              assert!(d.complete(w, task).is_none(), "completed twice");
            }
          }
          6 => {
            if !submitted.is_empty() {
              let task = submitted[next(submitted.len())];
              let done = ended.contains_key(&task);
              match d.abort(task) {
                Abort::Unknown => assert!(done, "task {task} unknown before it ended"),
                Abort::Dequeued => end(&mut ended, task),
                // The worker finishes it or dies with it.
                Abort::Started { worker: _ } => {
                  assert!(!done);
                  aborted.push(task);
                }
              }
            }
          }
          7 => {
            if let Some(w) = worker {
              for task in d.remove_worker(w, next(2) == 0) {
                end(&mut ended, task);
              }
            }
          }
          8 => {
            for task in d.drain_queue() {
              end(&mut ended, task);
            }
          }
          10 => {
            if let Some(w) = d.pin_target(false) {
              let id = d.submit_to(w, payload(0)).expect("a known worker");
              submitted.push(id);
            }
          }
          9 => {
            // A delivery that failed: taken, maybe aborted meanwhile, put back.
            if let Some(w) = worker {
              let messages = d.take(w);
              if let Some(task) = run_ids(&messages).first().copied().filter(|_| next(2) == 0) {
                if let Abort::Started { worker: _ } = d.abort(task) {
                  aborted.push(task);
                }
              }
              d.untake(w, messages);
            }
          }
          11 => {
            if let Some(w) = worker {
              d.park(w);
            }
          }
          _ => {
            for wake in d.take_wakes() {
              if let Wake::Parked(w) = wake {
                assert!(
                  !d.workers[&w].parked,
                  "worker {w} still parked after its wake"
                );
              }
            }
          }
        }
        check(&d, &submitted, &ended);
        // An aborted task that had started never runs again.
        assert!(d.queue.iter().all(|job| !aborted.contains(&job.id)));
      }
    }
  }
}
