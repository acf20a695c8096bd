/**
 * Why a TypeScript module did not import, in words a module author can act on. Node runs `.ts`
 * files by erasing their types (type stripping); what it cannot erase (enums, parameter
 * properties, namespaces with code, `import x = require()`) fails the import with a bare
 * SyntaxError. This names the construct, the file and line it is on, and the fix.
 */
import { hsuError, type HsuError } from '../../errors.js';

const TS_FILE = /\.[cm]?ts$/;

/** Node's phrase for each construct it refuses, and what to write instead. */
const FIXES: readonly { readonly match: RegExp; readonly construct: string; readonly fix: string }[] = [
  { match: /enum/, construct: 'enum', fix: 'replace the enum with an object `as const` (const Color = { Red: "red" } as const) and a union type of its values' },
  { match: /parameter propert/, construct: 'parameter property', fix: 'declare the field in the class body and assign it in the constructor (`x: number; constructor(x: number) { this.x = x; }`)' },
  { match: /namespace|module declaration/, construct: 'namespace', fix: 'export the members from the module itself instead of a namespace' },
  { match: /import equals|import =/, construct: 'import = require()', fix: "use `import x from '...'` (or createRequire from node:module)" },
  { match: /export assignment|export =/, construct: 'export =', fix: 'use `export default`' },
];

const TRANSFORM_HINT = 'or run hsu with NODE_OPTIONS=--experimental-transform-types so Node transforms them; `erasableSyntaxOnly: true` in tsconfig.json makes tsc report every such place';

export interface LoadErrorContext {
  readonly worker_id: string;
  readonly module_path: string;
  readonly entry_point: string;
}

/** A coded error for a TypeScript-specific import failure, or undefined for any other failure. */
export function typeScriptLoadError(error: unknown, context: LoadErrorContext): HsuError | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message : String(error);
  const who = `worker '${context.worker_id}'`;
  if (code === 'ERR_UNSUPPORTED_TYPESCRIPT_SYNTAX') {
    const found = FIXES.find((entry) => entry.match.test(message));
    const construct = found?.construct ?? message.replace(/^TypeScript (.*) is not supported.*$/s, '$1');
    const where = syntaxLocation(error) ?? { file: context.module_path, line: null, column: null };
    const at = where.line === null ? where.file : `${where.file}:${where.line}${where.column === null ? '' : `:${where.column}`}`;
    const fix = found?.fix ?? 'use only syntax Node can erase (type annotations, interfaces, type aliases)';
    return hsuError(
      'MODULE_TS_UNSUPPORTED_SYNTAX',
      `${who}: ${at} uses a TypeScript ${construct}, which Node cannot run without a build (it only erases types): ${fix}; ${TRANSFORM_HINT}`,
      { ...context, construct, file: where.file, line: where.line, column: where.column, fix },
      error,
    );
  }
  if (code === 'ERR_UNSUPPORTED_NODE_MODULES_TYPE_STRIPPING') {
    return hsuError('MODULE_TS_UNSUPPORTED', `${who}: ${message}: Node does not erase types of files under node_modules; a package must ship JavaScript (build it, or point module_path at its built file)`, { ...context }, error);
  }
  if (code === 'ERR_UNKNOWN_FILE_EXTENSION' && TS_FILE.test(message)) {
    return hsuError('MODULE_TS_UNSUPPORTED', `${who}: this Node (${process.version}) does not run .ts files: type stripping needs Node 22.18 or later without --no-experimental-strip-types`, { ...context, node: process.version }, error);
  }
  if (code === 'ERR_MODULE_NOT_FOUND' && TS_FILE.test(context.module_path)) {
    const missing = /Cannot find (?:module|package) '([^']+)'/.exec(message)?.[1];
    if (missing !== undefined && /\.js$/.test(missing)) {
      return hsuError(
        'MODULE_LOAD_FAILED',
        `${who}: cannot import ${context.module_path}: ${message}; a TypeScript file run without a build imports local files by their real name: write '${missing.replace(/.*\//, './').replace(/\.js$/, '.ts')}' (tsconfig: allowImportingTsExtensions and rewriteRelativeImportExtensions)`,
        { ...context, missing },
        error,
      );
    }
  }
  return undefined;
}

/** Node prints `file:line`, source lines and a caret run at the top of the SyntaxError's stack. */
function syntaxLocation(error: unknown): { file: string; line: number; column: number | null } | undefined {
  const stack = (error as { stack?: unknown } | null)?.stack;
  if (typeof stack !== 'string') return undefined;
  // The source excerpt may hold more than one line; the caret run is under the offending one.
  const match = /^(.+?):(\d+)\n(?:[^\n]*\n){0,5}?( *)\^+\n/.exec(stack);
  if (match === null) return undefined;
  const [, file = '', line = '0', indent = ''] = match;
  return { file: file.startsWith('file://') ? new URL(file).pathname : file, line: Number(line), column: indent.length + 1 };
}
