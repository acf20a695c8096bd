/* global document, window, fetch, sessionStorage, location, history, TextDecoder, AbortController, requestAnimationFrame, Headers */
// The hsu dashboard: a live view of one master over its control API. The table is kept by the
// event stream (/events) and CPU/memory by the usage stream (/usage); nothing polls. The token is
// asked for once and kept in sessionStorage; it travels in the Authorization header only (never
// in a URL), so every stream is read with fetch() rather than EventSource.

const TOKEN_KEY = 'hsu.token';
const HISTORY_POINTS = 150; // 5 minutes of 2 s samples
const LOG_LINES = 500;
const $ = (id) => document.getElementById(id);

const view = {
  token: sessionStorage.getItem(TOKEN_KEY) ?? '',
  workers: new Map(), // id -> diagnostics summary
  rows: new Map(), // id -> <tr>
  usage: new Map(), // id -> [{at, cpu, rss}]
  masterUsage: [],
  selected: undefined,
  timeline: [],
  logAbort: undefined,
  eventsAbort: undefined,
  dirty: false,
  refreshes: new Map(),
};

// ---- the token ---------------------------------------------------------------------------------

function takeTokenFromFragment() {
  // `hsu dashboard` opens the page with #token=...: a fragment never reaches a server or its log.
  const match = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (match === null) return;
  view.token = decodeURIComponent(match[1]);
  sessionStorage.setItem(TOKEN_KEY, view.token);
  history.replaceState(null, '', location.pathname + location.search);
}

function askForToken(message) {
  const dialog = $('token-dialog');
  $('token-error').hidden = message === undefined;
  $('token-error').textContent = message ?? '';
  if (!dialog.open) dialog.showModal();
  $('token-input').focus();
}

$('token-form').addEventListener('submit', () => {
  view.token = $('token-input').value.trim();
  sessionStorage.setItem(TOKEN_KEY, view.token);
  $('token-input').value = '';
  void connect();
});

$('forget-token').addEventListener('click', () => {
  sessionStorage.removeItem(TOKEN_KEY);
  view.token = '';
  view.eventsAbort?.abort();
  askForToken();
});

// ---- the API -------------------------------------------------------------------------------------

class Unauthorized extends Error {}

function headers(extra = {}) {
  const h = new Headers({ accept: 'application/json', ...extra });
  if (view.token !== '') h.set('authorization', `Bearer ${view.token}`);
  return h;
}

async function api(method, path, body) {
  const response = await fetch(path, { method, headers: headers(body === undefined ? {} : { 'content-type': 'application/json' }), body: body === undefined ? undefined : JSON.stringify(body) });
  const data = await response.json().catch(() => ({}));
  if (response.status === 401) throw new Unauthorized(data.message ?? 'unauthorized');
  if (!response.ok) throw Object.assign(new Error(data.message ?? `HTTP ${response.status}`), { code: data.code, status: response.status });
  return data;
}

/** Reads an SSE response until it ends or `signal` aborts; calls onEvent(name, data) per event. */
async function stream(path, onEvent, signal) {
  const response = await fetch(path, { headers: headers({ accept: 'text/event-stream' }), signal });
  if (response.status === 401) throw new Unauthorized('unauthorized');
  if (!response.ok) {
    const data = await response.json().catch(() => ({}));
    throw Object.assign(new Error(data.message ?? `HTTP ${response.status}`), { code: data.code, status: response.status });
  }
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  let event = 'message';
  let data = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return;
    buffered += decoder.decode(value, { stream: true });
    const lines = buffered.split('\n');
    buffered = lines.pop() ?? '';
    for (const raw of lines) {
      const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
      if (line === '') {
        if (data.length > 0) onEvent(event, JSON.parse(data.join('\n')));
        event = 'message';
        data = [];
      } else if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
  }
}

