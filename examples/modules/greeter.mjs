// A plugin module: the default export is a factory, so every (re)start gets a fresh instance.
import { defineModule } from 'hsu/worker';

export default () => {
  let greeting = 'Hello';
  let served = 0;
  return defineModule({
    info: { name: 'greeter', version: '1.0.0' },
    initialize(ctx, config) {
      greeting = typeof config.greeting === 'string' ? config.greeting : greeting;
      ctx.logger.info({ greeting }, 'greeter initialized');
    },
    start(ctx) {
      ctx.logger.info('greeter ready');
    },
    stop(ctx) {
      ctx.logger.info({ served }, 'greeter stopping');
    },
    isHealthy: () => true,
    actions: {
      async greet(name) {
        served += 1;
        return `${greeting}, ${name}!`;
      },
    },
  });
};
