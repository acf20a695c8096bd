/**
 * `type: exec`: a command that must exit 0 within the timeout (Kubernetes' exec probe). It runs in
 * its own process group, so a probe that hangs is killed with everything it started. A string runs
 * through /bin/sh -c; a list is the argv itself. `{port}` and `{host}` are filled in.
 */
import { spawn } from 'node:child_process';
import type { HealthCheckConfig } from '../config/index.js';
import { signalQuietly } from '../os/kill-tree.js';
import type { ProbeDefinition, ProbeResult } from './probe.js';
import { abortReason, errorText, fillPlaceholders } from './probe.js';

type ExecCheck = Extract<HealthCheckConfig, { type: 'exec' }>;

/** How much of the command's output the reason quotes. */
const OUTPUT_BYTES = 512;

export const execProbe: ProbeDefinition<ExecCheck> = {
  type: 'exec',
  create: (check, target) => (signal) =>
    new Promise<ProbeResult>((resolve) => {
      const argv = typeof check.command === 'string' ? ['/bin/sh', '-c', fillPlaceholders(check.command, target)] : check.command.map((part) => fillPlaceholders(part, target));
      const [file, ...args] = argv as [string, ...string[]];
      const env = { ...process.env, HSU_WORKER_ID: target.workerId, ...(target.instance.port === undefined ? {} : { PORT: String(target.instance.port) }) };
      let output = '';
      const child = spawn(file, args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env });
      const keep = (chunk: Buffer): void => {
        if (output.length < OUTPUT_BYTES) output += chunk.toString('utf8', 0, OUTPUT_BYTES - output.length);
      };
      child.stdout.on('data', keep);
      child.stderr.on('data', keep);
      let settled = false;
      const done = (result: ProbeResult): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        resolve(result);
      };
      const onAbort = (): void => {
        if (child.pid !== undefined) signalQuietly(-child.pid, 'SIGKILL');
        done({ ok: false, reason: `exec ${file}: ${abortReason(signal)}` });
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      child.once('error', (error) => done({ ok: false, reason: `exec ${file} could not run: ${errorText(error)}` }));
      child.once('close', (code, signalName) => {
        // Descendants it left in its group (a `sleep &`) end with it.
        if (child.pid !== undefined) signalQuietly(-child.pid, 'SIGKILL');
        const said = output.trim().split('\n')[0] ?? '';
        if (code === 0) done({ ok: true });
        else done({ ok: false, reason: `exec ${file} ${signalName === null ? `exited with code ${code}` : `was killed by ${signalName}`}${said === '' ? '' : `: ${said}`}` });
      });
    }),
};
