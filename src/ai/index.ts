export { type AnthropicPresetOptions, anthropic } from './anthropic.js'
export {
  type CachePolicy,
  isCacheableCall,
  isDeterministic,
} from './deterministic.js'
export { errorOf, isErrorAnswer } from './error-body.js'
export { type GeminiPresetOptions, gemini } from './gemini.js'
export { type OpenAIPresetOptions, openai } from './openai.js'
export { type Params, paramsOf } from './params.js'
export type { PresetOptions } from './preset.js'
export { parseEvents, type ServerEvent } from './sse.js'
export { estimateInputTokens, requestedOutputTokens } from './tokens.js'
export { readStreamUsage, readUsage, type Usage, usageOf } from './usage.js'
