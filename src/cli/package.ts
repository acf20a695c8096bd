/**
 * `hsu package ...` mounted under the hsu command: the state directory (where the store lives)
 * and the configured repositories and trusted keys come from the config of the current directory
 * (`hsu.yaml`, or `--config <file>`), as `hsu run` of that config would use them; flags add to them.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { PackageCliOptions } from '../packages/cli.js';
import type { CliIo } from './main.js';

export async function packageCli(argv: readonly string[], io: CliIo): Promise<number> {
  const { rest, config, stateDir } = takeOwnFlags(argv);
  const file = config ?? ['hsu.yaml', 'hsu.yml'].map((name) => path.resolve(name)).find((candidate) => existsSync(candidate));
  let settings: PackageCliOptions = { stateDir: path.resolve(stateDir ?? process.env.HSU_STATE_DIR ?? '.hsu') };
  if (file !== undefined) {
    const { loadConfigFile } = await import('../config/index.js');
    const { localSpec, storeOptions } = await import('../packages/config-schema.js');
    const master = loadConfigFile(file).master;
    const store = storeOptions(master.packages, stateDir === undefined ? master.state_dir : path.resolve(stateDir), path.dirname(file));
    settings = { stateDir: store.stateDir, repositories: store.repositories, trustedKeys: master.packages.trusted_keys.map((key) => localSpec(key, path.dirname(file))), ca: store.ca, limits: store.limits };
  }
  const { packageCommand } = await import('../packages/cli.js');
  const controller = new AbortController();
  const onSigint = (): void => controller.abort(new Error('interrupted'));
  process.once('SIGINT', onSigint);
  try {
    return await packageCommand(rest, { out: io.out, err: io.err, isTTY: process.stdout.isTTY }, { ...settings, cwd: process.cwd(), signal: controller.signal });
  } finally {
    process.off('SIGINT', onSigint);
  }
}

/** `--config <file>` and `--state-dir <dir>` are hsu's; everything else is the package command's. */
function takeOwnFlags(argv: readonly string[]): { rest: string[]; config?: string; stateDir?: string } {
  const rest: string[] = [];
  let config: string | undefined;
  let stateDir: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    const [flag, inline] = arg.startsWith('--') && arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (flag === '--config' || flag === '--state-dir') {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`${flag} needs a value`);
      if (flag === '--config') config = path.resolve(value);
      else stateDir = value;
      continue;
    }
    rest.push(arg);
  }
  return { rest, ...(config === undefined ? {} : { config }), ...(stateDir === undefined ? {} : { stateDir }) };
}
