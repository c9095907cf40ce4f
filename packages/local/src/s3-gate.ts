import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { keepIdleConnections } from './keep-alive.ts';

type Refusal = { status: number; code: string; message: string };

/** SigV4: the HMAC-SHA256 of `stringToSign` under the signing key of the credential's day and region for S3. */
function signatureMatches(secret: string, date: string, region: string, stringToSign: string, given: string | undefined): boolean {
  const hmac = (key: Buffer | string, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
  const expected = Buffer.from(createHmac('sha256', signingKey).update(stringToSign).digest('hex'));
  const actual = Buffer.from(given ?? '');
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** RFC 3986 encoding, as SigV4's canonical query string wants it. */
const rfc3986 = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/** `20261201T101500Z` → epoch ms (NaN when malformed). */
const amzDateMs = (d: string) => {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(d);
  return m ? Date.UTC(+m[1], +m[2] - 1, +m[3], +m[4], +m[5], +m[6]) : Number.NaN;
};

/** How far a header-signed request's clock may be from ours (S3's RequestTimeTooSkewed bound). */
const MAX_SKEW_MS = 15 * 60 * 1000;

/**
 * S3's SigV4 check of a REST request, signed in the Authorization header or presigned in the query string: the
 * credential must be known, the scope S3's, the signature over the canonical request (method, path, query, the
 * signed headers, the declared payload hash) must match, the time must be current (header) or not yet expired
 * (query). CORS preflights are unsigned, as in S3. Returns null when S3 would accept the request.
 *
 * The payload itself is not hashed here: the signature covers the `x-amz-content-sha256` the client declared.
 */
export function checkSignedRequest(
  req: { method?: string; url?: string; headers: Record<string, string | string[] | undefined> },
  secrets: Readonly<Record<string, string>>,
  now = new Date(),
): Refusal | null {
  const method = req.method ?? 'GET';
  if (method === 'OPTIONS') return null;
  const deny = (message: string, code = 'AccessDenied', status = 403) => ({ status, code, message });
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const params: [string, string][] = [];
  try {
    for (const part of q < 0 ? [] : raw.slice(q + 1).split('&')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      params.push(eq < 0 ? [decodeURIComponent(part), ''] : [decodeURIComponent(part.slice(0, eq)), decodeURIComponent(part.slice(eq + 1))]);
    }
  } catch {
    return deny('The query string is not well-formed.', 'InvalidArgument', 400);
  }
  const query = (name: string) => params.find(([k]) => k === name)?.[1];
  const header = (name: string) => {
    const v = req.headers[name];
    return Array.isArray(v) ? v.join(',') : v;
  };

  let credential: string;
  let signedHeaders: string;
  let signature: string | undefined;
  let amzDate: string;
  let payloadHash: string;
  const authorization = header('authorization');
  if (authorization !== undefined && query('X-Amz-Algorithm') !== undefined) {
    return deny('Only one auth mechanism allowed.', 'InvalidArgument', 400);
  }
  if (authorization !== undefined) {
    const m = /^AWS4-HMAC-SHA256 +Credential=([^,\s]+), *SignedHeaders=([^,\s]+), *Signature=([0-9a-f]+)$/.exec(authorization.trim());
    if (!m) return deny('Only AWS4-HMAC-SHA256 Authorization headers are accepted.', 'InvalidArgument', 400);
    [, credential, signedHeaders, signature] = m;
    amzDate = header('x-amz-date') ?? '';
    payloadHash = header('x-amz-content-sha256') ?? '';
    if (!payloadHash) return deny('Missing required header for this request: x-amz-content-sha256', 'InvalidRequest', 400);
    const at = amzDateMs(amzDate);
    if (Number.isNaN(at)) return deny('AWS authentication requires a valid x-amz-date header.');
    if (Math.abs(now.getTime() - at) > MAX_SKEW_MS) return deny('The difference between the request time and the current time is too large.', 'RequestTimeTooSkewed');
  } else if (query('X-Amz-Algorithm') !== undefined) {
    if (query('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256') return deny('Only AWS4-HMAC-SHA256 signatures are accepted.', 'InvalidArgument', 400);
    credential = query('X-Amz-Credential') ?? '';
    signedHeaders = query('X-Amz-SignedHeaders') ?? '';
    signature = query('X-Amz-Signature');
    amzDate = query('X-Amz-Date') ?? '';
    payloadHash = query('X-Amz-Content-Sha256') ?? 'UNSIGNED-PAYLOAD';
    const at = amzDateMs(amzDate);
    const expires = Number(query('X-Amz-Expires'));
    if (Number.isNaN(at) || !Number.isInteger(expires) || expires < 1 || expires > 604800) {
      return deny('X-Amz-Date and X-Amz-Expires (1 to 604800 seconds) are required.', 'AuthorizationQueryParametersError', 400);
    }
    if (now.getTime() > at + expires * 1000) return deny('Request has expired');
  } else {
    return deny('Anonymous requests are not accepted: sign the request with SigV4 (Authorization header or presigned URL).');
  }

  const [accessKeyId, date, region, service, terminal] = credential.split('/');
  const secret = secrets[accessKeyId ?? ''];
  if (!secret) return deny('The AWS Access Key Id you provided does not exist in our records.', 'InvalidAccessKeyId');
  if (!date || !region || service !== 's3' || terminal !== 'aws4_request' || !amzDate.startsWith(date)) {
    return deny('The credential scope is not valid for S3.', 'AuthorizationHeaderMalformed', 400);
  }
  const names = signedHeaders.split(';');
  if (!names.includes('host')) return deny("SignedHeaders must include 'host'.", 'AccessDenied');
  const canonicalHeaders = names.map((n) => `${n}:${(header(n) ?? '').trim().replace(/ +/g, ' ')}\n`).join('');
  const canonicalQuery = params
    .filter(([k]) => k !== 'X-Amz-Signature')
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([a, x], [b, y]) => (a < b ? -1 : a > b ? 1 : x < y ? -1 : x > y ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const canonicalRequest = [method, path, canonicalQuery, canonicalHeaders, signedHeaders, payloadHash].join('\n');
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, `${date}/${region}/s3/aws4_request`, createHash('sha256').update(canonicalRequest).digest('hex')].join('\n');
  if (!signatureMatches(secret, date, region, stringToSign, signature)) {
    return deny('The request signature we calculated does not match the signature you provided.', 'SignatureDoesNotMatch');
  }
  return null;
}

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
): Refusal | null {
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
  if (!signatureMatches(secret, date, region, policyB64, fields.get('x-amz-signature'))) {
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

function s3Error(res: ServerResponse, e: Refusal) {
  // With CORS, as S3 answers a browser's refused form (so the page can show why).
  res.writeHead(e.status, { 'content-type': 'application/xml', 'access-control-allow-origin': '*' });
  res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${e.code}</Code><Message>${e.message.replace(/[<&]/g, (ch) => (ch === '<' ? '&lt;' : '&amp;'))}</Message></Error>`);
}

/** Where the gate sends what it lets through: the emulator's port, and its request handler when it runs in this process. */
export interface GateTarget {
  readonly host: string;
  readonly port: number;
  /** Serves a request that was let through without a second HTTP round trip (its body not yet read). */
  readonly handle?: (req: IncomingMessage, res: ServerResponse) => void;
}

function forward(req: IncomingMessage, res: ServerResponse, target: GateTarget, body?: Buffer) {
  if (target.handle && !body) return target.handle(req, res);
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
 * The S3 endpoint of the local stack: S3's authentication in front of the S3 emulator (which checks no SigV4
 * signature and accepts anonymous writes). A browser-upload form is read whole (bounded), its policy checked, and
 * forwarded unchanged; every other request must carry a valid SigV4 signature and is then streamed through.
 */
export async function startS3Gate(opts: {
  target: GateTarget;
  host: string;
  port: number;
  secrets: Readonly<Record<string, string>>;
  maxFormBytes: number;
}): Promise<{ server: Server; port: number }> {
  const server = createServer(async (req, res) => {
    const type = req.headers['content-type'] ?? '';
    const path = new URL(req.url ?? '/', 'http://local').pathname;
    const bucket = /^\/([^/]+)\/?$/.exec(path)?.[1];
    // S3 judges a policy's expiry when the POST arrives, not when its last byte does.
    const arrived = new Date();
    if (req.method !== 'POST' || !bucket || !type.toLowerCase().startsWith('multipart/form-data')) {
      const refusal = checkSignedRequest(req, opts.secrets);
      if (refusal) {
        // The body is not read; the connection cannot be reused after a refused upload.
        if (!req.complete && req.method !== 'GET' && req.method !== 'HEAD') res.setHeader('connection', 'close');
        return s3Error(res, refusal);
      }
      return forward(req, res, opts.target);
    }
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
    const refusal = checkPostPolicy(form, decodeURIComponent(bucket), opts.secrets, arrived);
    if (refusal) return s3Error(res, refusal);
    forward(req, res, opts.target, body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    keepIdleConnections(server);
    server.listen(opts.port, opts.host, () => resolve());
  });
  return { server, port: (server.address() as AddressInfo).port };
}