/** Keeps a stream open: reopens it after it ends or fails, waiting longer each time (up to 10 s). */
async function follow(path, onEvent, signal, onOpen) {
  let wait = 500;
  while (!signal.aborted) {
    try {
      onOpen?.(true);
      await stream(path, onEvent, signal);
      wait = 500;
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof Unauthorized) {
        onOpen?.(false);
        askForToken('the token was refused');
        return;
      }
    }
    onOpen?.(false);
    await new Promise((resolve) => window.setTimeout(resolve, wait));
    wait = Math.min(wait * 2, 10_000);
  }
}

// ---- connecting ----------------------------------------------------------------------------------

async function connect() {
  view.eventsAbort?.abort();
  const abort = new AbortController();
  view.eventsAbort = abort;
  try {
    // Mutations need the token: prove it now rather than at the first button press.
    if (view.token === '') return askForToken();
    const info = await api('GET', '/');
    $('master-info').textContent = `v${info.version} · pid ${info.pid} · ${info.status} · ${info.config_file ?? ''}`;
    $('forget-token').hidden = false;
    $('token-dialog').close();
    // Subscribe first, then read the list: nothing that happens in between is missed.
    void follow('/events', onEvent, abort.signal, (live) => ($('connection').className = live ? 'dot live' : 'dot down'));
    void follow('/usage', (name, frame) => name === 'usage' && onUsage(frame), abort.signal);
    const { workers } = await api('GET', '/workers');
    for (const w of workers) view.workers.set(w.id, w);
    for (const id of [...view.rows.keys()]) if (!view.workers.has(id)) removeRow(id);
    schedule();
    if (view.selected === undefined && workers.length > 0) select(workers[0].id);
  } catch (error) {
    if (error instanceof Unauthorized) askForToken(view.token === '' ? undefined : 'the token was refused');
    else $('master-info').textContent = `cannot reach the master: ${error.message}`;
  }
}

function onEvent(name, event) {
  const id = event.worker_id;
  // A scale decision names the worker group, not a row: its replicas come as added and removed.
  if (id === undefined || name === 'scale') return;
  if (name === 'removed') {
    view.workers.delete(id);
    removeRow(id);
    if (view.selected === id) select(undefined);
    return;
  }
  const worker = view.workers.get(id);
  if (name === 'state' && worker !== undefined) {
    // Shown at once; the full record follows.
    worker.state = event.to;
    worker.pid = event.pid;
    worker.started_at = event.to === 'running' ? new Date(event.at).toISOString() : event.to === 'stopping' ? worker.started_at : null;
    if (id === view.selected) addTransition({ from: event.from, to: event.to, at: new Date(event.at).toISOString(), reason: event.reason });
  }
  if (name === 'health' && worker !== undefined) worker.health = { ...worker.health, status: event.status };
  schedule();
  refresh(id);
}

/** Re-reads one worker after an event about it (coalesced: one request per burst). */
function refresh(id) {
  if (view.refreshes.has(id)) return;
  view.refreshes.set(
    id,
    window.setTimeout(async () => {
      view.refreshes.delete(id);
      try {
        const w = await api('GET', `/workers/${encodeURIComponent(id)}`);
        delete w.history;
        view.workers.set(id, w);
        schedule();
      } catch {
        // removed meanwhile: its `removed` event says so
      }
    }, 100),
  );
}

function onUsage(frame) {
  view.masterUsage.push({ at: frame.at, cpu: frame.master.cpu_percent, rss: frame.master.rss_bytes });
  if (view.masterUsage.length > HISTORY_POINTS) view.masterUsage.shift();
  for (const [id, u] of Object.entries(frame.workers)) {
    let points = view.usage.get(id);
    if (points === undefined) view.usage.set(id, (points = []));
    points.push({ at: frame.at, cpu: u.cpu_percent, rss: u.rss_bytes ?? u.heap_used_bytes });
    if (points.length > HISTORY_POINTS) points.shift();
  }
  schedule();
}

// ---- controls ------------------------------------------------------------------------------------

