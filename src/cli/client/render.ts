/**
 * Output for people and for pipes: aligned tables and colour only on a terminal (and never with
 * NO_COLOR), tab-separated lines with a header otherwise, so `hsu ls | awk` works as expected.
 */
export interface Style {
  readonly tty: boolean;
  readonly color: boolean;
}

export function styleFor(stream: NodeJS.WriteStream = process.stdout, env: NodeJS.ProcessEnv = process.env): Style {
  const tty = stream.isTTY === true;
  return { tty, color: tty && env.NO_COLOR === undefined && env.TERM !== 'dumb' };
}

const CODES = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1 } as const;
export type Color = keyof typeof CODES;

export function paint(style: Style, color: Color | undefined, text: string): string {
  return style.color && color !== undefined ? `\u001b[${CODES[color]}m${text}\u001b[0m` : text;
}

const STATE_COLORS: Readonly<Record<string, Color>> = {
  running: 'green',
  starting: 'cyan',
  stopping: 'yellow',
  waiting_restart: 'yellow',
  stopped: 'gray',
  idle: 'gray',
  failed: 'red',
  failed_start: 'red',
  healthy: 'green',
  unhealthy: 'red',
  unknown: 'gray',
};

export function stateColor(state: string): Color | undefined {
  return STATE_COLORS[state];
}

/** Cells may carry a colour; widths are measured without it. */
export interface Cell {
  readonly text: string;
  readonly color?: Color;
}

export function table(style: Style, header: readonly string[], rows: readonly (readonly (Cell | string)[])[]): string {
  const cells = rows.map((row) => row.map((cell) => (typeof cell === 'string' ? { text: cell } : cell)));
  if (!style.tty) return [header, ...cells.map((row) => row.map((cell) => cell.text))].map((row) => row.join('\t')).join('\n') + '\n';
  const widths = header.map((title, i) => Math.max(title.length, ...cells.map((row) => row[i]?.text.length ?? 0)));
  const line = (row: readonly Cell[]): string => row.map((cell, i) => paint(style, cell.color, cell.text.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  return [line(header.map((text) => ({ text, color: 'bold' as const }))), ...cells.map(line)].join('\n') + '\n';
}

export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86_400) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

export function bytes(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (n < 1024) return `${n}b`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)}kb`;
  if (n < 1024 ** 3) return `${(n / 1024 ** 2).toFixed(1)}mb`;
  return `${(n / 1024 ** 3).toFixed(2)}gb`;
}

export function percent(p: number | null | undefined): string {
  return p === null || p === undefined ? '-' : `${p.toFixed(1)}%`;
}

export function clock(at: number | string): string {
  const d = new Date(at);
  return d.toTimeString().slice(0, 8);
}
