/**
 * The studio: one page over the public API only (the same calls a curl user makes). Upload through the presigned
 * POSTs, a chain editor generated from /api/effects, waveforms from the API's waveform JSON (wavesurfer.js), A/B
 * listening through two <audio> elements, and jobs followed live over the session's WebSocket.
 */
import WaveSurfer from 'wavesurfer.js';

interface Stored {
  session_id: string;
  access_token: string;
  events_url: string;
}
type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Spec = Json & { kind: 'number' | 'enum' | 'boolean' | 'list' };

const STORE_KEY = 'david.studio.session';
const $ = <T extends HTMLElement = HTMLElement>(id: string) => document.getElementById(id) as T;

let apiBase = location.origin;
let session: Stored | null = null;
let socket: WebSocket | null = null;
let effects: Record<string, Json> = {};
let presets: Record<string, Json> = {};
const files = new Map<string, Json>();
const jobs = new Map<string, Json>();
let selectedFile: string | null = null;
let currentJob: string | null = null;
const waves: { a?: WaveSurfer; b?: WaveSurfer } = {};
const shown: { a?: string; b?: string } = {};
let active: 'a' | 'b' | null = null;
let inputLink: { fileId: string; url: string; at: number } | null = null;
/** Settles once the session is open (actions taken before wait for it). */
let sessionReady: Promise<void> = new Promise(() => undefined);

