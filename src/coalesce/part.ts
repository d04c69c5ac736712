import type { PartFactory } from '../part.js'
import { createCoalesceStage } from './coalesce-stage.js'
import { createLeaseStage } from './redis-lease.js'

/** Identical concurrent calls of this process share one trip down the chain. */
export const coalescePart: PartFactory = (context, options) =>
  options.coalesce ? createCoalesceStage(context) : undefined

/**
 * ...and across processes, in distributed mode with a cache to wait on: below the in-process
 * single flight, so one process makes at most one lease attempt per key.
 */
export const leasePart: PartFactory = (context, options, shared) =>
  options.coalesce && shared.redis && shared.cacheEntries
    ? createLeaseStage(context, shared.redis, shared.cacheEntries)
    : undefined
