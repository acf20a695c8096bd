/**
 * `hsu package ...`, as a function of argv (the lead mounts it under the `hsu` command):
 *
 *   install <ref> [<name[:range]>]   ref: name[:version|range], a .tgz path, file: or http(s) URL,
 *                                    or a repository (directory, index.json, index URL) + a name
 *   ls | rm <name>[:version] | verify [<name>[:version]] | pack <dir> | keygen <file-prefix>
 *
 * Known errors print one line with their code and return 1; unknown ones print the stack.
 */
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { hsuError, isHsuError } from '../errors.js';
import { packPackage } from './archive/pack.js';
import { generateSigningKeys, parsePrivateKey } from './archive/signing.js';
import { storeError } from './io-errors.js';
import { formatInstall, formatList, formatVerify, summarize } from './cli-output.js';
import type { PackageLimits } from './limits.js';
import { INSTALL_TARGETS } from './manifest/supports.js';
import type { InstallTarget } from './manifest/supports.js';
import { ProgressBar } from './progress.js';
import { parseInstalledRef, parsePackageRef } from './repos/ref.js';
import { PackageStore } from './store/store.js';

export interface PackageCliIo {
  out(text: string): void;
  err(text: string): void;
  readonly isTTY: boolean;
}

export interface PackageCliOptions {
  readonly stateDir: string;
  /** From the master config; `--trusted-key` adds to them. */
  readonly trustedKeys?: readonly string[] | undefined;
  /** From the master config; `--repo` adds to them. */
  readonly repositories?: readonly string[] | undefined;
  readonly cwd?: string | undefined;
  /** Extra CA certificates (PEM) for https repositories. */
  readonly ca?: string | undefined;
  readonly limits?: Partial<PackageLimits> | undefined;
  /** Ctrl-C: an install in progress is undone. */
  readonly signal?: AbortSignal | undefined;
}

export const PACKAGE_USAGE = `Usage: hsu package <command> [options]

Commands:
  install <ref> [<name[:range]>]  install a package: name[:version|range] from the repositories, a .tgz
                                  path, a file: or http(s) URL of a .tgz, or <repository> <name[:range]>
  ls                              list installed packages
  rm <name>[:version]             remove one version, or every version of a package
  verify [<name>[:version]]       check installed packages against their archives and trusted keys
  pack <dir>                      build <name>-<version>.tgz (+ .sha256, + .sig with --sign)
  keygen <file-prefix>            write an ed25519 key pair: <prefix>.pem (private) and <prefix>.pub

Options:
  --target process|module|both    install: refuse a package that does not support this deployment
  --repo <dir|index.json|url>     install: a repository to search (repeatable)
  --trusted-key <key|file>        install, verify: only packages signed by this key (repeatable)
  --sha256 <hex>                  install: the checksum the archive must have
  --force                         install: replace an installed version; rm: remove one in use
  --out <file>  --sign <key.pem>  pack: where to write the archive, and the key to sign it with
  --json                          machine-readable output
`;

