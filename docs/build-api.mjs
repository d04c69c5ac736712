// npm run docs: an API reference from the doc comments, in docs/api/markdown (not committed).
// api-extractor reads the built .d.ts with the TypeScript it bundles (TypeDoc needs the
// TypeScript 5/6 JS API, which TypeScript 7, this repository's compiler, no longer has).
import { execFileSync } from 'node:child_process'
import { readFileSync, rmSync, writeFileSync } from 'node:fs'

const run = (bin, ...args) => execFileSync('npx', ['--no-install', bin, ...args], { stdio: 'inherit' })

rmSync('docs/api', { recursive: true, force: true })
run('api-extractor', 'run', '-c', 'docs/api-extractor.json')
run('api-extractor', 'run', '-c', 'docs/api-extractor-ai.json')
// Both entry points belong to one package; api-documenter wants each model under a package
// name of its own (and a valid one: 'breakwater/ai' is not), so the ai one is 'breakwater-ai'.
const ai = 'docs/api/json/breakwater-ai.api.json'
const model = readFileSync(ai, 'utf8')
  .replaceAll('"canonicalReference": "breakwater!', '"canonicalReference": "breakwater-ai!')
  .replace('"name": "breakwater"', '"name": "breakwater-ai"')
writeFileSync(ai, model)
run('api-documenter', 'markdown', '-i', 'docs/api/json', '-o', 'docs/api/markdown')
