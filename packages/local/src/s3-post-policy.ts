import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * S3's browser-upload (POST policy) rules, which the S3 emulator does not enforce: the SigV4 signature of the
 * policy, its expiry, every condition (exact matches, `starts-with`, `content-length-range`), and no form field
 * that the policy does not name. Returns null when S3 would accept the form.
 */
export function checkPostPolicy(
  form: FormData,
  bucket: string,
  secrets: Readonly<Record<string, string>>,
  now = new Date(),
): { status: number; code: string; message: string } | null {
  const fields = new Map<string, string>();
  let fileSize: number | undefined;
  for (const [name, value] of form.entries()) {
    if (name.toLowerCase() === 'file') fileSize = typeof value === 'string' ? Buffer.byteLength(value) : value.size;
    else if (typeof value === 'string') fields.set(name.toLowerCase(), value);
  }
  const deny = (message: string, code = 'AccessDenied', status = 403) => ({ status, code, message });
  if (fileSize === undefined) return deny('POST requires exactly one file upload per request.', 'InvalidArgument', 400);
  const policyB64 = fields.get('policy');
  if (!policyB64) return deny("Bucket POST must contain a field named 'Policy'.");

  // The signature: HMAC-SHA256 of the base64 policy with the SigV4 signing key of the credential's scope.
  if (fields.get('x-amz-algorithm') !== 'AWS4-HMAC-SHA256') return deny('Only AWS4-HMAC-SHA256 signatures are accepted.', 'InvalidArgument', 400);
  const [accessKeyId, date, region, service, terminal] = (fields.get('x-amz-credential') ?? '').split('/');
  const secret = secrets[accessKeyId ?? ''];
  if (!secret || !date || !region || service !== 's3' || terminal !== 'aws4_request') return deny('The AWS access key ID or credential scope is not valid.', 'InvalidAccessKeyId');
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', signingKey).update(policyB64).digest('hex'));
  const given = Buffer.from(fields.get('x-amz-signature') ?? '');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return deny('The request signature we calculated does not match the signature you provided.', 'SignatureDoesNotMatch');
  }

  let policy: { expiration?: string; conditions?: unknown[] };
  try {
    policy = JSON.parse(Buffer.from(policyB64, 'base64').toString('utf8'));
  } catch {
    return deny('Invalid Policy: Invalid JSON.', 'InvalidPolicyDocument', 400);
  }
  const expires = Date.parse(policy.expiration ?? '');
  if (Number.isNaN(expires)) return deny('Invalid Policy: Policy missing expiration.', 'InvalidPolicyDocument', 400);
  if (now.getTime() > expires) return deny('Invalid according to Policy: Policy expired.');

  const valueOf = (name: string) => (name === 'bucket' ? bucket : fields.get(name));
  const named = new Set<string>(['policy', 'x-amz-signature', 'file']);
  for (const c of policy.conditions ?? []) {
    const failed = deny(`Invalid according to Policy: Policy Condition failed: ${JSON.stringify(c)}`);
    if (Array.isArray(c) && c[0] === 'content-length-range') {
      const [, min, max] = c as [string, number, number];
      if (fileSize < min) return deny('Your proposed upload is smaller than the minimum allowed size', 'EntityTooSmall', 400);
      if (fileSize > max) return deny('Your proposed upload exceeds the maximum allowed size', 'EntityTooLarge', 400);
      continue;
    }
    let op: string;
    let name: string;
    let expect: string;
    if (Array.isArray(c)) [op, name, expect] = [String(c[0]).toLowerCase(), String(c[1]).replace(/^\$/, '').toLowerCase(), String(c[2])];
    else if (c && typeof c === 'object' && Object.keys(c).length === 1) [op, name, expect] = ['eq', Object.keys(c)[0].toLowerCase(), String(Object.values(c)[0])];
    else return deny(`Invalid Policy: Invalid condition ${JSON.stringify(c)}.`, 'InvalidPolicyDocument', 400);
    named.add(name);
    const actual = valueOf(name);
    if (actual === undefined) return failed;
    if (op === 'eq' && actual !== expect) return failed;
    if (op === 'starts-with' && !actual.startsWith(expect)) return failed;
    if (op !== 'eq' && op !== 'starts-with') return deny(`Invalid Policy: unknown operation ${op}.`, 'InvalidPolicyDocument', 400);
  }
  for (const name of fields.keys()) {
    if (!named.has(name) && !name.startsWith('x-ignore-')) return deny(`Invalid according to Policy: Extra input fields: ${name}`);
  }
  return null;
}

function s3Error(res: ServerResponse, e: { status: number; code: string; message: string }) {
  // With CORS, as S3 answers a browser's refused form (so the page can show why).
  res.writeHead(e.status, { 'content-type': 'application/xml', 'access-control-allow-origin': '*' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${e.message.replace(/[<&]/g, (ch) => (ch === '<' ? '&lt;' : '&amp;'))}</Message></Error>`);
}

function forward(req: IncomingMessage, res: ServerResponse, target: { host: string; port: number }, body?: Buffer) {
  const headers = { ...req.headers, ...(body ? { 'content-length': String(body.length) } : {}) };
  const up = httpRequest({ host: target.host, port: target.port, method: req.method, path: req.url, headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', () => {
    if (!res.headersSent) s3Error(res, { status: 502, code: 'ServiceUnavailable', message: 'the S3 emulator is not answering' });
    else res.destroy();
  });
  if (body) up.end(body);
  else req.pipe(up);
}

/**
 * The S3 endpoint of the local stack: S3's POST-policy checks in front of the S3 emulator, everything else passed
 * through as it is. A browser-upload form is read whole (bounded), checked, and forwarded unchanged.
 */
export async function startPostPolicyGate(opts: {
  target: { host: string; port: number };
  host: string;
  port: number;
  secrets: Readonly<Record<string, string>>;
  maxFormBytes: number;
}): Promise<{ server: Server; port: number }> {
  const server = createServer(async (req, res) => {
    const type = req.headers['content-type'] ?? '';
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const bucket = /^\/([^/]+)\/?$/.exec(path)?.[1];
    if (req.method !== 'POST' || !bucket || !type.toLowerCase().startsWith('multipart/form-data')) return forward(req, res, opts.target);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req) {
      size += (chunk as Buffer).length;
      if (size > opts.maxFormBytes) {
        res.setHeader('connection', 'close');
        return s3Error(res, { status: 400, code: 'EntityTooLarge', message: 'Your proposed upload exceeds the maximum allowed size' });
      }
      chunks.push(chunk as Buffer);
    }
    const body = Buffer.concat(chunks);
    let form: FormData;
    try {
      form = await new Request('http://local/', { method: 'POST', headers: { 'content-type': type }, body }).formData();
    } catch {
      return s3Error(res, { status: 400, code: 'MalformedPOSTRequest', message: 'The body of your POST request is not well-formed multipart/form-data.' });
    }
    const refusal = checkPostPolicy(form, decodeURIComponent(bucket), opts.secrets);
    if (refusal) return s3Error(res, refusal);
    forward(req, res, opts.target, body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
