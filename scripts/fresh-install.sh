#!/usr/bin/env bash
# A fresh app without Redis: packs breakwater as published, installs the tarball into an empty
# project, then checks that no Redis package came with it, that both entry points import, that
# a call goes through, and that asking for Redis names the package to install. Run after
# `npm run build`.
set -euo pipefail
cd "$(dirname "$0")/.."

app="$(mktemp -d)"
trap 'rm -rf "$app"' EXIT
tarball="$(npm pack --ignore-scripts --silent --pack-destination "$app" | tail -1)"
cd "$app"
npm init -y >/dev/null
npm pkg set type=module >/dev/null
npm install --no-audit --no-fund --silent "./$tarball"

if npm ls --all --parseable | grep -E 'node_modules/(@redis/client|@keyv/redis|redis|ioredis)$'; then
  echo "fresh-install: a Redis package was installed without being asked for" >&2
  exit 1
fi
node --input-type=module -e "
const { createFetch, wrap } = await import('breakwater')
await import('breakwater/ai')
const { createServer } = await import('node:http')
const server = createServer((req, res) => res.end('pong')).listen(0, '127.0.0.1')
await new Promise((resolve) => server.once('listening', resolve))
const fetch = createFetch()
const body = await (await fetch('http://127.0.0.1:' + server.address().port + '/')).text()
if (body !== 'pong') throw new Error('fetch through breakwater answered ' + body)
await fetch.close()
server.close()
await wrap(async () => 1).close()
try {
  createFetch({ redis: 'redis://127.0.0.1:1' })
  throw new Error('createFetch with redis and no @redis/client did not throw')
} catch (error) {
  const want = 'redis needs the @redis/client package: npm install @redis/client'
  if (error.message !== want) throw error
}
console.log('fresh-install: ok (' + process.version + ')')
"
npm ls --depth=0