export async function packageCommand(argv: readonly string[], io: PackageCliIo, options: PackageCliOptions): Promise<number> {
  let args;
  try {
    args = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        target: { type: 'string' },
        repo: { type: 'string', multiple: true, default: [] },
        'trusted-key': { type: 'string', multiple: true, default: [] },
        sha256: { type: 'string' },
        force: { type: 'boolean', default: false },
        out: { type: 'string' },
        sign: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (error) {
    io.err(`hsu package: ${(error as Error).message}\n\n${PACKAGE_USAGE}`);
    return 1;
  }
  const { values, positionals } = args;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined) {
    (values.help ? io.out : io.err)(PACKAGE_USAGE);
    return values.help ? 0 : 1;
  }
  const json = values.json;
  const print = (human: string, data: unknown): void => io.out(json ? `${JSON.stringify(data, null, 2)}\n` : human);
  const bar = io.isTTY && !json ? new ProgressBar((text) => io.err(text)) : undefined;
  const cwd = options.cwd ?? process.cwd();
  try {
    const store = (): PackageStore =>
      new PackageStore({ stateDir: options.stateDir, trustedKeys: [...(options.trustedKeys ?? []), ...values['trusted-key']], repositories: options.repositories, ca: options.ca, limits: options.limits });
    switch (command) {
      case 'install': {
        const { ref, repositories } = installRef(rest, values.repo, cwd);
        const result = await store().install(ref, {
          target: target(values.target),
          repositories,
          force: values.force,
          sha256: values.sha256,
          signal: options.signal,
          cwd,
          onProgress: bar === undefined ? undefined : (event) => bar.update(event),
        });
        bar?.end();
        print(formatInstall(result), { ok: true, already_installed: result.already_installed, package: summarize(result.package), installed: result.installed.map(summarize) });
        return 0;
      }
      case 'ls': {
        const s = store();
        const rows = await Promise.all((await s.list()).map(async (pkg) => ({ ...summarize(pkg), current_in: currentIn(await s.currentScopes(pkg.name), pkg.version) })));
        print(formatList(rows), { packages: rows });
        return 0;
      }
      case 'rm': {
        const { name, version } = parseInstalledRef(one(rest, 'rm needs a package: hsu package rm <name>[:version]'));
        const removed = await store().remove(name, version, { force: values.force });
        print(removed.map((id) => `removed ${id}\n`).join(''), { ok: true, removed });
        return 0;
      }
      case 'verify': {
        const target = rest[0] === undefined ? undefined : parseInstalledRef(rest[0]);
        const reports = await store().verify(target?.name, target?.version);
        const ok = reports.every((report) => report.ok);
        print(formatVerify(reports), { ok, reports });
        if (!ok && !json) io.err(`hsu package: ${reports.filter((r) => !r.ok).length} package(s) failed verification [HSU_ERR_PACKAGE_VERIFY_FAILED]\n`);
        return ok ? 0 : 1;
      }
      case 'pack': {
        const dir = one(rest, 'pack needs a directory: hsu package pack <dir>');
        const privateKey = values.sign === undefined ? undefined : parsePrivateKey(await readFile(values.sign, 'utf8'), values.sign);
        const packed = await packPackage(dir, { outDir: cwd, ...(values.out === undefined ? {} : { file: values.out }), ...(privateKey === undefined ? {} : { privateKey }) });
        const { manifest, ...facts } = packed;
        print(`packed ${manifest.name}@${manifest.version} into ${packed.file}\nsha256 ${packed.sha256}${packed.signature === undefined ? '' : '\nsigned'}\n`, { ok: true, name: manifest.name, version: manifest.version, ...facts });
        return 0;
      }
      case 'keygen': {
        const prefix = one(rest, 'keygen needs a file prefix: hsu package keygen keys/release');
        const keys = generateSigningKeys();
        await writeFile(`${prefix}.pem`, keys.private_key_pem, { mode: 0o600, flag: 'wx' });
        await chmod(`${prefix}.pem`, 0o600);
        await writeFile(`${prefix}.pub`, keys.public_key_pem, { flag: 'wx' });
        print(`wrote ${prefix}.pem (private, keep it secret) and ${prefix}.pub\nkey id ${keys.key_id}\npublic key (base64) ${keys.public_key_base64}\n`, {
          ok: true,
          private_key_file: `${prefix}.pem`,
          public_key_file: `${prefix}.pub`,
          key_id: keys.key_id,
          public_key_base64: keys.public_key_base64,
        });
        return 0;
      }
      default:
        io.err(`hsu package: unknown command '${command}'\n\n${PACKAGE_USAGE}`);
        return 1;
    }
  } catch (error) {
    bar?.end();
    // File-system errors of the command's own reads and writes (a key file, --out) are known too.
    const known = isHsuError(error) ? error : isFsError(error) ? storeError(error, `hsu package ${command}`) : undefined;
    if (known !== undefined) {
      const [first = '', ...more] = known.message.split('\n');
      if (json) io.out(`${JSON.stringify({ ok: false, error: { code: known.code, message: known.message, context: known.context } }, null, 2)}\n`);
      io.err(`hsu package: ${first} [${known.code}]\n${more.map((line) => `${line}\n`).join('')}`);
      return 1;
    }
    io.err(`hsu package: unexpected error\n${(error as Error).stack ?? String(error)}\n`);
    return 1;
  }
}

/** `install <ref>`, or `install <repository> <name[:range]>` (the repository is searched first). */
function installRef(rest: readonly string[], repos: readonly string[], cwd: string): { ref: string; repositories: string[] } {
  if (rest.length === 0) throw hsuError('PACKAGE_REF_INVALID', 'install needs a package: hsu package install <name[:range]> | <file.tgz> | <url> | <repository> <name[:range]>');
  if (rest.length > 2) throw hsuError('PACKAGE_REF_INVALID', `install takes one package (or a repository and a package), got ${rest.length} arguments`);
  if (rest.length === 2) {
    const [repository = '', name = ''] = rest;
    if (parsePackageRef(name, cwd).kind !== 'package') throw hsuError('PACKAGE_REF_INVALID', `after the repository ${repository}, name the package as name[:range], got ${JSON.stringify(name)}`);
    return { ref: name, repositories: [repository, ...repos] };
  }
  return { ref: rest[0] ?? '', repositories: [...repos] };
}

function target(value: string | undefined): InstallTarget | undefined {
  if (value === undefined) return undefined;
  if ((INSTALL_TARGETS as readonly string[]).includes(value)) return value as InstallTarget;
  throw hsuError('PACKAGE_REF_INVALID', `--target must be one of ${INSTALL_TARGETS.join(', ')}, got ${JSON.stringify(value)}`);
}

function one(rest: readonly string[], missing: string): string {
  const [first] = rest;
  if (first === undefined) throw hsuError('PACKAGE_REF_INVALID', missing);
  return first;
}

function currentIn(scopes: Record<string, { current: string }>, version: string): string[] {
  return Object.entries(scopes)
    .filter(([, record]) => record.current === version)
    .map(([scope]) => scope);
}

function isFsError(error: unknown): boolean {
  return typeof (error as NodeJS.ErrnoException | undefined)?.syscall === 'string';
}
