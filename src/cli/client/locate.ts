/**
 * Which master a client command talks to: the one whose state directory is named by
 * `--state-dir`, else `HSU_STATE_DIR`, else the one of the current directory: the
 * `master.state_dir` of `hsu.yaml` there, or `.hsu`. The YAML parser is loaded only when the file
 * actually sets state_dir (`hsu ls` stays a handful of small files).
 */
// Built-ins through getBuiltinModule on the client path: see connection.ts.
const { readFileSync } = process.getBuiltinModule('node:fs');
const path = process.getBuiltinModule('node:path');

const CONFIG_NAMES = ['hsu.yaml', 'hsu.yml'];
const DEFAULT_STATE_DIR = '.hsu';

export interface Located {
  readonly stateDir: string;
  /** How it was found, for the "no master" message. */
  readonly from: string;
}

export async function locateStateDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Promise<Located> {
  if (flag !== undefined) return { stateDir: path.resolve(cwd, flag), from: '--state-dir' };
  if (env.HSU_STATE_DIR !== undefined && env.HSU_STATE_DIR !== '') return { stateDir: path.resolve(cwd, env.HSU_STATE_DIR), from: 'HSU_STATE_DIR' };
  for (const name of CONFIG_NAMES) {
    const file = path.join(cwd, name);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    const configured = /\bstate_dir\s*:/.test(text) ? await stateDirOf(text, env) : undefined;
    if (configured !== undefined) return { stateDir: path.resolve(cwd, configured), from: `master.state_dir of ${name}` };
    break;
  }
  return { stateDir: path.resolve(cwd, DEFAULT_STATE_DIR), from: 'the current directory' };
}

async function stateDirOf(text: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const { parse } = await import('yaml');
  const { interpolate } = await import('../../config/interpolate.js');
  try {
    const value = (parse(text, { merge: true }) as { master?: { state_dir?: unknown } } | null)?.master?.state_dir;
    if (typeof value !== 'string') return undefined;
    return String(interpolate(value, env).value);
  } catch {
    return undefined; // a broken file: `hsu validate` is the tool for that, the default dir is the best guess
  }
}
