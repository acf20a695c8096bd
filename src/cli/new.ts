/** `hsu new module|process|master <name> [--dir d] [--metrics] [--tracing] [--command-worker]`. */
import type { CliArgs } from './args.js';
import type { CliIo } from './main.js';

export async function newCommand(args: CliArgs, io: CliIo): Promise<number> {
  const [kind, name] = args.positionals;
  if (kind === undefined || name === undefined) {
    io.err('hsu: new needs a kind and a name: hsu new module|process|master <name>\n');
    return 1;
  }
  const { scaffold } = await import('../scaffold/index.js');
  const result = scaffold({ kind: kind as never, name, ...(args.dir === undefined ? {} : { dir: args.dir }), metrics: args.metrics, tracing: args.tracing, commandWorker: args.commandWorker });
  if (args.json) {
    io.out(`${JSON.stringify({ ok: true, dir: result.dir, files: result.files })}\n`);
    return 0;
  }
  io.out(`created ${kind} project ${name} in ${result.dir} (${result.files.length} files)\n\n  cd ${result.dir}\n  npm install\n  npm test        # the module in every deployment, plus hsu's conformance checks\n  npm start       # hsu run hsu.yaml (Ctrl-C stops it)\n`);
  return 0;
}
