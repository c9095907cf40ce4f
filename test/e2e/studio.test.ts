import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeWithFfmpeg } from '../helpers/audio.ts';
import { useLocalStack } from '../helpers/stack.ts';

const ctx = useLocalStack('studio');
/** Screenshots of each state, for a person to look at (git-ignored). */
const SHOTS = resolve(import.meta.dirname, '../../test-results/studio');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
let browser: Browser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
});
afterAll(async () => {
  await browser?.close();
});

/** A real encoder's file: 8 s of a chord with a moving envelope and some noise, as MP3 (ffmpeg, libmp3lame). */
function take(dir: string): string {
  const path = join(dir, 'take.mp3');
  execFileSync('ffmpeg', [
    '-v', 'error', '-y', '-f', 'lavfi',
    '-i', "aevalsrc='(0.3*sin(2*PI*220*t)+0.2*sin(2*PI*277*t)+0.15*sin(2*PI*330*t))*(0.6+0.4*sin(2*PI*0.5*t))+0.02*(random(0)-0.5)|(0.3*sin(2*PI*220*t)+0.2*sin(2*PI*330*t))*(0.6+0.4*cos(2*PI*0.5*t))':s=44100:d=8",
    '-c:a', 'libmp3lame', '-b:a', '160k', path,
  ]);
  return path;
}

const shot = (page: Page, name: string) => page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
const storedSession = (page: Page) => page.evaluate(() => JSON.parse(localStorage.getItem('david.studio.session') ?? 'null')?.session_id as string | undefined);
/** Whether any pixel of the canvases wavesurfer drew (in its open shadow root) under a hook is painted. */
const painted = (page: Page, testid: string) =>
  page.evaluate((id) => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- runs in the page (the test's types have no DOM)
    const host = (globalThis as any).document.querySelector(`[data-testid="${id}"] > div`);
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const canvases = [...(host?.shadowRoot?.querySelectorAll('canvas') ?? [])] as any[];
    let lit = 0;
    for (const c of canvases) {
      if (!c.width || !c.height) continue;
      const px = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
      for (let i = 3; i < px.length; i += 4) if (px[i] > 0) lit++;
    }
    return { canvases: canvases.length, lit };
  }, testid);
/** A property of one of the page's <audio> elements (A: original, B: processed). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- runs in the page
const audio = <K extends 'currentTime' | 'paused'>(page: Page, which: 'a' | 'b', key: K) => page.evaluate(([w, k]) => (globalThis as any).document.getElementById(`audio-${w}`)[k], [which, key] as const);
const currentTime = (page: Page, which: 'a' | 'b') => audio(page, which, 'currentTime') as Promise<number>;

/** A new browser context on the studio (so a new session), collecting page and console errors. */
async function openStudio() {
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  await page.goto(`${ctx.stack.apiUrl}/`);
  return { page, errors };
}

