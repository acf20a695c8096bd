/**
 * Dependencies between packages, resolved with semver to one version per name across a package's
 * whole closure (versions of a name may sit side by side in the store, but one worker gets one).
 * The highest version that satisfies every requirement wins; when none does, the error names each
 * requirement and who made it, so both sides of a conflict are visible.
 */
import semver from 'semver';
import { hsuError } from '../../errors.js';
import type { PackageDependency } from '../manifest/schema.js';

export interface DependencyNode {
  readonly name: string;
  readonly version: string;
  readonly dependencies: readonly PackageDependency[];
}

/** What the resolver may choose from; `node` may have to fetch a package to read its manifest. */
export interface DependencySource {
  versions(name: string): Promise<readonly string[]>;
  node(name: string, version: string): Promise<DependencyNode>;
}

export interface Requirement {
  /** `name@version` of the package that asks. */
  readonly by: string;
  readonly range: string;
}

// Each round either settles or changes a choice; a closure that keeps changing is a conflict too.
const MAX_ROUNDS = 100;

/** name -> version for every package the root needs, directly or not (the root itself excluded). */
export async function resolveDependencies(root: DependencyNode, source: DependencySource): Promise<Map<string, string>> {
  const chosen = new Map<string, string>();
  for (let round = 0; round < MAX_ROUNDS; round++) {
    const requirements = await collectRequirements(root, chosen, source);
    let changed = false;
    for (const [name, wanted] of requirements) {
      if (name === root.name) {
        if (!satisfiesAll(root.version, wanted)) throw conflict(name, wanted, [root.version]);
        continue;
      }
      const current = chosen.get(name);
      if (current !== undefined && satisfiesAll(current, wanted)) continue;
      const available = await source.versions(name);
      const best = semver.rsort(available.filter((version) => satisfiesAll(version, wanted)))[0];
      if (best === undefined) throw conflict(name, wanted, available);
      chosen.set(name, best);
      changed = true;
    }
    for (const name of chosen.keys()) if (!requirements.has(name)) chosen.delete(name);
    if (!changed) return chosen;
  }
  throw hsuError('PACKAGE_DEPENDENCY_CONFLICT', `the dependencies of ${root.name}@${root.version} do not settle on one version each`, { package: `${root.name}@${root.version}` });
}

/** Every requirement made by the root and by the packages currently chosen and reachable from it. */
async function collectRequirements(root: DependencyNode, chosen: ReadonlyMap<string, string>, source: DependencySource): Promise<Map<string, Requirement[]>> {
  const requirements = new Map<string, Requirement[]>();
  const queue: DependencyNode[] = [root];
  const visited = new Set<string>([root.name]);
  for (let node = queue.shift(); node !== undefined; node = queue.shift()) {
    for (const dep of node.dependencies) {
      const list = requirements.get(dep.name) ?? [];
      list.push({ by: `${node.name}@${node.version}`, range: dep.version });
      requirements.set(dep.name, list);
      const version = chosen.get(dep.name);
      if (version !== undefined && !visited.has(dep.name)) {
        visited.add(dep.name);
        queue.push(await source.node(dep.name, version));
      }
    }
  }
  return requirements;
}

function satisfiesAll(version: string, wanted: readonly Requirement[]): boolean {
  return wanted.every((req) => semver.satisfies(version, req.range));
}

function conflict(name: string, wanted: readonly Requirement[], available: readonly string[]): Error {
  const sides = wanted.map((req) => `${req.by} requires ${req.range}`).join(', ');
  const offered = available.length === 0 ? 'no version is installed or in any repository' : `available: ${semver.sort([...available]).join(', ')}`;
  const context = { dependency: name, required_by: wanted.map((req) => ({ package: req.by, range: req.range })), available: [...available] };
  // One requirement that nothing satisfies is a missing package; two that exclude each other are a conflict.
  const alone = wanted.every((req) => available.some((version) => semver.satisfies(version, req.range)));
  if (wanted.length > 1 && alone) return hsuError('PACKAGE_DEPENDENCY_CONFLICT', `dependency conflict on ${name}: ${sides} (${offered})`, context);
  return hsuError('PACKAGE_NOT_FOUND', `dependency ${name} cannot be satisfied: ${sides} (${offered})`, context);
}
