import { execFile } from 'node:child_process'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const root = resolve(import.meta.dirname, '../..')
// Inside the repository, so that the snippets' `@anthropic-ai/sdk`, `openai`... resolve from
// its node_modules. `breakwater` resolves to the declarations the build ships, written first
// into `types` by the build's own tsconfig: what a user's tsc sees, not the sources.
const dir = join(root, 'node_modules/.cache/breakwater-readme')
const types = join(dir, 'types')

interface Snippet {
  readonly line: number
  readonly code: string
}

/** Every ```ts block of a Markdown text, with the line its code starts on. */
function snippetsOf(markdown: string): Snippet[] {
  const snippets: Snippet[] = []
  const lines = markdown.split('\n')
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]?.trim() !== '```ts') continue
    const start = i + 1
    while (i + 1 < lines.length && lines[i + 1]?.trim() !== '```') i++
    snippets.push({ line: start + 1, code: lines.slice(start, i + 1).join('\n') })
    i++
  }
  return snippets
}

/** Each snippet as a module of its own (`export {}` when it imports nothing), as a reader pastes it. */
async function writeSnippets(snippets: Snippet[]): Promise<void> {
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  // What the README tells a new app to set: ESM, so top-level await compiles.
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n')
  const entry = (path: string) => [`./types/${path}index.d.ts`]
  const compilerOptions = {
    paths: {
      breakwater: entry(''),
      'breakwater/ai': entry('ai/'),
      'breakwater/queue': entry('queue/'),
    },
  }
  await writeFile(
    join(dir, 'tsconfig.json'),
    JSON.stringify(
      { extends: '../../../tsconfig.json', compilerOptions, include: ['*.ts'] },
      null,
      2,
    ),
  )
  for (const { line, code } of snippets) {
    await writeFile(join(dir, `readme-${line}.ts`), `${code}\nexport {}\n`)
  }
}

const tsc = (project: string, ...flags: string[]) =>
  promisify(execFile)(
    process.execPath,
    [join(root, 'node_modules/typescript/bin/tsc'), '-p', project, ...flags],
    {
      cwd: root,
    },
  ).then(
    () => '',
    (error: { stdout?: string }) => error.stdout ?? String(error),
  )

describe('README.md', () => {
  it('finds the code of each ```ts block with its line', () => {
    const found = snippetsOf('a\n```ts\nconst x = 1\n```\n```sh\nls\n```\n```ts\nlet y\n```\n')
    expect(found).toEqual([
      { line: 3, code: 'const x = 1' },
      { line: 9, code: 'let y' },
    ])
  })

  it('has TypeScript blocks that each compile alone, strict, against the declarations breakwater ships', async () => {
    const snippets = snippetsOf(await readFile(join(root, 'README.md'), 'utf8'))
    expect(snippets.length).toBeGreaterThan(5)
    await writeSnippets(snippets)
    expect(await tsc(join(root, 'tsconfig.build.json'), '--outDir', types)).toBe('')
    // Errors name readme-<line>.ts: the README line the block's code starts on.
    expect(await tsc(join(dir, 'tsconfig.json'))).toBe('')
  }, 60_000)
})

describe('examples/', () => {
  it('import breakwater by its package name, never ../src or the test helpers', async () => {
    const files = (await readdir(join(root, 'examples'))).filter((f) => f.endsWith('.ts'))
    expect(files.length).toBeGreaterThan(0)
    for (const file of files) {
      const text = await readFile(join(root, 'examples', file), 'utf8')
      expect(text, file).not.toMatch(/from '\.\.\//)
    }
  })
})
