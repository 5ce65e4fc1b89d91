// stratus ui: one page over the JSON API of driver/ui/server.ts. Hash routes:
//   #/                      applications
//   #/app/<id>              jobs, stages, executors and the task timeline of an application
//   #/app/<id>/job/<n>      a job's stage DAG
//   #/app/<id>/stage/<n>    a stage's summary quantiles and task attempts
// While an application runs (no app-end yet) the page re-polls every 2 s.

const view = document.getElementById('view');
const crumbs = document.getElementById('crumbs');
const live = document.getElementById('live');
const POLL_MS = 2000;
let pollTimer;

const COLORS = {
  succeeded: 'var(--ok)',
  failed: 'var(--fail)',
  ignored: 'var(--ignored)',
  lost: 'var(--lost)',
  killed: 'var(--killed)',
  running: 'var(--running)',
};

async function api(path) {
  const response = await fetch(path, { cache: 'no-store' });
  const body = await response.json();
  if (!response.ok) throw new Error(body.error ?? response.statusText);
  return body;
}

function esc(value) {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c],
  );
}

function fmtMs(ms) {
  if (ms === undefined || ms === null) return '–';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${Math.floor(ms / 60_000)} min ${Math.round((ms % 60_000) / 1000)} s`;
}

function fmtBytes(n) {
  if (n === undefined || n === null) return '–';
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

function fmtTime(at) {
  return at ? new Date(at).toLocaleString() : '–';
}

function status(s) {
  return `<span class="status-${esc(s)}">${esc(s)}</span>`;
}

// A failure reason, its stack (the user's, when known) behind a details view.
function failure(id, reason, stack) {
  if (!reason) return '';
  const text = `<span class="failure-reason">${esc(reason)}</span>`;
  return stack
    ? `<details class="failure" data-testid="${id}"><summary>${text}</summary><pre class="stack">${esc(stack)}</pre></details>`
    : `<div class="failure" data-testid="${id}">${text}</div>`;
}

function stat(id, label, value) {
  return `<div class="stat" data-testid="stat-${id}"><b>${esc(value)}</b>${esc(label)}</div>`;
}

function table(id, headers, rows) {
  const head = headers
    .map((h) => (h.startsWith('#') ? `<th class="num">${esc(h.slice(1))}</th>` : `<th>${esc(h)}</th>`))
    .join('');
  return `<table id="${id}"><thead><tr>${head}</tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function appLink(appId, rest = '') {
  return `#/app/${encodeURIComponent(appId)}${rest}`;
}

function setCrumbs(items) {
  crumbs.innerHTML = items.map(([label, href]) => `<a href="${href}">${esc(label)}</a>`).join(' / ');
}

// ---- applications -------------------------------------------------------------------------

async function appsPage() {
  const { source, apps } = await api('/api/apps');
  setCrumbs([['applications', '#/']]);
  const rows = apps.map(
    (a) =>
      `<tr><td><a href="${appLink(a.appId)}">${esc(a.appId)}</a></td><td>${esc(a.name)}</td><td>${status(a.status)}</td>` +
      `<td>${fmtTime(a.startedAt)}</td><td class="num">${fmtMs(a.wallTimeMs)}</td>` +
      `<td class="num">${a.jobs}</td><td class="num">${a.stages}</td><td class="num">${a.tasks}</td>` +
      `<td class="reason">${esc(a.error ?? '')}</td></tr>`,
  );
  view.innerHTML =
    `<h2>Applications <small>(${esc(source)})</small></h2>` +
    table(
      'apps',
      [
        'application',
        'name',
        'status',
        'started',
        '#duration',
        '#jobs',
        '#stages',
        '#tasks',
        'failure reason',
      ],
      rows,
    );
  return apps.some((a) => a.status === 'running');
}

// ---- one application ----------------------------------------------------------------------

// Why a skipped stage did not run, from its job's stage infos (logs written before them do not say).
function skipReasonText(st) {
  return st.skipReason === 'above-cached-dataset' ? 'above a cached dataset' : 'its shuffle output exists';
}

// A stage's partitions: its tasks when it ran; a skipped stage's from its job's stage infos
// (0 in logs written before job-start carried them).
function partitionsOf(stage) {
  return stage.partitions ?? stage.numTasks;
}

function timelineSvg(attempts, app) {
  const started = attempts.filter((a) => a.startedAt !== undefined);
  if (started.length === 0) {
    if (app.status === 'running') return '<p>No task has started yet.</p>';
    return `<p id="no-tasks">No task ran: the application ${esc(app.status)}${app.error ? ` before any task started (${esc(app.error)})` : ''}.</p>`;
  }
  const lanes = [...new Set(started.map((a) => `${a.executorId} · slot ${a.slot}`))].sort((a, b) =>
    a.localeCompare(b, 'en', { numeric: true }),
  );
  const t0 = Math.min(...started.map((a) => a.startedAt));
  // Attempts still running are drawn up to the latest event seen.
  const t1 = Math.max(...started.map((a) => a.endedAt ?? a.startedAt));
  const span = Math.max(1, t1 - t0);
  const labelW = 170;
  const width = 900;
  const laneH = 22;
  const x = (t) => labelW + ((t - t0) / span) * width;
  const parts = [];
  lanes.forEach((lane, i) => {
    const y = 20 + i * laneH;
    parts.push(`<text x="4" y="${y + 15}">${esc(lane)}</text>`);
    parts.push(
      `<line x1="${labelW}" x2="${labelW + width}" y1="${y + laneH}" y2="${y + laneH}" stroke="#eaeef2"/>`,
    );
  });
  for (const a of started) {
    const lane = lanes.indexOf(`${a.executorId} · slot ${a.slot}`);
    const end = a.endedAt ?? t1;
    const w = Math.max(2, x(end) - x(a.startedAt));
    const why = a.reason ?? (a.error ? `${a.error.name}: ${a.error.message}` : undefined);
    const title = `stage ${a.stageId} partition ${a.partition} attempt ${a.attempt}${a.speculative ? ' (speculative)' : ''}: ${a.status}${why ? ` (${why})` : ''}, ${fmtMs(end - a.startedAt)}`;
    parts.push(
      `<rect class="task-bar" data-status="${esc(a.status)}" x="${x(a.startedAt).toFixed(1)}" y="${22 + lane * laneH}" width="${w.toFixed(1)}" height="${laneH - 5}" ` +
        `fill="${COLORS[a.status] ?? '#888'}" ${a.speculative ? 'stroke="var(--spec)" stroke-width="2"' : ''} rx="2"><title>${esc(title)}</title></rect>`,
    );
  }
  for (let i = 0; i <= 5; i++) {
    const t = (span * i) / 5;
    parts.push(`<text x="${labelW + (width * i) / 5 - 10}" y="12">${fmtMs(t)}</text>`);
  }
  const height = 30 + lanes.length * laneH;
  const legend = Object.entries(COLORS)
    .map(([k, c]) => `<span data-legend="${k}"><i style="background:${c}"></i>${k}</span>`)
    .join('');
  return (
    `<svg id="timeline" width="${labelW + width + 20}" height="${height}" role="img" aria-label="task timeline">${parts.join('')}</svg>` +
    `<div class="legend">${legend}<span><i style="border:2px solid var(--spec)"></i>speculative</span></div>`
  );
}

async function appPage(appId) {
  const [{ summary: s }, { attempts }] = await Promise.all([
    api(`/api/apps/${encodeURIComponent(appId)}`),
    api(`/api/apps/${encodeURIComponent(appId)}/timeline`),
  ]);
  setCrumbs([
    ['applications', '#/'],
    [s.appId, appLink(s.appId)],
  ]);
  const t = s.totals;
  const stats = [
    stat('jobs', t.hiddenJobs ? `jobs (${t.hiddenJobs} hidden)` : 'jobs', t.jobs),
    stat('stages', `stages (${t.stagesSkipped} skipped)`, t.stagesRun + t.stagesSkipped),
    stat('tasks', 'tasks', t.tasks),
    stat('attempts', `attempts (${t.failed} failed, ${t.speculative} speculative)`, t.attempts),
    stat('executors', 'executors seen', t.executorsSeen),
    stat('slots', `slots seen (${s.plannedSlots ?? '?'} planned)`, t.slotsSeen),
    stat(
      'planned-slots',
      s.plannedExecutors !== undefined
        ? `slots planned (${s.plannedExecutors} executors × ${s.slotsPerExecutor})`
        : 'slots planned',
      s.plannedSlots ?? '?',
    ),
    stat('wall', 'wall time', fmtMs(s.wallTimeMs)),
    stat('cost', 'est. Flex Consumption cost', `$${s.cost.totalUsd.toFixed(6)}`),
  ];
  const jobRows = s.jobs.map(
    (j) =>
      `<tr data-job-id="${j.jobId}" data-hidden="${j.hidden}" data-stages="${j.stageIds.length}"><td><a href="${appLink(s.appId, `/job/${j.jobId}`)}">job ${j.jobId}</a></td>` +
      `<td>${esc(j.action)} "${esc(j.actionName)}" ${j.hidden ? `<span class="badge hidden-job" title="${esc(j.reason)}">hidden</span>` : ''}</td>` +
      `<td class="num">${j.run ?? '–'}</td><td>${esc(j.module ?? '')}</td>` +
      `<td>${status(j.status)}</td><td class="num">${j.stagesRun}</td><td class="num">${j.skippedStageIds.length}</td>` +
      `<td class="num">${j.tasks}</td><td class="num">${fmtMs(j.durationMs)}</td>` +
      `<td class="reason">${failure(`job-${j.jobId}-error`, j.error, j.errorStack)}</td></tr>`,
  );
  // Skipped stages are listed greyed, with the partitions they would have run and why they did not.
  const stageRows = s.stages.map(
    (st) =>
      `<tr class="${st.skipped ? 'skipped' : ''}" data-stage-id="${st.stageId}" data-job-id="${st.jobId}" data-partitions="${partitionsOf(st)}" data-skipped="${st.skipped}" data-skip-reason="${st.skipReason ?? ''}">` +
      `<td>${st.skipped ? `stage ${st.stageId}` : `<a href="${appLink(s.appId, `/stage/${st.stageId}`)}">stage ${st.stageId}</a>`}</td>` +
      `<td class="num">${st.jobId}</td><td>${esc(st.kind ?? '')}</td><td>${status(st.status)}${st.skipped && st.skipReason ? ` <span class="skip-reason">(${skipReasonText(st)})</span>` : ''}</td>` +
      `<td class="num">${partitionsOf(st) || '–'}</td><td class="num">${st.attempts}</td>` +
      `<td class="num">${st.taskTime ? fmtMs(st.taskTime.median) : '–'}</td><td class="num">${st.skew ? `${st.skew.toFixed(1)}×` : '–'}</td>` +
      `<td class="num">${fmtBytes(st.shuffleReadBytes)}</td><td class="num">${fmtBytes(st.shuffleWriteBytes)}</td>` +
      `<td class="ops">${esc(st.name ?? '')}</td>` +
      `<td class="reason">${failure(`stage-${st.stageId}-error`, st.error, st.errorStack)}</td></tr>`,
  );
  const executorRows = s.executors.map(
    (e) =>
      `<tr><td>${esc(e.executorId)}</td><td class="num">${e.slots.length}</td><td>${esc(e.slots.join(', '))}</td>` +
      `<td class="num">${e.attempts}</td><td class="num">${e.succeeded}</td><td class="num">${e.failed}</td>` +
      `<td class="num">${fmtMs(e.activeMs)}</td></tr>`,
  );
  // Accumulators per run (a driver script makes several); `badRecords:<uri>` counts skipped bad records.
  const accumulatorRows = (s.accumulators ?? []).flatMap((acc) =>
    Object.entries(acc.values).map(([name, value]) => {
      const bad = name.startsWith('badRecords:');
      return (
        `<tr data-accumulator="${esc(name)}" data-run="${acc.run ?? ''}"><td class="num">${acc.run ?? '–'}</td><td>${esc(acc.module ?? '')}</td>` +
        `<td>${bad ? `bad records skipped in ${esc(name.slice('badRecords:'.length))}` : esc(name)}</td><td class="num">${esc(JSON.stringify(value))}</td></tr>`
      );
    }),
  );
  const notices = s.notices.map(
    (n) => `<li class="status-${n.level === 'info' ? 'running' : 'failed'}">${esc(n.message)}</li>`,
  );
  view.innerHTML =
    `<h2>${esc(s.name)} <small>${esc(s.appId)} · ${esc(s.mode ?? '')} · ${status(s.status)}</small></h2>` +
    failure('app-error', s.error, s.errorStack) +
    `<div class="stats">${stats.join('')}</div>` +
    `<h2>Jobs</h2>${jobRows.length ? table('jobs', ['job', 'action', '#run', 'job module', 'status', '#stages run', '#skipped', '#tasks', '#duration', 'failure reason'], jobRows) : `<p id="no-jobs">${s.status === 'running' ? 'No job has started yet.' : `No job ran: the application ${esc(s.status)} before its first action${s.error ? ` (${esc(s.error)})` : ''}.`}</p>`}` +
    `<h2>Stages</h2>${table('stages', ['stage', '#job', 'kind', 'status', '#partitions', '#attempts', '#median task', '#skew', '#shuffle read', '#shuffle write', 'operators', 'failure reason'], stageRows)}` +
    `<h2>Executors and slots</h2>${table('executors', ['executor', '#slots', 'slot ids', '#attempts', '#succeeded', '#failed', '#active'], executorRows)}` +
    (accumulatorRows.length
      ? `<h2>Accumulators</h2>${table('accumulators', ['#run', 'job module', 'accumulator', '#value'], accumulatorRows)}`
      : '') +
    `<h2>Timeline</h2>${timelineSvg(attempts, s)}` +
    (notices.length ? `<h2>Notices</h2><ul>${notices.join('')}</ul>` : '');
  return s.status === 'running';
}

// ---- a job's stage DAG --------------------------------------------------------------------

// Split an operators label into lines of about `width` characters, at its ` → ` joints (a
// longer operator gets a line of its own, broken at its length).
function wrapLabel(label, width) {
  const lines = [];
  let line = '';
  for (const part of label.split(' → ')) {
    const next = line ? `${line} → ${part}` : part;
    if (line && next.length > width) {
      lines.push(`${line} →`);
      line = part;
    } else line = next;
    while (line.length > width) {
      lines.push(line.slice(0, width));
      line = line.slice(width);
    }
  }
  if (line) lines.push(line);
  return lines;
}

function dagSvg(appId, stages) {
  const ids = new Set(stages.map((s) => s.stageId));
  const depth = new Map();
  const depthOf = (s) => {
    if (depth.has(s.stageId)) return depth.get(s.stageId);
    const parents = s.parentStageIds.filter((p) => ids.has(p));
    const d =
      parents.length === 0
        ? 0
        : 1 + Math.max(...parents.map((p) => depthOf(stages.find((x) => x.stageId === p))));
    depth.set(s.stageId, d);
    return d;
  };
  const columns = [];
  for (const s of stages) {
    const d = depthOf(s);
    columns[d] = [...(columns[d] ?? []), s];
  }
  const boxW = 260;
  // The operators are wrapped over as many lines as they need (never cut): boxes grow to fit.
  const nameLines = new Map(stages.map((s) => [s.stageId, wrapLabel(s.name ?? '(output reused)', 38)]));
  const boxH = 52 + 16 * Math.max(1, ...[...nameLines.values()].map((l) => l.length));
  const gapX = 70;
  const gapY = 24;
  const pos = new Map();
  columns.forEach((col, c) => {
    col.forEach((s, r) => {
      pos.set(s.stageId, { x: 10 + c * (boxW + gapX), y: 10 + r * (boxH + gapY) });
    });
  });
  const parts = [
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#57606a"/></marker></defs>',
  ];
  for (const s of stages) {
    for (const p of s.parentStageIds) {
      if (!pos.has(p)) continue;
      const a = pos.get(p);
      const b = pos.get(s.stageId);
      parts.push(
        `<line class="edge" data-from="${p}" data-to="${s.stageId}" x1="${a.x + boxW}" y1="${a.y + boxH / 2}" x2="${b.x}" y2="${b.y + boxH / 2}" stroke="#57606a" marker-end="url(#arrow)"/>`,
      );
    }
  }
  for (const s of stages) {
    const { x, y } = pos.get(s.stageId);
    const name = s.name ?? '(output reused)';
    const lines = nameLines.get(s.stageId);
    const n = partitionsOf(s);
    const size = n ? ` · ${n} partition${n === 1 ? '' : 's'}` : '';
    const line2 = s.skipped ? `skipped${size}` : `${s.kind}${size}`;
    const box =
      `<g class="stage${s.skipped ? ' skipped' : ''}${s.status === 'failed' ? ' failed' : ''}" data-stage="${s.stageId}" data-partitions="${n}" data-skip-reason="${s.skipReason ?? ''}">` +
      `<rect x="${x}" y="${y}" width="${boxW}" height="${boxH}" rx="6">${s.skipped && s.skipReason ? `<title>skipped: ${esc(skipReasonText(s))}</title>` : ''}</rect>` +
      `<text x="${x + 10}" y="${y + 20}" font-weight="600">Stage ${s.stageId}</text>` +
      `<text x="${x + 10}" y="${y + 38}">${esc(line2)}</text>` +
      `<text class="ops" x="${x + 10}" y="${y + 56}"><title>${esc(name)}</title>${lines.map((l, i) => `<tspan x="${x + 10}" dy="${i === 0 ? 0 : 16}">${esc(l)}</tspan>`).join('')}</text></g>`;
    parts.push(s.skipped ? box : `<a href="${appLink(appId, `/stage/${s.stageId}`)}">${box}</a>`);
  }
  const width = 20 + columns.length * (boxW + gapX);
  const height = 20 + Math.max(...columns.map((c) => c.length)) * (boxH + gapY);
  return `<svg id="dag" class="dag" width="${width}" height="${height}" role="img" aria-label="stage DAG">${parts.join('')}</svg>`;
}

async function jobPage(appId, jobId) {
  const { summary: s } = await api(`/api/apps/${encodeURIComponent(appId)}`);
  const job = s.jobs.find((j) => j.jobId === jobId);
  if (!job) throw new Error(`no job ${jobId} in ${appId}`);
  setCrumbs([
    ['applications', '#/'],
    [s.appId, appLink(s.appId)],
    [`job ${jobId}`, appLink(s.appId, `/job/${jobId}`)],
  ]);
  const stages = job.stageIds.map((id) => s.stages.find((st) => st.stageId === id)).filter(Boolean);
  view.innerHTML =
    `<h2>Job ${job.jobId}: ${esc(job.action)}${job.callSite ? ` at ${esc(job.callSite)}` : ''} "${esc(job.actionName)}" ${job.hidden ? '<span class="badge hidden-job">hidden</span>' : ''} ${status(job.status)}</h2>` +
    failure('job-error', job.error, job.errorStack) +
    (job.reason ? `<p>${esc(job.reason)}</p>` : '') +
    `<div class="stats">${stat('job-stages', 'stages', job.stageIds.length)}${stat('job-skipped', 'skipped', job.skippedStageIds.length)}${stat('job-tasks', 'tasks', job.tasks)}${stat('job-duration', 'duration', fmtMs(job.durationMs))}</div>` +
    `<h2>Stage DAG</h2>${dagSvg(s.appId, stages)}` +
    (job.accumulators
      ? `<h2>Accumulators after the job</h2><pre id="job-accumulators">${esc(JSON.stringify(job.accumulators, null, 2))}</pre>`
      : '') +
    (job.plan ? `<h2>Plan</h2><pre>${esc(job.plan)}</pre>` : '') +
    '';
  return job.status === 'running';
}

// ---- a stage's tasks ----------------------------------------------------------------------

async function stagePage(appId, stageId) {
  const { stage, attempts, quantiles } = await api(
    `/api/apps/${encodeURIComponent(appId)}/stages/${stageId}`,
  );
  setCrumbs([
    ['applications', '#/'],
    [appId, appLink(appId)],
    [`job ${stage.jobId}`, appLink(appId, `/job/${stage.jobId}`)],
    [`stage ${stageId}`, appLink(appId, `/stage/${stageId}`)],
  ]);
  const metrics = [
    ['Duration', quantiles.durationMs, fmtMs],
    ['Scheduler delay', quantiles.schedulerDelayMs, fmtMs],
    ['Records read', quantiles.recordsRead, String],
    ['Records written', quantiles.recordsWritten, String],
    ['Shuffle read', quantiles.shuffleReadBytes, fmtBytes],
    ['Shuffle write', quantiles.shuffleWriteBytes, fmtBytes],
    ['Peak memory', quantiles.peakMemoryBytes, fmtBytes],
    ['Spill (disk)', quantiles.spillBytes, fmtBytes],
  ];
  const quantileRows = metrics.map(
    ([label, q, f]) =>
      `<tr><td>${label}</td>${['min', 'p25', 'median', 'p75', 'max'].map((k) => `<td class="num">${q ? f(q[k]) : '–'}</td>`).join('')}</tr>`,
  );
  // Where persisted partitions came from (Spark's storage tab): executor memory, disk, blob, computed.
  const cacheText = (m) =>
    [
      [m?.cachedFromMemory, 'memory'],
      [m?.cachedFromDisk, 'disk'],
      [m?.cachedFromBlob, 'blob'],
      [m?.cachedComputed, 'computed'],
    ]
      .filter(([n]) => n)
      .map(([n, where]) => `${n} ${where}`)
      .join(' · ') || '–';
  const taskRows = attempts
    .slice()
    .sort((a, b) => a.partition - b.partition || a.attempt - b.attempt)
    .map(
      (a) =>
        `<tr data-status="${esc(a.status)}"><td class="num">${a.partition}</td><td class="num">${a.attempt}${a.speculative ? ' <span class="badge">speculative</span>' : ''}</td>` +
        `<td>${esc(a.executorId)}</td><td class="num">${a.slot}</td><td>${status(a.status)}</td>` +
        `<td class="num">${fmtMs(a.durationMs)}</td><td class="num">${a.metrics?.recordsRead ?? '–'}</td><td class="num">${a.metrics?.recordsWritten ?? '–'}</td>` +
        `<td class="num">${fmtBytes(a.metrics?.shuffleReadBytes)}</td><td class="num">${fmtBytes(a.metrics?.shuffleWriteBytes)}</td>` +
        `<td class="cached">${esc(cacheText(a.metrics))}</td>` +
        `<td class="reason">${a.error ? failure(`attempt-${a.partition}-${a.attempt}-error`, `${a.error.name}: ${a.error.message}`, a.error.stack) : esc(a.reason ?? '')}</td></tr>`,
    );
  view.innerHTML =
    `<h2>Stage ${stage.stageId} (${esc(stage.kind ?? '')}) ${status(stage.status)}</h2><p class="ops">${esc(stage.name ?? '')}</p>` +
    failure('stage-error', stage.error, stage.errorStack) +
    `<div class="stats">${stat('stage-tasks', 'tasks', stage.numTasks)}${stat('stage-attempts', 'attempts', stage.attempts)}${stat('stage-duration', 'duration', fmtMs(stage.durationMs))}${stat('stage-skew', 'skew (max/median)', stage.skew ? `${stage.skew.toFixed(2)}×` : '–')}${stat('stage-cached', 'cached partitions', cacheText(stage))}</div>` +
    `<h2>Summary of ${attempts.filter((a) => a.status === 'succeeded').length} completed tasks</h2>` +
    table(
      'quantiles',
      ['metric', '#min', '#25th percentile', '#median', '#75th percentile', '#max'],
      quantileRows,
    ) +
    `<h2>Tasks</h2>${table('tasks', ['#partition', '#attempt', 'executor', '#slot', 'status', '#duration', '#records read', '#records written', '#shuffle read', '#shuffle write', 'cached partitions from', 'failure reason'], taskRows)}`;
  return stage.status === 'running' || stage.status === 'pending';
}

// ---- routing ------------------------------------------------------------------------------

async function render() {
  clearTimeout(pollTimer);
  const parts = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
  try {
    let running;
    if (parts[0] === 'app' && parts[2] === 'job') running = await jobPage(parts[1], Number(parts[3]));
    else if (parts[0] === 'app' && parts[2] === 'stage')
      running = await stagePage(parts[1], Number(parts[3]));
    else if (parts[0] === 'app') running = await appPage(parts[1]);
    else running = await appsPage();
    live.hidden = !running;
    document.body.dataset.ready = 'true';
    if (running) pollTimer = setTimeout(render, POLL_MS);
  } catch (error) {
    view.innerHTML = `<p class="error">${esc(error.message)}</p>`;
    document.body.dataset.ready = 'true';
  }
}

window.addEventListener('hashchange', () => {
  document.body.dataset.ready = 'false';
  render();
});
render();
