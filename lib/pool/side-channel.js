'use strict'

// The way for what V8's serialization format cannot carry through the native queue:
// buffers that move (a transferList, move()), SharedArrayBuffers (which postMessage
// shares), MessagePorts. Only postMessage moves a backing store from one isolate to
// another. Each worker has a MessageChannel to the main thread; such a task or result is
// posted on it, and the payload the core carries is a marker naming the channel and the
// message. The receiving side takes that message from its port synchronously
// (receiveMessageOnPort) when the core hands it the marker: the core's order and
// wake-ups stay the only ones, and no 'message' listener ever runs. A task sent this
// way is pinned to the worker whose port it went to (PoolCore.submitTo). Plain tasks
// and results never come here.

const { MessageChannel, receiveMessageOnPort } = require('node:worker_threads')
const { messageLost } = require('../shared/errors')
const { CHANNEL } = require('./protocol')

// A marker: a tag that never starts V8's format (0xFF does), the channel's worker id
// (u32), the message's ticket (f64: a task id, or a count).
const TAG = 0x00
const MARKER_LENGTH = 13

function isMarker(payload) {
  return payload.length === MARKER_LENGTH && payload[0] === TAG
}

const workerOf = (marker) => marker.readUInt32LE(1)
const ticketOf = (marker) => marker.readDoubleLE(5)

/** One end of a worker's channel, on either side. */
class SideChannel {
  #id
  #port
  #tickets = 0

  /** @param {number} id the core's id of the worker */
  constructor(id, port) {
    this.#id = id
    this.#port = port
  }

  /**
   * Posts `value`, moving `transferList` (postMessage's errors as they are: then
   * nothing moved); returns the marker for the core to carry.
   */
  post(value, transferList, ticket = ++this.#tickets) {
    this.#port.postMessage([ticket, value], transferList)
    const marker = Buffer.allocUnsafe(MARKER_LENGTH)
    marker[0] = TAG
    marker.writeUInt32LE(this.#id, 1)
    marker.writeDoubleLE(ticket, 5)
    return marker
  }

  /**
   * The value posted under the marker's ticket. Messages are taken in the order they
   * were posted; one met before it belongs to a task that ended without taking it
   * (aborted before it started, or settled already), and is dropped.
   */
  take(marker) {
    const ticket = ticketOf(marker)
    for (let entry; (entry = receiveMessageOnPort(this.#port)) !== undefined; ) {
      if (entry.message[0] === ticket) return entry.message[1]
    }
    throw messageLost()
  }

  close() {
    this.#port.close()
  }
}

/** The main thread's ends of a pool's channels, by worker id. */
class SideChannels {
  #channels = new Map()

  /** Opens `worker`'s channel: its end goes to the worker first of all messages. */
  open(id, worker) {
    const { port1, port2 } = new MessageChannel()
    worker.postMessage([CHANNEL, port2], [port2])
    this.#channels.set(id, new SideChannel(id, port1))
  }

  /** After the worker's exit, once its completions are settled. */
  close(id) {
    this.#channels.get(id)?.close()
    this.#channels.delete(id)
  }

  post(id, value, transferList) {
    return this.#channels.get(id).post(value, transferList)
  }

  /** What a worker posted under `marker`. */
  take(marker) {
    const channel = this.#channels.get(workerOf(marker))
    if (channel === undefined) throw messageLost()
    return channel.take(marker)
  }
}

/**
 * The worker's end of its channel, the first message the pool posts to it; before the
 * task module loads, so that no listener of the module's sees it. Nearly always there
 * at once; else the worker waits for it.
 */
async function connect(id, parentPort) {
  let message = receiveMessageOnPort(parentPort)?.message
  if (message === undefined) {
    message = await new Promise((resolve) => parentPort.once('message', resolve))
  }
  if (!Array.isArray(message) || message[0] !== CHANNEL) throw new TypeError('the pool did not send the worker its channel first')
  return new SideChannel(id, message[1])
}

module.exports = { SideChannel, SideChannels, connect, isMarker }
