// One module file, three deployments (see three-ways.yaml): nothing in it knows where it runs.
import { threadId } from 'node:worker_threads';
import { defineModule } from 'hsu/worker';

export default () => {
  let count = 0;
  let timer;
  return defineModule({
    info: { name: 'counter', version: '1.0.0' },
    start(ctx) {
      const every = Number(ctx.config.report_every_ms ?? 5000);
      // pid and thread show where this instance landed: the master's, a worker thread, or a child host.
      ctx.logger.info({ pid: process.pid, thread: threadId }, 'counter started');
      timer = setInterval(() => ctx.logger.info({ count }, 'counter report'), every);
    },
    stop(ctx) {
      clearInterval(timer);
      ctx.logger.info({ count }, 'counter stopping');
    },
    isHealthy: () => true,
    actions: {
      // Reached the same way everywhere: master.call('counter-thread', 'increment', 2)
      increment: async (by = 1) => (count += by),
      get: async () => count,
    },
  });
};
