/**
 * `breakwater/queue`: calls that can wait. A durable background queue (BullMQ on Redis, or an
 * in-memory one) whose jobs run through breakwater, with retries across time and a dead-letter
 * list. Its own entry, so that `import('breakwater')` never loads BullMQ.
 */
export type { QueueCounts, QueueEvent } from './backend.js'
export type { DeadLetterList } from './dead-letter.js'
export type {
  HttpJobResult,
  JobData,
  JobHistoryEntry,
  JobInfo,
  JobState,
  QueuedRequest,
} from './job.js'
export type { QueueBackoff, QueueOptions } from './options.js'
export {
  type BreakwaterQueue,
  type CreateQueueOptions,
  createQueue,
  type JobOptions,
} from './queue.js'
