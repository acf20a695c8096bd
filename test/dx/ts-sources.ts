/**
 * TypeScript module sources the dx tests write into temp directories: `.ts` files importing each
 * other with `.ts` specifiers cannot sit in the repository's own tsc project (it does not allow
 * importing .ts extensions), and the watch tests edit them anyway.
 */
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot } from '../helpers/paths.js';

/** `hsu/worker` from the built tree, so the sources import the contract as a user's module would. */
export const WORKER_ENTRY = path.join(repoRoot, 'dist', 'src', 'worker', 'index.js');

export const HELPER_TS = `// helper.ts
export interface Greeting { readonly text: string; readonly length: number }
export function greeting(greeting: string, name: string): Greeting {
  const text: string = \`\${greeting}, \${name}!\`;
  return { text, length: text.length };
}
`;

/** Line 12 throws: the tests look for greeter.ts:12 in the stack. */
export const GREETER_TS = `// greeter.ts
import { defineModule } from ${JSON.stringify(WORKER_ENTRY)};
import { greeting, type Greeting } from './helper.ts';

interface Config { greeting?: string }

export default () => defineModule({
  info: { name: 'greeter', version: '1.0.0' },
  start: (): void => undefined,
  actions: {
    greet: (name: string): Greeting => greeting('Hello', name),
    boom: (_: unknown): never => { throw new Error('boom from greeter.ts'); },
    config: (_: unknown, _call: unknown): Config => ({}),
  },
});
`;

export const ENUM_TS = `import { defineModule } from ${JSON.stringify(WORKER_ENTRY)};
// an enum cannot be erased
enum Mood { Happy, Sad }
export default () => defineModule({ info: { name: 'moody', version: '1.0.0' }, start() {}, actions: { mood: () => Mood.Happy } });
`;

export const PARAM_PROP_HELPER_TS = `export class Counter {
  constructor(private count: number) {}
  next(): number { return ++this.count; }
}
`;

export const PARAM_PROP_TS = `import { defineModule } from ${JSON.stringify(WORKER_ENTRY)};
import { Counter } from './counter.ts';
export default () => { const c = new Counter(0); return defineModule({ info: { name: 'counting', version: '1.0.0' }, start() {}, actions: { next: () => c.next() } }); };
`;

export const JS_SPECIFIER_TS = `import { defineModule } from ${JSON.stringify(WORKER_ENTRY)};
import { greeting } from './helper.js';
export default () => defineModule({ info: { name: 'wrong-import', version: '1.0.0' }, start() {}, actions: { greet: (n: string) => greeting('Hi', n) } });
`;

export interface SourceDir {
  readonly dir: string;
  file(name: string): string;
  write(name: string, text: string): string;
  remove(): void;
}

export function sourceDir(files: Readonly<Record<string, string>>, prefix = 'hsu-ts-'): SourceDir {
  const dir = mkdtempSync(path.join(os.tmpdir(), prefix));
  const write = (name: string, text: string): string => {
    const file = path.join(dir, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
    return file;
  };
  for (const [name, text] of Object.entries(files)) write(name, text);
  return { dir, file: (name) => path.join(dir, name), write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
