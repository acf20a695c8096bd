/**
 * The hosted side of the control protocol: loads the module named by `init`, drives it with the
 * same ModuleDriver the inline runtime uses, and answers calls, health checks and stop. It runs in
 * a worker thread (thread-entry) or a child process (host-entry); the module author writes no main().
 */
import { deserializeError, hsuError, isHsuError, serializeError } from '../../errors.js';
import { callContextHook, setCallContextHook, type CallContextHook, type RemoteTracingSetup } from '../../observability/call-context.js';
import { PROTOCOL_VERSION, type FromHost, type ToHost } from '../../protocol/messages.js';
import type { Transport } from '../../protocol/transport.js';
import { instantiateModule, loadPluginExport } from './module-loader.js';
import { ModuleDriver } from './module-driver.js';
import { createRemoteLogger } from './remote-logger.js';
import { RemoteServices } from './remote-services.js';

/** The hosted end of the channel, plus the way to end the host (the thread or the process). */
export interface HostPort extends Transport<FromHost, ToHost> {
  exit(code: number): void;
}

export interface ModuleHostHandle {
  /** Graceful stop from outside the protocol (SIGTERM, lost IPC channel). */
  stop(): void;
}

export function serveModule(port: HostPort, defaultEndpoint: (workerId: string) => { type: 'ipc'; address: string }): ModuleHostHandle {
  let driver: ModuleDriver | undefined;
  let stopping = false;
  const services = new RemoteServices((message) => port.send(message));
  const cancels = new Map<number, AbortController>();

  const shutdown = (code: number, report: boolean): void => {
    if (stopping) return;
    stopping = true;
    const current = driver;
    const finish = (error?: unknown): void => {
      callContextHook()?.flush?.();
      if (report) port.send(error === undefined ? { t: 'stopped' } : { t: 'stopped', error: serializeError(error) });
      port.exit(code);
    };
    if (current === undefined) finish();
    else current.stop().then(() => finish(), finish);
  };

  const fatal = (error: unknown, code: 'MODULE_FATAL' | 'MODULE_UNCAUGHT'): void => {
    if (stopping) return;
    // Same classification as ModuleDriver.reportFatal: a module's own error code (E_...) does not make it an hsu verdict.
    const err = isHsuError(error) ? error : hsuError(code, `${code === 'MODULE_UNCAUGHT' ? 'uncaught exception' : 'fatal error'}: ${error instanceof Error ? error.message : String(error)}`, {}, error);
    if (error instanceof Error && err !== error && error.stack) err.stack = `${err.message}\n  caused by: ${error.stack}`;
    callContextHook()?.flush?.();
    port.send({ t: 'fatal', error: serializeError(err) });
    shutdown(1, false);
  };
  // This thread or process exists for one module: anything uncaught is that module's failure.
  process.on('uncaughtException', (error) => fatal(error, 'MODULE_UNCAUGHT'));
  process.on('unhandledRejection', (reason) => fatal(reason, 'MODULE_UNCAUGHT'));

  const init = async (msg: Extract<ToHost, { t: 'init' }>): Promise<void> => {
    if (msg.v !== PROTOCOL_VERSION) {
      throw hsuError('PROTOCOL_VERSION', `host speaks control protocol v${PROTOCOL_VERSION}, master sent v${msg.v}`, { expected: PROTOCOL_VERSION, got: msg.v });
    }
    // Tracing first: a module that asks for a tracer while it loads gets the real one.
    if (msg.tracing !== undefined) setCallContextHook(await installTracing(msg.tracing, port, msg.workerId));
    const exported = await loadPluginExport(msg.modulePath, msg.entryPoint, msg.workerId);
    const module = await instantiateModule(exported, msg.workerId, `${msg.modulePath}#${msg.entryPoint}`);
    const created = new ModuleDriver(module, {
      workerId: msg.workerId,
      config: msg.config,
      // No `worker` binding here: the master logs each record through a logger already bound to it.
      logger: createRemoteLogger((m) => port.send(m), msg.logLevel),
      defaultEndpoint: defaultEndpoint(msg.workerId),
      onFatal: (error) => fatal(error, 'MODULE_FATAL'),
      onEndpoint: (endpoint) => port.send({ t: 'endpoint', endpoint }),
      services,
      // The whole thread or process is this module's: no scope needed to attribute errors.
      scoped: false,
    });
    driver = created;
    await created.start();
    port.send({ t: 'started', v: PROTOCOL_VERSION, info: module.info, actions: created.actionNames, endpoint: created.endpoint, loadedAt: created.loadedAt });
  };

  const call = (msg: Extract<ToHost, { t: 'call' }>, current: ModuleDriver): void => {
    let signal: AbortSignal | undefined;
    if (msg.s === 1) {
      const controller = new AbortController();
      cancels.set(msg.id, controller);
      signal = controller.signal;
    }
    current.call(msg.a, msg.i, signal).then(
      (value) => {
        if (signal !== undefined) cancels.delete(msg.id);
        try {
          port.send({ t: 'result', id: msg.id, ok: true, value });
        } catch (error) {
          const payload = hsuError('CALL_PAYLOAD', `result of action '${msg.a}' cannot be sent back: ${(error as Error).message} (results cross by structured clone)`, { action: msg.a });
          port.send({ t: 'result', id: msg.id, ok: false, error: serializeError(payload) });
        }
      },
      (error: unknown) => {
        if (signal !== undefined) cancels.delete(msg.id);
        port.send({ t: 'result', id: msg.id, ok: false, error: serializeError(error) });
      },
    );
  };

  port.onMessage((msg: ToHost) => {
    if (services.handle(msg)) return;
    switch (msg.t) {
      case 'call':
        if (driver !== undefined && !stopping) {
          const hook = msg.c === undefined ? undefined : callContextHook();
          const current = driver;
          if (hook === undefined || msg.c === undefined) call(msg, current);
          else hook.extract(msg.c, () => call(msg, current));
        } else port.send({ t: 'result', id: msg.id, ok: false, error: serializeError(hsuError('CALL_NOT_RUNNING', 'module is not running', { action: msg.a })) });
        return;
      case 'cancel':
        // The caller's reason (timeout or abort) so call.signal.reason reads the same as inline.
        cancels.get(msg.id)?.abort(msg.reason === undefined ? hsuError('CALL_ABORTED', 'call was cancelled by the caller') : deserializeError(msg.reason));
        cancels.delete(msg.id);
        return;
      case 'health':
        void (driver?.health(msg.ms) ?? Promise.resolve(false)).then((ok) => port.send({ t: 'health', id: msg.id, ok }));
        return;
      case 'facts':
        port.send({ t: 'facts', id: msg.id, diagnostics: cloneable(driver?.moduleDiagnostics() ?? null), heap: heapFacts() });
        return;
      case 'init':
        init(msg).catch((error: unknown) => {
          port.send({ t: 'start_failed', error: serializeError(error) });
          stopping = true;
          const failed = driver;
          void (failed?.stop() ?? Promise.resolve()).catch(() => undefined).then(() => port.exit(1));
        });
        return;
      case 'stop':
        shutdown(0, true);
        return;
    }
  });

  return { stop: () => shutdown(0, true) };
}

