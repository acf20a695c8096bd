/**
 * What `hsu monit` shows, as a pure function of its model and the terminal's size: a header, one
 * row per worker (the selected one marked), CPU and memory sparklines of the selected worker, and
 * the tail of its log. The model is fed by the same streams as the web dashboard.
 */
import type { WorkerDiagnostics } from '../../lifecycle/diagnostics.js';
import { bytes, duration, paint, percent, stateColor, type Style } from '../../cli/client/render.js';

export type WorkerRow = Omit<WorkerDiagnostics, 'history'>;

export interface UsagePoint {
  readonly cpu: number | null;
  readonly memory: number | null;
}

export interface MonitModel {
  master: { pid: number; version: string; status: string } | undefined;
  readonly workers: Map<string, WorkerRow>;
  readonly usage: Map<string, UsagePoint[]>;
  masterUsage: UsagePoint[];
  selected: string | undefined;
  readonly log: { stream: string; line: string }[];
  /** One line of news (an action's outcome, a lost connection). */
  status: string;
}

export const USAGE_POINTS = 60;
export const LOG_LINES = 200;
const BARS = '▁▂▃▄▅▆▇█';

export function newModel(): MonitModel {
  return { master: undefined, workers: new Map(), usage: new Map(), masterUsage: [], selected: undefined, log: [], status: '' };
}

export function pushUsage(points: UsagePoint[], point: UsagePoint): void {
  points.push(point);
  if (points.length > USAGE_POINTS) points.shift();
}

export function sparkline(values: readonly (number | null)[], width: number): string {
  const recent = values.slice(-width);
  const numbers = recent.filter((v): v is number => v !== null);
  const max = Math.max(...numbers, 0) || 1;
  return recent.map((v) => (v === null ? ' ' : BARS[Math.min(BARS.length - 1, Math.round((v / max) * (BARS.length - 1)))])).join('');
}

/** Cuts or pads `text` to exactly `width` columns (ANSI colour codes do not count). */
function fit(text: string, width: number): string {
  let visible = 0;
  let out = '';
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '\u001b') {
      const end = text.indexOf('m', i);
      out += text.slice(i, end + 1);
      i = end;
      continue;
    }
    if (visible >= width) continue;
    out += text[i];
    visible += 1;
  }
  return out + ' '.repeat(Math.max(0, width - visible));
}

const COLUMNS: readonly [string, number][] = [['ID', 18], ['DEPLOY', 8], ['STATE', 16], ['HEALTH', 10], ['PID', 8], ['UPTIME', 8], ['RESTARTS', 9], ['CPU', 7], ['MEMORY', 10]];

export function renderScreen(model: MonitModel, columns: number, rows: number, style: Style, now = Date.now()): string {
  const lines: string[] = [];
  const m = model.master;
  const mu = model.masterUsage.at(-1);
  lines.push(paint(style, 'bold', `hsu monit`) + `  master pid ${m?.pid ?? '?'} v${m?.version ?? '?'} ${m?.status ?? 'connecting'}  ·  ${model.workers.size} workers  ·  cpu ${percent(mu?.cpu)}  mem ${bytes(mu?.memory)}`);
  lines.push(paint(style, 'gray', 'q quit · ↑/↓ select · r restart · s stop/start'));
  lines.push(paint(style, 'bold', '  ' + COLUMNS.map(([title, w]) => title.padEnd(w)).join('')));
  for (const w of model.workers.values()) {
    const usage = model.usage.get(w.id)?.at(-1);
    const running = w.state === 'running';
    const cells: [string, string | undefined][] = [
      [w.id, 'bold'],
      [w.runtime, undefined],
      [w.state, w.state],
      [running ? w.health.status : '-', running ? w.health.status : undefined],
      [w.pid === null ? '-' : String(w.pid), undefined],
      [running && w.started_at !== null ? duration(now - Date.parse(w.started_at)) : '-', undefined],
      [String(w.restart_count), w.restart_count > 0 ? 'restarts' : undefined],
      [percent(usage?.cpu), undefined],
      [bytes(usage?.memory), undefined],
    ];
    const text = cells.map(([value, colorOf], i) => paint(style, colorOf === 'bold' ? 'bold' : colorOf === 'restarts' ? 'yellow' : colorOf === undefined ? undefined : stateColor(colorOf), value.padEnd(COLUMNS[i]![1]))).join('');
    lines.push(`${w.id === model.selected ? paint(style, 'cyan', '>') : ' '} ${text}`);
  }
  if (model.workers.size === 0) lines.push('  no workers');
  const selected = model.selected === undefined ? undefined : model.workers.get(model.selected);
  if (selected !== undefined) {
    const points = model.usage.get(selected.id) ?? [];
    const width = Math.max(10, Math.min(USAGE_POINTS, columns - 24));
    lines.push('');
    lines.push(`${paint(style, 'bold', selected.id)}  cpu ${sparkline(points.map((p) => p.cpu), width)} ${percent(points.at(-1)?.cpu)}`);
    lines.push(`${' '.repeat(selected.id.length)}  mem ${sparkline(points.map((p) => p.memory), width)} ${bytes(points.at(-1)?.memory)}`);
    lines.push(paint(style, 'gray', `── log of ${selected.id} ${'─'.repeat(Math.max(0, columns - selected.id.length - 12))}`));
    const room = Math.max(0, rows - lines.length - 1);
    for (const entry of model.log.slice(-room)) lines.push(entry.stream === 'stderr' ? paint(style, 'red', entry.line) : entry.stream === 'note' ? paint(style, 'gray', entry.line) : entry.line);
  }
  while (lines.length < rows - 1) lines.push('');
  lines.length = Math.max(0, rows - 1);
  lines.push(paint(style, 'gray', model.status));
  return lines.map((line) => fit(line, columns)).join('\r\n');
}
