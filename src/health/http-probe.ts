/**
 * `type: http`: a GET that must answer 2xx (and contain `expect_body` when set) within the
 * timeout. node:http with no agent: one connection per probe, closed with it, so no pooled
 * keep-alive socket outlives the worker (fetch's global pool would keep one open).
 */
import type { HealthCheckConfig } from '../config/index.js';
import type { ProbeDefinition, ProbeResult } from './probe.js';
import { abortReason, errorText, fillPlaceholders } from './probe.js';

type HttpCheck = Extract<HealthCheckConfig, { type: 'http' }>;

/** How much of a body is read to look for `expect_body`. */
const BODY_LIMIT = 64 * 1024;

export const httpProbe: ProbeDefinition<HttpCheck> = {
  type: 'http',
  create: (check, target) => (signal) =>
    new Promise<ProbeResult>((resolve) => {
      const url = fillPlaceholders(check.url, target);
      let settled = false;
      const done = (result: ProbeResult): void => {
        if (settled) return;
        settled = true;
        req.destroy();
        resolve(result);
      };
      // getBuiltinModule, not ESM imports: see api/server.ts (an ESM import of node:http loads undici).
      const request = url.startsWith('https:') ? process.getBuiltinModule('node:https').request : process.getBuiltinModule('node:http').request;
      const req = request(url, { method: 'GET', agent: false, signal, headers: { connection: 'close', 'user-agent': 'hsu-health-probe' } }, (res) => {
        const status = res.statusCode ?? 0;
        if (status < 200 || status > 299) {
          res.resume();
          return done({ ok: false, reason: `GET ${url} answered ${status}` });
        }
        if (check.expect_body === undefined) {
          res.resume();
          return done({ ok: true });
        }
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
          if (body.includes(check.expect_body ?? '')) done({ ok: true });
          else if (body.length > BODY_LIMIT) done({ ok: false, reason: `GET ${url}: body does not contain ${JSON.stringify(check.expect_body)} within ${BODY_LIMIT} bytes` });
        });
        res.on('end', () => done(body.includes(check.expect_body ?? '') ? { ok: true } : { ok: false, reason: `GET ${url}: body does not contain ${JSON.stringify(check.expect_body)}` }));
        res.on('error', (error) => done({ ok: false, reason: `GET ${url} failed: ${errorText(error)}` }));
      });
      req.on('error', (error) => done({ ok: false, reason: `GET ${url} failed: ${signal.aborted ? abortReason(signal) : errorText(error)}` }));
      req.end();
    }),
};