describe('the studio, in Chromium', () => {
  it('uploads a file, runs a two-step chain live, draws both waveforms, plays A then B from the same moment, downloads, and keeps the session over a reload', async () => {
    const { page, errors } = await openStudio();
    // A new session on the first visit, kept in the browser.
    await expect.poll(() => storedSession(page), { timeout: 10_000 }).toMatch(/^ses_[0-9a-f]{32}$/);
    const sessionId = (await storedSession(page))!;
    await shot(page, '1-new-session');

    await page.getByTestId('upload-input').setInputFiles(take(ctx.dir));
    await expect.poll(() => page.getByTestId('file-status').textContent(), { timeout: 30_000 }).toBe('ready');
    await expect(page.getByTestId('file-list').textContent()).resolves.toContain('take.mp3');
    await expect.poll(async () => (await painted(page, 'waveform-input')).lit, { timeout: 10_000 }).toBeGreaterThan(100);
    await shot(page, '2-file-ready');

    // Two steps: gain, then reverb (the catalogue's defaults, as the page generated them).
    await page.getByTestId('effect-select').first().selectOption('gain');
    await page.getByTestId('add-step').click();
    expect(await page.getByTestId('effect-select').count()).toBe(2);
    await page.getByTestId('effect-select').last().selectOption('reverb');
    // The progress bar, sampled while the job runs: it only rises, and ends at 100.
    const seen: number[] = [];
    const sampling = setInterval(() => void page.getByTestId('job-progress').evaluate((e) => (e as unknown as { value: number }).value).then((v) => seen.push(v), () => undefined), 50);
    await page.getByTestId('process').click();
    await expect.poll(() => page.getByTestId('job-status').textContent(), { timeout: 60_000 }).toBe('completed');
    await expect.poll(() => page.getByTestId('job-progress').evaluate((e) => (e as unknown as { value: number }).value)).toBe(100);
    // The session's jobs are listed, with their file and chain.
    expect(await page.locator('#all-jobs').textContent()).toBe('take.mp3: gain → reverb — completed');
    clearInterval(sampling);
    expect(seen.every((v, i) => i === 0 || v >= seen[i - 1]), seen.join(' ')).toBe(true);
    await expect.poll(async () => (await painted(page, 'waveform-output')).lit, { timeout: 10_000 }).toBeGreaterThan(100);
    await shot(page, '3-job-completed');

    // A, then B at the same moment: the time runs on across the switch.
    await page.getByTestId('play-a').click();
    await expect.poll(() => currentTime(page, 'a'), { timeout: 10_000 }).toBeGreaterThan(0.5);
    await page.getByTestId('play-b').click();
    const a = await currentTime(page, 'a');
    const b0 = await currentTime(page, 'b');
    expect(b0).toBeGreaterThanOrEqual(a - 0.05);
    await expect.poll(() => currentTime(page, 'b'), { timeout: 10_000 }).toBeGreaterThan(b0 + 0.4);
    expect(await audio(page, 'a', 'paused')).toBe(true);
    // The key switches back to A, again from where B was.
    const b1 = await currentTime(page, 'b');
    await page.keyboard.press('x');
    await expect.poll(() => currentTime(page, 'a'), { timeout: 5_000 }).toBeGreaterThan(b1);
    await page.getByRole('button', { name: 'Pause' }).click();
    await shot(page, '4-listening');

    // The download link is the output: it decodes, and is longer than the input by the reverb's tail.
    const href = await page.getByTestId('download').getAttribute('href');
    const res = await fetch(href!);
    expect(res.status).toBe(200);
    const out = join(ctx.dir, 'downloaded.wav');
    writeFileSync(out, Buffer.from(await res.arrayBuffer()));
    const decoded = await decodeWithFfmpeg(out);
    expect(decoded.channels).toHaveLength(2);
    expect(decoded.channels[0].length / decoded.sampleRate).toBeGreaterThan(8);

    // A reload finds the session, its file and its job again.
    await page.reload();
    await expect.poll(() => page.getByTestId('file-status').textContent(), { timeout: 10_000 }).toBe('ready');
    expect(await storedSession(page)).toBe(sessionId);
    await expect.poll(() => page.getByTestId('job-status').textContent()).toBe('completed');
    await expect.poll(async () => (await painted(page, 'waveform-output')).lit, { timeout: 10_000 }).toBeGreaterThan(100);

    // At 360 px nothing needs sideways scrolling.
    await page.setViewportSize({ width: 360, height: 800 });
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- runs in the page
    expect(await page.evaluate(() => (globalThis as any).document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
    await page.waitForTimeout(500); // wavesurfer redraws after a resize
    await shot(page, '5-narrow-360px');

    // "New session" starts over.
    await page.getByTestId('new-session').click();
    await expect.poll(() => storedSession(page)).not.toBe(sessionId);
    await expect.poll(() => page.getByTestId('file-status').textContent()).toBe('none');
    expect(errors).toEqual([]);
    await page.close();
  }, 180_000);

  it('runs a preset instead of a chain and says what loudness it reached', async () => {
    const { page, errors } = await openStudio();
    await expect.poll(() => storedSession(page), { timeout: 10_000 }).toMatch(/^ses_/);
    await page.getByTestId('upload-input').setInputFiles(take(ctx.dir));
    await expect.poll(() => page.getByTestId('file-status').textContent(), { timeout: 30_000 }).toBe('ready');
    // The presets come from the API; choosing one hides the chain editor and shows the preset's steps.
    const options = await page.getByTestId('preset-select').locator('option').allTextContents();
    expect(options).toContain('podcast (-16 LUFS, -1 dBTP)');
    await page.getByTestId('preset-select').selectOption('podcast');
    expect(await page.locator('#steps').isHidden()).toBe(true);
    expect(await page.locator('#preset-help').textContent()).toContain('Steps: normalize.');
    await page.getByTestId('process').click();
    await expect.poll(() => page.getByTestId('job-status').textContent(), { timeout: 60_000 }).toBe('completed');
    await expect.poll(() => page.getByTestId('job-report').textContent()).toMatch(/^normalize \(step 1\): reached -?[\d.]+ LUFS, target -16 LUFS$/);
    const reached = Number(/reached (-?[\d.]+)/.exec((await page.getByTestId('job-report').textContent())!)![1]);
    expect(Math.abs(reached + 16)).toBeLessThanOrEqual(0.1); // met: no "missed" and within the tolerance
    expect(await page.locator('#all-jobs').textContent()).toBe('take.mp3: preset podcast — completed');
    await shot(page, '6-preset');
    // Back to "none": the chain editor returns.
    await page.getByTestId('preset-select').selectOption('');
    expect(await page.locator('#steps').isVisible()).toBe(true);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);
});
