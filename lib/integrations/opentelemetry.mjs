// ESM entry of async-baton/opentelemetry: the CommonJS module's objects, so that both
// forms share one manager class and one worker registration.
import opentelemetry from './opentelemetry.js'

export const { BatonContextManager } = opentelemetry
