/**
 * `restart_schedule`: a running worker restarted at the times a cron expression names (PM2's
 * cron_restart). A watchdog like the others: it exists only while an instance runs, so a stopped
 * worker is never started by its schedule, and its timer ends with the instance.
 */
import type { Cron } from 'croner';
import { cronLib } from '../lazy-libs.js';
import type { Instance } from './runtime.js';
import type { Watchdog, WatchdogControl } from './watchdog.js';

export class ScheduleWatchdog implements Watchdog {
  readonly name = 'schedule';
  private job: Cron | undefined;
  private lastRestart: string | null = null;

  constructor(private readonly expression: string) {}

  begin(_instance: Instance, control: WatchdogControl): void {
    this.end();
    this.job = new (cronLib().Cron)(this.expression, { unref: true, protect: true }, () => {
      this.lastRestart = new Date().toISOString();
      control.request('restart', 'schedule', `restart_schedule '${this.expression}'`);
    });
  }

  end(): void {
    this.job?.stop();
    this.job = undefined;
  }

  snapshot(): { expression: string; next_run: string | null; last_restart: string | null } {
    return { expression: this.expression, next_run: this.job?.nextRun()?.toISOString() ?? null, last_restart: this.lastRestart };
  }
}
