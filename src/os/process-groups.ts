/**
 * The process groups one master has spawned and not yet seen end. Owned by a master (not a module
 * global), so the master's last-resort hook kills exactly its own groups, and two masters in one
 * process never touch each other's.
 */
import { signalQuietly } from './kill-tree.js';

export class ProcessGroups {
  private readonly live = new Set<number>();

  add(pgid: number): void {
    this.live.add(pgid);
  }

  delete(pgid: number): void {
    this.live.delete(pgid);
  }

  get size(): number {
    return this.live.size;
  }

  /** SIGKILLs every live group. Synchronous: safe in an exit handler. */
  killAllSync(): void {
    for (const pgid of this.live) signalQuietly(-pgid, 'SIGKILL');
    this.live.clear();
  }
}
