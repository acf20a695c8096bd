// Shared by the observability tests: module workers in each deployment, a control API on a real
// loopback port, and a reader for single samples of our own exposition (the real parser is
// Prometheus itself: see prometheus.ts).
import path from 'node:path';
import { apiSettingsSchema, resolveApiSettings } from '../../src/api/config.js';
import { ApiServer } from '../../src/api/server.js';
import type { WorkerConfigInput } from '../../src/index.js';
import type { TestMaster } from '../helpers/master-helpers.js';
import { repoRoot } from '../helpers/paths.js';

export type Deployment = 'inline' | 'thread' | 'process';
export const DEPLOYMENTS: readonly Deployment[] = ['inline', 'thread', 'process'];

export function obsFixture(name: string): string {
  return path.join(repoRoot, 'test', 'observability', 'fixtures', name);
}

/** The traced fixture module, deployed inline, in a thread, or in its own process (hosted by hsu). */
export function tracedWorker(id: string, deployment: Deployment, extra: Record<string, unknown> = {}): WorkerConfigInput {
  const module = { module_type: 'plugin', module_path: obsFixture('traced.mjs') };
  if (deployment === 'process') return { id, type: 'process', module, ...extra } as WorkerConfigInput;
  return { id, type: 'module', module: { ...module, isolation: deployment }, ...extra } as WorkerConfigInput;
}

/** The control API of `t.master` on 127.0.0.1 (an ephemeral port) and nothing else. */
export async function startTcpApi(t: TestMaster): Promise<{ server: ApiServer; url: string; host: string }> {
  const settings = resolveApiSettings(apiSettingsSchema.parse({ socket: false, listen: '127.0.0.1:0', token: 'observability-test-token-0123' }), path.join(t.dir, 'state'), t.dir);
  const server = await ApiServer.start({ host: { master: t.master, logDir: path.join(t.dir, 'logs') }, settings });
  const url = server.endpoint.url ?? '';
  return { server, url, host: new URL(url).host };
}

/** The value of one sample in exposition text (exact name, labels in the written order), or undefined. */
export function sampleValue(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const wanted = Object.entries(labels);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const open = line.indexOf('{');
    const close = line.lastIndexOf('}');
    const labelText = open >= 0 && open < name.length + 1 ? line.slice(open + 1, close) : '';
    if (wanted.every(([k, v]) => labelText.includes(`${k}="${v}"`))) return Number(line.slice((close >= 0 ? close : name.length) + 1).trim());
  }
  return undefined;
}
