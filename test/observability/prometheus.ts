// The real Prometheus, to read /metrics with the parser Prometheus itself uses: promtool checks
// the text, and a Prometheus server scrapes the master and answers queries over the values.
// Debian's `prometheus` package brings both (installed by .ci/run); without it these tests skip.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';

export const PROMETHEUS = '/usr/bin/prometheus';
export const PROMTOOL = '/usr/bin/promtool';

/** Why a test needing Prometheus cannot run here, or undefined when it can. */
export function prometheusMissing(): string | undefined {
  return existsSync(PROMETHEUS) && existsSync(PROMTOOL) ? undefined : `Debian's prometheus package is not installed (${PROMETHEUS}, ${PROMTOOL}): apt-get install prometheus`;
}

/** `promtool check metrics` on the text: its problems (lint and syntax), one per line; empty when clean. */
export function promtoolProblems(text: string): string[] {
  const result = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30_000 });
  return `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
}

/** promtool's problems with an hsu exposition, less prom-client's own three `nodejs_active_*_total` gauge names. */
export function hsuPromtoolProblems(text: string): string[] {
  return promtoolProblems(text).filter((p) => !/^nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/.test(p));
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Sample {
  readonly metric: Record<string, string>;
  readonly value: number;
}

export class PrometheusServer {
  private constructor(
    private readonly child: ChildProcess,
    private readonly base: string,
    private readonly dir: string,
  ) {}

  /** Scrapes `target` (host:port, path /metrics) every 500 ms. */
  static async start(target: string): Promise<PrometheusServer> {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hsu-prometheus-'));
    const port = await freePort();
    writeFileSync(path.join(dir, 'prometheus.yml'), `global:\n  scrape_interval: 500ms\n  scrape_timeout: 400ms\nscrape_configs:\n  - job_name: hsu\n    static_configs:\n      - targets: ['${target}']\n`);
    const child = spawn(PROMETHEUS, [`--config.file=${path.join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(dir, 'data')}`, `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + chunk.toString()).slice(-4000)));
    const server = new PrometheusServer(child, `http://127.0.0.1:${port}`, dir);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ready = await fetch(`${server.base}/-/ready`, { signal: AbortSignal.timeout(1000) }).then((r) => r.ok, () => false);
      if (ready) return server;
      if (child.exitCode !== null || Date.now() > deadline) {
        await server.stop();
        throw new Error(`prometheus did not become ready: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  async query(expr: string): Promise<Sample[]> {
    const response = await fetch(`${this.base}/api/v1/query?query=${encodeURIComponent(expr)}`, { signal: AbortSignal.timeout(5000) });
    const body = (await response.json()) as { status: string; error?: string; data?: { result: { metric: Record<string, string>; value: [number, string] }[] } };
    if (body.status !== 'success') throw new Error(`query ${expr}: ${body.error ?? response.status}`);
    return (body.data?.result ?? []).map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
  }

  /** The scrape target's health as Prometheus saw it in its last scrape (`up`, lastError). */
  async target(): Promise<{ health: string; lastError: string }> {
    const body = (await (await fetch(`${this.base}/api/v1/targets`, { signal: AbortSignal.timeout(5000) })).json()) as { data: { activeTargets: { health: string; lastError: string }[] } };
    return body.data.activeTargets[0] ?? { health: 'unknown', lastError: 'no target' };
  }

  /** Queries until `accept` takes the samples (Prometheus scrapes on its own clock: there is no event to wait on). */
  async waitFor(expr: string, accept: (samples: Sample[]) => boolean, timeoutMs = 20_000): Promise<Sample[]> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const last = await this.query(expr);
      if (accept(last)) return last;
      if (Date.now() > deadline) throw new Error(`prometheus: ${expr} never matched within ${timeoutMs} ms; last: ${JSON.stringify(last)}; target: ${JSON.stringify(await this.target())}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  /** The value of the one sample `expr` selects, once there is exactly one (and `accept` takes it). */
  async one(expr: string, accept: (value: number) => boolean = () => true): Promise<number> {
    const [sample] = await this.waitFor(expr, (s) => s.length === 1 && accept(s[0]!.value));
    return sample!.value;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const gone = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
