// Nothing NATS-related is loaded without a cluster: importing hsu, its cluster room (for the
// schema) and the JetStream log's module loads no @nats-io module until something connects.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';

const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'src');

const probe = `
import { registerHooks } from 'node:module';
const loaded = [];
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); loaded.push(r.url); return r; } });
await import(${JSON.stringify(path.join(dist, 'index.js'))});
const cluster = await import(${JSON.stringify(path.join(dist, 'cluster', 'index.js'))});
await import(${JSON.stringify(path.join(dist, 'messaging', 'jetstream', 'index.js'))});
cluster.parseClusterConfig({ node: 'x' });
const before = loaded.filter((url) => url.includes('@nats-io')).length;
await import(${JSON.stringify(path.join(dist, 'cluster', 'nats.js'))}).then((m) => m.loadNats());
const after = loaded.filter((url) => url.includes('@nats-io')).length;
process.stdout.write(JSON.stringify({ before, after }));
`;

void describe('lazy loading', () => {
  it('loads no NATS module until a connection is made', () => {
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', probe], { encoding: 'utf8' });
    const { before, after } = JSON.parse(out) as { before: number; after: number };
    assert.equal(before, 0, 'no @nats-io module loaded by the imports');
    assert.ok(after > 0, 'the probe itself can see NATS being loaded');
  });
});
