import { MemoryBackend } from '../../src/queue/memory-backend.js'
import { queueBackendConformance } from '../conformance/queue-backend.js'

queueBackendConformance(
  'MemoryBackend',
  async (options, onEvent) => new MemoryBackend(options, onEvent),
)
