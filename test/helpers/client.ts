/** A small HTTP client for the David API, as a user with curl or fetch would use it. */
export class ApiClient {
  constructor(readonly baseUrl: string) {}

  async call(method: string, path: string, opts: { token?: string; body?: unknown; raw?: string } = {}) {
    // A redirect (a waveform's route) is answered as it is: its status, its Location and its JSON body.
    const res = await fetch(this.baseUrl + path, {
      method,
      redirect: 'manual',
      headers: {
        ...(opts.body !== undefined || opts.raw !== undefined ? { 'content-type': 'application/json' } : {}),
        ...(opts.token ? { authorization: `Bearer ${opts.token}` } : {}),
      },
      body: opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body)),
    });
    const text = await res.text();
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    const json: any = text ? JSON.parse(text) : undefined;
    return { status: res.status, body: json, headers: res.headers };
  }

  async createSession(name = 'Test session') {
    const res = await this.call('POST', '/api/audio/session', { body: { name } });
    if (res.status !== 201) throw new Error(`create session: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as { session_id: string; access_token: string; name: string; created_at: string };
  }

  /** Ask for a presigned POST and upload with a real multipart/form-data request, as a browser form would. */
  async upload(session: { session_id: string; access_token: string }, filename: string, contentType: string, bytes: Uint8Array) {
    const res = await this.call('POST', '/api/audio/upload', {
      token: session.access_token,
      body: { session_id: session.session_id, filename, content_type: contentType, size: bytes.length },
    });
    if (res.status !== 201) throw new Error(`upload request: ${res.status} ${JSON.stringify(res.body)}`);
    const { file_id, upload } = res.body as { file_id: string; upload: { url: string; method: string; fields: Record<string, string> } };
    const form = new FormData();
    for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
    form.append('file', new Blob([bytes], { type: contentType }), filename);
    const post = await fetch(upload.url, { method: upload.method, body: form });
    if (post.status >= 300) throw new Error(`presigned POST: ${post.status} ${await post.text()}`);
    return { file_id, upload };
  }

  async waitFor<T>(fn: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const v = await fn();
      if (v !== undefined) return v;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`timed out waiting for ${what}`);
  }

  waitForFile(session: { session_id: string; access_token: string }, fileId: string) {
    return this.waitFor(async () => {
      const r = await this.call('GET', `/api/audio/${session.session_id}/files/${fileId}`, { token: session.access_token });
      return r.body?.status && r.body.status !== 'pending' ? r.body : undefined;
    }, `file ${fileId}`);
  }

  waitForJob(session: { session_id: string; access_token: string }, jobId: string) {
    return this.waitFor(async () => {
      const r = await this.call('GET', `/api/audio/${session.session_id}/jobs/${jobId}`, { token: session.access_token });
      return r.body?.status === 'completed' || r.body?.status === 'failed' ? r.body : undefined;
    }, `job ${jobId}`, 60_000);
  }
}