/** This isolate's heap (the thread's own, or the host process's). */
function heapFacts(): { used_bytes: number; total_bytes: number; limit_bytes: number } {
  // node:v8 (with the serdes, heap-utils and promise-hook internals it loads) cost ~2 ms of every
  // host's and thread's start; it is needed only once the master asks for facts.
  const heap = process.getBuiltinModule('node:v8').getHeapStatistics();
  return { used_bytes: heap.used_heap_size, total_bytes: heap.total_heap_size, limit_bytes: heap.heap_size_limit };
}

/**
 * Loads what the master named to trace here (by URL, so the thread and host bundles never carry
 * OpenTelemetry): its spans go back to the master over this port.
 */
async function installTracing(setup: RemoteTracingSetup, port: HostPort, workerId: string): Promise<CallContextHook> {
  const loaded = (await import(setup.module)) as { installRemoteTracing(options: unknown, post: (message: FromHost) => void, workerId: string): Promise<CallContextHook> };
  return loaded.installRemoteTracing(setup.options, (message) => port.send(message), workerId);
}

/** Module facts cross by structured clone; facts that cannot are replaced by a note, never a crash. */
function cloneable(facts: Record<string, unknown> | null): Record<string, unknown> | null {
  if (facts === null) return null;
  try {
    structuredClone(facts);
    return facts;
  } catch (error) {
    return { error: `module diagnostics cannot be sent: ${(error as Error).message}` };
  }
}