/** An API call with the session's token; an error answer becomes an Error carrying its words and code. */
async function api(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await fetch(apiBase + path, {
    method,
    headers: { ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...(session ? { authorization: `Bearer ${session.access_token}` } : {}) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : {};
  if (!res.ok) throw Object.assign(new Error(json.error ? `${json.error.message} (${json.error.code})` : `HTTP ${res.status}`), { status: res.status, code: json.error?.code });
  return json;
}

const say = (id: string, text: string): void => {
  $(id).textContent = text;
};

// ---- session ------------------------------------------------------------------------------------------------

async function newSession(): Promise<void> {
  session = null;
  const s = await api('POST', '/api/audio/session', { name: 'studio' });
  session = { session_id: s.session_id, access_token: s.access_token, events_url: s.events_url };
  localStorage.setItem(STORE_KEY, JSON.stringify(session));
  files.clear();
  jobs.clear();
  selectedFile = currentJob = null;
  for (const k of ['a', 'b'] as const) {
    waves[k]?.destroy();
    waves[k] = undefined;
    shown[k] = undefined;
  }
  connect();
  render();
}

async function resume(): Promise<void> {
  const saved = localStorage.getItem(STORE_KEY);
  if (saved) {
    session = JSON.parse(saved) as Stored;
    try {
      await refresh();
      connect();
      return;
    } catch (err) {
      if (![401, 403, 404].includes((err as { status?: number }).status ?? 0)) throw err;
    }
  }
  await newSession();
}

/** Everything of the session, as GET returns it (after a reload, or a reconnect). */
async function refresh(): Promise<void> {
  const info = await api('GET', `/api/audio/${session!.session_id}`);
  files.clear();
  jobs.clear();
  for (const f of info.uploaded_files) files.set(f.file_id, f);
  for (const j of info.processing_history) jobs.set(j.job_id, j);
  const latest = [...files.values()].at(-1);
  if (!selectedFile || !files.has(selectedFile)) selectedFile = latest?.file_id ?? null;
  const ofFile = [...jobs.values()].filter((j) => j.file_id === selectedFile);
  if (!currentJob || !jobs.has(currentJob)) currentJob = ofFile.at(-1)?.job_id ?? null;
  render();
}

/** The push channel: every change of the session; on a drop, it reconnects (its snapshot fills the gap). */
function connect(): void {
  socket?.close();
  const mine = session!;
  const ws = new WebSocket(`${mine.events_url}?token=${encodeURIComponent(mine.access_token)}`);
  socket = ws;
  ws.onmessage = (e) => {
    const m = JSON.parse(String(e.data));
    if (m.type === 'file.updated') files.set(m.file_id, { ...files.get(m.file_id), ...(m.file ?? { status: m.status }), ...(m.progress ? { progress: m.progress } : {}) });
    else if (m.type === 'job.updated' || m.type === 'job.progress') {
      const before = jobs.get(m.job_id) ?? {};
      if (before.status && isFinal(before.status) && !isFinal(m.status)) return; // an older message overtaken by a newer state
      jobs.set(m.job_id, { ...before, ...(m.job ?? {}), status: m.status, ...(m.progress ? { progress: m.progress } : {}) });
    }
    render();
  };
  ws.onclose = () => {
    if (socket === ws && session === mine) setTimeout(() => session === mine && void refresh().then(connect).catch(() => setTimeout(connect, 2000)), 1000);
  };
}

const isFinal = (s: string) => ['completed', 'failed', 'expired'].includes(s);

// ---- upload -------------------------------------------------------------------------------------------------

const TYPES: Record<string, string> = { wav: 'audio/wav', wave: 'audio/wav', mp3: 'audio/mpeg', flac: 'audio/flac', ogg: 'audio/ogg', oga: 'audio/ogg', opus: 'audio/opus', m4a: 'audio/mp4', mp4: 'audio/mp4', aac: 'audio/aac' };

async function uploadAll(list: FileList | File[]): Promise<void> {
  await sessionReady;
  await Promise.all([...list].map((f) => uploadOne(f)));
}

/** One file: ask for a presigned POST, then send the file straight to storage with a progress bar. */
async function uploadOne(f: File): Promise<void> {
  const li = document.createElement('li');
  const label = document.createElement('span');
  const bar = document.createElement('progress');
  bar.max = 100;
  bar.value = 0;
  bar.setAttribute('aria-label', `upload of ${f.name}`);
  label.textContent = `${f.name}: asking… `;
  li.append(label, bar);
  $('uploads').append(li);
  try {
    const ext = f.name.split('.').pop()?.toLowerCase() ?? '';
    const up = await api('POST', '/api/audio/upload', { session_id: session!.session_id, filename: f.name, content_type: TYPES[ext] ?? f.type ?? 'application/octet-stream', size: f.size });
    files.set(up.file_id, { file_id: up.file_id, filename: f.name, status: 'pending', created_at: new Date().toISOString() });
    selectedFile = up.file_id; // the latest upload is the one worked on
    currentJob = null;
    render();
    label.textContent = `${f.name}: uploading `;
    await new Promise<void>((resolve, reject) => {
      const form = new FormData();
      for (const [k, v] of Object.entries(up.upload.fields as Record<string, string>)) form.append(k, v);
      form.append('file', f);
      const xhr = new XMLHttpRequest();
      xhr.open('POST', up.upload.url);
      xhr.upload.onprogress = (e) => e.lengthComputable && (bar.value = Math.round((e.loaded / e.total) * 100));
      xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new Error(`storage answered ${xhr.status}: ${xhr.responseText.slice(0, 200)}`)));
      xhr.onerror = () => reject(new Error('the upload did not reach storage'));
      xhr.send(form);
    });
    bar.value = 100;
    label.textContent = `${f.name}: uploaded, checking… `;
    setTimeout(() => li.remove(), 4000);
  } catch (err) {
    label.textContent = `${f.name}: ${(err as Error).message} `;
    li.classList.add('error');
  }
}

// ---- chain editor (generated from the catalogue) ---------------------------------------------------------

function control(name: string, spec: Spec, value: unknown): { el: HTMLElement; read: () => unknown } {
  const row = document.createElement('div');
  row.className = 'param';
  const id = `p-${Math.random().toString(36).slice(2)}`;
  const label = document.createElement('label');
  label.htmlFor = id;
  label.textContent = name;
  if (spec.doc) label.title = spec.doc;
  if (spec.kind === 'number') {
    const input = document.createElement('input');
    input.type = 'range';
    input.id = id;
    input.min = String(spec.min);
    input.max = String(spec.max);
    // A round step (0.01, 0.1, 1…) about a thousandth of the range, so the default and round values are on it.
    input.step = spec.integer ? '1' : String(10 ** Math.floor(Math.log10((spec.max - spec.min) / 1000)));
    input.value = String(value ?? spec.default);
    const out = document.createElement('output');
    out.className = 'value';
    out.htmlFor.add(id);
    const show = () => (out.textContent = `${Number(input.value).toLocaleString(undefined, { maximumFractionDigits: 3 })}${spec.unit ? ` ${spec.unit}` : ''}`);
    input.addEventListener('input', show);
    show();
    row.append(label, input, out);
    return { el: row, read: () => Number(input.value) };
  }
  if (spec.kind === 'enum') {
    const select = document.createElement('select');
    select.id = id;
    for (const v of spec.values as string[]) select.append(new Option(v, v, false, v === (value ?? spec.default)));
    row.append(label, select);
    return { el: row, read: () => select.value };
  }
  if (spec.kind === 'boolean') {
    const box = document.createElement('input');
    box.type = 'checkbox';
    box.id = id;
    box.setAttribute('role', 'switch');
    box.checked = Boolean(value ?? spec.default);
    row.append(label, box);
    return { el: row, read: () => box.checked };
  }
  // A list (equalizer bands): rows of the item's fields, added and removed.
  const wrap = document.createElement('div');
  wrap.className = 'bands';
  const title = document.createElement('div');
  title.textContent = name;
  if (spec.doc) title.title = spec.doc;
  const rows: { el: HTMLElement; read: () => unknown }[] = [];
  const body = document.createElement('div');
  const add = document.createElement('button');
  add.type = 'button';
  add.textContent = `Add ${name.replace(/s$/, '')}`;
  const addRow = (item: Json) => {
    const r = document.createElement('div');
    r.className = 'step';
    const parts = Object.entries(spec.item as Record<string, Spec>).map(([k, s]) => [k, control(k, s, item[k])] as const);
    const remove = document.createElement('button');
    remove.type = 'button';
    remove.textContent = 'Remove';
    const entry = { el: r, read: () => Object.fromEntries(parts.map(([k, c]) => [k, c.read()])) };
    remove.onclick = () => {
      if (rows.length <= (spec.min_items ?? 0)) return;
      rows.splice(rows.indexOf(entry), 1);
      r.remove();
      add.disabled = rows.length >= (spec.max_items ?? Infinity);
    };
    r.append(...parts.map(([, c]) => c.el), remove);
    rows.push(entry);
    body.append(r);
    add.disabled = rows.length >= (spec.max_items ?? Infinity);
  };
  for (const item of (value ?? spec.default ?? []) as Json[]) addRow(item);
  add.onclick = () => addRow(Object.fromEntries(Object.entries(spec.item as Record<string, Spec>).map(([k, s]) => [k, s.default])));
  wrap.append(title, body, add);
  return { el: wrap, read: () => rows.map((r) => r.read()) };
}

const steps: { li: HTMLLIElement; read: () => Json }[] = [];

function addStep(effectId = Object.keys(effects)[0]): void {
  const li = document.createElement('li');
  li.className = 'step';
  const select = document.createElement('select');
  select.dataset.testid = 'effect-select';
  select.setAttribute('aria-label', `effect of step ${steps.length + 1}`);
  for (const id of Object.keys(effects)) select.append(new Option(id, id, false, id === effectId));
  const help = document.createElement('p');
  help.className = 'help';
  const params = document.createElement('div');
  const remove = document.createElement('button');
  remove.type = 'button';
  remove.textContent = 'Remove step';
  let controls: [string, { read: () => unknown }][] = [];
  const build = () => {
    const e = effects[select.value];
    help.textContent = e.description ?? '';
    params.replaceChildren();
    controls = Object.entries(e.parameter_specs as Record<string, Spec>).map(([k, s]) => {
      const c = control(k, s, e.parameters?.[k]);
      params.append(c.el);
      return [k, c] as [string, { read: () => unknown }];
    });
  };
  select.onchange = build;
  build();
  const entry = { li, read: () => ({ effect: select.value, parameters: Object.fromEntries(controls.map(([k, c]) => [k, c.read()])) }) };
  remove.onclick = () => {
    if (steps.length === 1) return;
    steps.splice(steps.indexOf(entry), 1);
    li.remove();
  };
  li.append(select, remove, help, params);
  steps.push(entry);
  $('steps').append(li);
}

async function process(): Promise<void> {
  await sessionReady;
  say('chain-error', '');
  if (!selectedFile) return say('chain-error', 'Upload a file first.');
  const on = ($('input-version') as HTMLSelectElement).value;
  const preset = $<HTMLSelectElement>('preset-select').value;
  const chain = preset ? presets[preset].chain : steps.map((s) => s.read());
  const body = { ...(on ? { job_id: on } : { file_id: selectedFile }), ...(preset ? { preset } : { chain }) };
  try {
    const job = await api('POST', `/api/audio/${session!.session_id}/process`, body);
    jobs.set(job.job_id, { ...job, file_id: selectedFile, chain, ...(preset ? { preset } : {}), created_at: new Date().toISOString() });
    currentJob = job.job_id;
    render();
  } catch (err) {
    say('chain-error', (err as Error).message);
  }
}

// ---- waveforms, A/B -----------------------------------------------------------------------------------------

/** The API's waveform JSON (audiowaveform v2) as wavesurfer's peaks: per channel, min/max pairs scaled to ±1. */
async function peaksOf(path: string): Promise<{ peaks: number[][]; duration: number }> {
  const res = await fetch(apiBase + path, { headers: { authorization: `Bearer ${session!.access_token}` } });
  if (!res.ok) throw new Error(`the waveform is not available (${res.status})`);
  const w = await res.json();
  const scale = w.bits === 8 ? 128 : 32768;
  const peaks = Array.from({ length: w.channels }, (_, c) => {
    const out: number[] = [];
    for (let i = 0; i < w.length; i++) out.push(w.data[(i * w.channels + c) * 2] / scale, w.data[(i * w.channels + c) * 2 + 1] / scale);
    return out;
  });
  return { peaks, duration: (w.length * w.samples_per_pixel) / w.sample_rate };
}

async function showWave(which: 'a' | 'b', key: string, path: string, audioUrl: string): Promise<void> {
  if (shown[which] === key) return;
  shown[which] = key;
  const audio = $<HTMLAudioElement>(`audio-${which}`);
  const { peaks, duration } = await peaksOf(path);
  if (shown[which] !== key) return;
  waves[which]?.destroy();
  audio.src = audioUrl;
  waves[which] = WaveSurfer.create({
    container: $(which === 'a' ? 'waveform-input' : 'waveform-output'),
    height: 96,
    waveColor: which === 'a' ? '#6b6bd6' : '#d66b3b',
    progressColor: which === 'a' ? '#20207a' : '#7a2a10',
    media: audio,
    peaks,
    duration,
    minPxPerSec: Number(($('zoom') as HTMLInputElement).value),
  });
}

async function inputUrl(fileId: string): Promise<string> {
  // The original is served through a short-lived link (5 minutes): fetched again well before it runs out.
  if (inputLink?.fileId === fileId && Date.now() - inputLink.at < 4 * 60_000) return inputLink.url;
  const d = await api('GET', `/api/audio/${session!.session_id}/files/${fileId}/download`);
  inputLink = { fileId, url: d.url, at: Date.now() };
  return d.url;
}

function play(which: 'a' | 'b'): void {
  const el = $<HTMLAudioElement>(`audio-${which}`);
  if (!el.src) return say('job-error', which === 'a' ? 'Select a ready file to hear it.' : 'Process the file to hear the result.');
  const from = active ? $<HTMLAudioElement>(`audio-${active}`) : null;
  if (from && from !== el) {
    // The same moment in the other version.
    el.currentTime = Math.min(from.currentTime, Number.isFinite(el.duration) ? el.duration : from.currentTime);
    from.pause();
  }
  active = which;
  void el.play().catch((err) => say('job-error', `Playback failed: ${(err as Error).message}`));
  say('now-playing', which === 'a' ? 'A (original)' : 'B (processed)');
}

function pause(): void {
  for (const k of ['a', 'b'] as const) $<HTMLAudioElement>(`audio-${k}`).pause();
}

// ---- render ---------------------------------------------------------------------------------------------------

const fmt = (v: unknown, unit: string) => (typeof v === 'number' && Number.isFinite(v) ? `${v.toFixed(1)} ${unit}` : 'not measurable');
const describeChain = (j: Json) => (j.preset ? `preset ${j.preset}` : (j.chain ?? []).map((s: Json) => s.effect).join(' → ') || j.effect || 'job');
/** What the steps with a target reached, in words: met, or missed and why. */
const describeReports = (j: Json) =>
  ((j.reports ?? []) as Json[])
    .map((r) => `${r.effect} (step ${r.step + 1}): ${r.reached === null ? 'nothing measurable' : `reached ${r.reached} ${r.unit}`}, target ${r.target} ${r.unit}${r.met ? '' : ` — missed: ${r.reason}`}`)
    .join('; ');

/** A preset replaces the chain editor: its steps are shown, and the job names the preset. */
function choosePreset(id: string): void {
  const p = presets[id];
  $('steps').hidden = !!p;
  $('add-step').hidden = !!p;
  say('preset-help', p ? `${p.description}. Steps: ${(p.chain as Json[]).map((s) => s.effect).join(' → ')}.` : '');
}

/** One entry of a list to pick from (files, versions, jobs): a button marked current; picking it re-renders. */
function choice(current: boolean, text: string | [string, string], pick: () => void): HTMLLIElement {
  const li = document.createElement('li');
  const b = document.createElement('button');
  b.type = 'button';
  b.setAttribute('aria-current', String(current));
  if (typeof text === 'string') b.textContent = text;
  else {
    const [main, aside] = text.map((t) => Object.assign(document.createElement('span'), { textContent: t }));
    aside.className = 'muted';
    b.append(main, aside);
  }
  b.onclick = () => {
    pick();
    render();
  };
  li.append(b);
  return li;
}

function render(): void {
  say('session-label', session ? `session ${session.session_id.slice(0, 12)}…` : 'no session');
  $('file-list').replaceChildren(
    ...[...files.values()].map((f) =>
      choice(f.file_id === selectedFile, [f.filename, f.status === 'pending' && f.progress ? `pending ${Math.round(f.progress.percent)} %` : f.status], () => {
        selectedFile = f.file_id;
        currentJob = [...jobs.values()].filter((j) => j.file_id === f.file_id).at(-1)?.job_id ?? null;
      }),
    ),
  );
  const file = selectedFile ? files.get(selectedFile) : undefined;
  say('file-name', file?.filename ?? 'none');
  say('file-status', file?.status ?? 'none');
  if (file?.status === 'rejected') say('chain-error', `${file.filename} was rejected: ${file.rejection?.message ?? ''} (${file.rejection?.code ?? ''})`);

  // Versions of the selected file: any may be worked on, or heard as B.
  const versions = [...jobs.values()].filter((j) => j.file_id === selectedFile).sort((a, b) => String(a.created_at).localeCompare(String(b.created_at)));
  const inputSel = $<HTMLSelectElement>('input-version');
  const keep = inputSel.value;
  inputSel.replaceChildren(new Option('the original upload', ''), ...versions.filter((j) => j.status === 'completed').map((j) => new Option(`${describeChain(j)} (${j.job_id.slice(0, 10)}…)`, j.job_id)));
  inputSel.value = [...inputSel.options].some((o) => o.value === keep) ? keep : '';
  $('versions').replaceChildren(
    ...versions.map((j) =>
      choice(j.job_id === currentJob, `${j.parent_job_id ? '↳ ' : ''}${describeChain(j)} — ${j.status}`, () => {
        currentJob = j.job_id;
        if (j.status === 'completed') inputSel.value = j.job_id; // the next chain goes on top of this version
      }),
    ),
  );

  // Every job of the session, newest first: choosing one selects its file and shows it as B.
  $('all-jobs').replaceChildren(
    ...[...jobs.values()]
      .sort((x, y) => String(y.created_at).localeCompare(String(x.created_at)))
      .map((j) =>
        choice(j.job_id === currentJob, `${files.get(j.file_id)?.filename ?? j.file_id}: ${describeChain(j)} — ${j.status}`, () => {
          selectedFile = j.file_id;
          currentJob = j.job_id;
        }),
      ),
  );

  const job = currentJob ? jobs.get(currentJob) : undefined;
  const bar = $<HTMLProgressElement>('job-progress');
  bar.value = job ? (job.status === 'completed' ? 100 : (job.progress?.percent ?? 0)) : 0;
  say('job-status', job?.status ?? 'none');
  say('job-phase', job?.status === 'processing' && job.progress ? job.progress.phase : '');
  say('job-report', job?.status === 'completed' ? describeReports(job) : '');
  say('job-error', job?.status === 'failed' ? `The job failed: ${job.error?.message ?? 'no reason given'} (${job.error?.code ?? ''})` : job?.status === 'expired' ? 'This version expired: its output was removed to keep the version limit.' : '');

  // A: the selected ready file; B: the current job's output.
  if (file?.status === 'ready' && file.visuals) {
    const f = file;
    void inputUrl(f.file_id)
      .then((url) => showWave('a', f.file_id, f.visuals.waveform_json, url))
      .catch((err) => say('job-error', (err as Error).message));
  }
  const a = file?.analysis ?? {};
  say('a-i', file?.analysis ? fmt(a.integrated_lufs, 'LUFS') : '–');
  say('a-lra', file?.analysis ? fmt(a.loudness_range_lu, 'LU') : '–');
  say('a-tp', file?.analysis ? fmt(a.true_peak_dbtp, 'dBTP') : '–');
  const download = $<HTMLAnchorElement>('download');
  if (job?.status === 'completed' && job.output) {
    const j = job;
    if (j.visuals) void showWave('b', j.job_id, j.visuals.waveform_json, j.output.url).catch((err) => say('job-error', (err as Error).message));
    download.href = j.output.url;
    download.setAttribute('aria-disabled', 'false');
    download.textContent = `Download the output (${j.output.format}, ${(j.output.size / 1024).toFixed(0)} kB)`;
    const l = j.output_loudness ?? {};
    say('b-i', fmt(l.integrated_lufs, 'LUFS'));
    say('b-lra', fmt(l.loudness_range_lu, 'LU'));
    say('b-tp', fmt(l.true_peak_dbtp, 'dBTP'));
  } else {
    download.removeAttribute('href');
    download.setAttribute('aria-disabled', 'true');
    for (const id of ['b-i', 'b-lra', 'b-tp']) say(id, '–');
  }
}

// ---- wiring -----------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const config = await (await fetch('studio/config.json')).json().catch(() => ({}));
  if (config.api_url) apiBase = String(config.api_url).replace(/\/+$/, '');
  [effects, presets] = await Promise.all([api('GET', '/api/effects').then((r) => r.effects), api('GET', '/api/presets').then((r) => r.presets)]);
  const presetSelect = $<HTMLSelectElement>('preset-select');
  for (const [id, p] of Object.entries(presets)) presetSelect.append(new Option(`${id} (${p.target.integrated_lufs} LUFS, ${p.target.true_peak_dbtp} dBTP)`, id));
  presetSelect.onchange = () => choosePreset(presetSelect.value);
  addStep();
  $('add-step').onclick = () => addStep();
  $('process').onclick = () => void process();
  $('new-session').onclick = () => void newSession().catch((err) => say('chain-error', (err as Error).message));
  const input = $<HTMLInputElement>('upload-input');
  input.onchange = () => {
    if (input.files?.length) void uploadAll([...input.files]).finally(() => (input.value = ''));
  };
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    if (e.dataTransfer?.files.length) void uploadAll(e.dataTransfer.files);
  });
  $('play-a').onclick = () => play('a');
  $('play-b').onclick = () => play('b');
  $('pause').onclick = pause;
  $('zoom').addEventListener('input', (e) => {
    const px = Number((e.target as HTMLInputElement).value);
    for (const w of [waves.a, waves.b]) w?.zoom(px);
  });
  document.addEventListener('keydown', (e) => {
    const t = e.target as HTMLElement;
    if (['INPUT', 'SELECT', 'TEXTAREA'].includes(t.tagName) && (t as HTMLInputElement).type !== 'range') return;
    if (e.key === 'x') play(active === 'a' ? 'b' : 'a');
    else if (e.key === ' ' && t.tagName !== 'BUTTON') {
      e.preventDefault();
      const el = active ? $<HTMLAudioElement>(`audio-${active}`) : null;
      if (el?.paused) play(active!);
      else pause();
    }
  });
  for (const k of ['a', 'b'] as const) {
    $<HTMLAudioElement>(`audio-${k}`).addEventListener('timeupdate', (e) => {
      if (active === k) say('position', `${(e.target as HTMLAudioElement).currentTime.toFixed(2)} s`);
    });
  }
  sessionReady = resume();
  await sessionReady;
}

main().catch((err) => say('chain-error', `The studio could not start: ${(err as Error).message}`));