async function control(id, verb, button) {
  button.disabled = true;
  try {
    await api('POST', `/workers/${encodeURIComponent(id)}/${verb}`, verb === 'start' ? undefined : {});
  } catch (error) {
    if (error instanceof Unauthorized) askForToken('the token was refused');
    else window.alert(`${verb} ${id}: ${error.message}`);
  } finally {
    button.disabled = false;
  }
}

// ---- the table -----------------------------------------------------------------------------------

const FIELDS = ['id', 'type', 'runtime', 'state', 'health', 'pid', 'uptime', 'restarts', 'cpu', 'memory'];

function rowFor(id) {
  let row = view.rows.get(id);
  if (row !== undefined) return row;
  row = document.createElement('tr');
  row.dataset.worker = id;
  for (const field of FIELDS) {
    const cell = document.createElement('td');
    cell.dataset.field = field;
    row.append(cell);
  }
  const actions = document.createElement('td');
  actions.className = 'actions';
  for (const verb of ['start', 'stop', 'restart']) {
    const button = document.createElement('button');
    button.type = 'button';
    button.textContent = verb;
    button.dataset.action = verb;
    button.addEventListener('click', (e) => {
      e.stopPropagation();
      void control(id, verb, button);
    });
    actions.append(button);
  }
  row.append(actions);
  row.addEventListener('click', () => select(id));
  document.querySelector('#workers tbody').append(row);
  view.rows.set(id, row);
  return row;
}

function removeRow(id) {
  view.rows.get(id)?.remove();
  view.rows.delete(id);
}

function render() {
  view.dirty = false;
  const now = Date.now();
  for (const [id, w] of view.workers) {
    const row = rowFor(id);
    row.classList.toggle('selected', id === view.selected);
    const last = view.usage.get(id)?.at(-1);
    const uptime = w.state === 'running' && w.started_at ? now - Date.parse(w.started_at) : null;
    const values = {
      id: w.id,
      type: w.type,
      runtime: w.runtime,
      state: w.state,
      health: w.state === 'running' ? w.health.status : '-',
      pid: w.pid ?? '-',
      uptime: duration(uptime),
      restarts: w.restart_count,
      cpu: last?.cpu == null ? '-' : `${last.cpu.toFixed(1)}%`,
      memory: bytes(last?.rss),
    };
    for (const cell of row.children) {
      const field = cell.dataset.field;
      if (field === undefined) continue;
      const text = String(values[field]);
      if (cell.textContent !== text) cell.textContent = text;
      if (field === 'state') cell.className = `state-${w.state}`;
      if (field === 'health') cell.className = `health-${w.state === 'running' ? w.health.status : 'unknown'}`;
    }
    const running = w.state === 'running' || w.state === 'starting' || w.state === 'waiting_restart';
    row.querySelector('[data-action="start"]').disabled = running || w.state === 'stopping';
    row.querySelector('[data-action="stop"]').disabled = !running;
  }
  $('no-workers').hidden = view.workers.size > 0;
  const m = view.masterUsage.at(-1);
  $('master-cpu').textContent = m?.cpu == null ? '' : `${m.cpu.toFixed(1)}%`;
  $('master-mem').textContent = bytes(m?.rss);
  chart($('master-cpu-chart'), view.masterUsage.map((p) => p.cpu));
  chart($('master-mem-chart'), view.masterUsage.map((p) => p.rss));
  if (view.selected !== undefined) {
    const points = view.usage.get(view.selected) ?? [];
    const last = points.at(-1);
    $('worker-cpu').textContent = last?.cpu == null ? '' : `${last.cpu.toFixed(1)}%`;
    $('worker-mem').textContent = bytes(last?.rss);
    chart($('worker-cpu-chart'), points.map((p) => p.cpu));
    chart($('worker-mem-chart'), points.map((p) => p.rss));
  }
}

function schedule() {
  if (view.dirty) return;
  view.dirty = true;
  requestAnimationFrame(render);
}

// ---- the selected worker: charts, transitions, log -----------------------------------------------

function select(id) {
  if (id === view.selected) return;
  view.selected = id;
  view.logAbort?.abort();
  $('detail').hidden = id === undefined;
  $('log').replaceChildren();
  view.timeline = [];
  renderTimeline();
  schedule();
  if (id === undefined) return;
  $('detail-title').textContent = id;
  const abort = new AbortController();
  view.logAbort = abort;
  api('GET', `/workers/${encodeURIComponent(id)}/history`)
    .then(({ history }) => {
      if (view.selected !== id) return;
      view.timeline = [...history, ...view.timeline.filter((t) => !history.some((h) => h.at === t.at && h.to === t.to))];
      renderTimeline();
    })
    .catch(() => undefined);
  void followLog(id, abort.signal);
}

async function followLog(id, signal) {
  try {
    await follow(
      `/workers/${encodeURIComponent(id)}/logs/stream?lines=50`,
      (name, data) => {
        if (name === 'line') logLine(data.line, data.stream);
        else if (name === 'error') logLine(data.message, 'note');
      },
      signal,
    );
  } catch {
    // follow() gives up only on an aborted signal or a refused token
  }
}

function logLine(text, kind) {
  const pre = $('log');
  const line = document.createElement('div');
  line.className = kind;
  line.textContent = text;
  const atBottom = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.append(line);
  while (pre.childElementCount > LOG_LINES) pre.firstElementChild.remove();
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

function addTransition(t) {
  view.timeline.push(t);
  if (view.timeline.length > 50) view.timeline.shift();
  renderTimeline();
}

function renderTimeline() {
  const list = $('timeline');
  list.replaceChildren(
    ...view.timeline
      .slice()
      .reverse()
      .map((t) => {
        const li = document.createElement('li');
        const to = document.createElement('span');
        to.className = `state-${t.to}`;
        to.textContent = t.to;
        li.append(`${new Date(t.at).toLocaleTimeString()}  ${t.from} → `, to, t.reason ? `  ${t.reason}` : '');
        return li;
      }),
  );
  $('timeline-strip').replaceChildren(
    ...view.timeline.map((t) => {
      const span = document.createElement('span');
      span.className = `state-${t.to}`;
      span.title = `${t.to} at ${t.at}`;
      return span;
    }),
  );
  if (view.selected !== undefined && view.selected !== null) {
    // Logs of an inline module are the master's own: say so instead of an empty pane.
    const w = view.workers.get(view.selected);
    if (w?.runtime === 'inline' && $('log').childElementCount === 0) logLine("inline modules log through the master's log", 'note');
  }
}

// ---- drawing -------------------------------------------------------------------------------------

function chart(svg, values) {
  const numbers = values.map((v) => (typeof v === 'number' ? v : null));
  const present = numbers.filter((v) => v !== null);
  let line = svg.querySelector('polyline');
  if (line === null) {
    line = document.createElementNS('http://www.w3.org/2000/svg', 'polyline');
    svg.append(line);
  }
  if (present.length < 2) return line.setAttribute('points', '');
  // Headroom above the highest point, so a flat line does not sit on the top edge.
  const max = Math.max(...present) * 1.15 || 1;
  const step = 300 / (HISTORY_POINTS - 1);
  const offset = HISTORY_POINTS - numbers.length;
  const points = [];
  numbers.forEach((v, i) => v !== null && points.push(`${((offset + i) * step).toFixed(1)},${(58 - (v / max) * 54).toFixed(1)}`));
  line.setAttribute('points', points.join(' '));
}

function duration(ms) {
  if (ms === null || ms === undefined) return '-';
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

function bytes(n) {
  if (typeof n !== 'number') return '-';
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(0)} KiB`;
  if (n < 1024 * 1024 * 1024) return `${(n / 1024 / 1024).toFixed(1)} MiB`;
  return `${(n / 1024 / 1024 / 1024).toFixed(2)} GiB`;
}

// Uptimes advance on the page's own clock; the server is not asked.
window.setInterval(schedule, 1000);
takeTokenFromFragment();
void connect();
