import { isIP } from 'node:net';

/**
 * Where webhooks may go. In the cloud only public https destinations: a callback must never reach the private
 * network, the metadata service (169.254.169.254) or loopback (SSRF). A local stack also allows loopback (its
 * tests and a developer's own receiver), over http too.
 */
export interface CallbackPolicy {
  readonly allowLoopback: boolean;
}

/** Why an address may not receive webhooks, or null when it may. */
export function addressRefusal(address: string, policy: CallbackPolicy): string | null {
  const kind = classify(address);
  if (kind === 'public') return null;
  if (kind === 'loopback' && policy.allowLoopback) return null;
  return kind;
}

type AddressKind = 'public' | 'loopback' | 'private' | 'link-local' | 'reserved';

function classify(address: string): AddressKind {
  const family = isIP(address);
  if (family === 4) return classify4(address);
  if (family === 6) return classify6(address.toLowerCase());
  return 'reserved';
}

function classify4(a: string): AddressKind {
  const [p, q] = a.split('.').map(Number);
  if (p === 127) return 'loopback';
  if (p === 10 || (p === 172 && q >= 16 && q <= 31) || (p === 192 && q === 168) || (p === 100 && q >= 64 && q <= 127)) return 'private';
  if (p === 169 && q === 254) return 'link-local';
  // this network, IETF protocol assignments, documentation, benchmarking, multicast and reserved
  // (Judged by the first two octets: 192.0/16, 198.51/16 and 203.0/16 hold the documentation ranges.)
  if (p === 0 || (p === 192 && q === 0) || (p === 198 && (q === 18 || q === 19 || q === 51)) || (p === 203 && q === 0) || p >= 224) return 'reserved';
  return 'public';
}

function classify6(a: string): AddressKind {
  if (a === '::1') return 'loopback';
  if (a === '::') return 'reserved';
  // IPv4-mapped and -translated addresses are judged as the IPv4 address they carry.
  const mapped = /^::(?:ffff(?::0)?:)?(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (mapped) return classify4(mapped[1]);
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(a);
  if (hex) {
    const n = (parseInt(hex[1], 16) << 16) | parseInt(hex[2], 16);
    return classify4([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.'));
  }
  const first = parseInt(a.split(':')[0] || '0', 16);
  if ((first & 0xfe00) === 0xfc00) return 'private'; // unique local fc00::/7
  if ((first & 0xffc0) === 0xfe80) return 'link-local'; // fe80::/10
  if ((first & 0xff00) === 0xff00) return 'reserved'; // multicast
  if (a.startsWith('2001:db8') || a.startsWith('64:ff9b')) return 'reserved';
  return 'public';
}

/** A callback URL as given, checked before it is stored: the reason it is refused, or null. */
export function callbackUrlRefusal(raw: string, policy: CallbackPolicy): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'it is not an absolute URL';
  }
  if (url.username || url.password) return 'it carries credentials (put a secret in the path or verify our signature instead)';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const loopbackName = host === 'localhost' || host.endsWith('.localhost');
  const literal = isIP(host) !== 0;
  const loopback = loopbackName || (literal && classify(host) === 'loopback');
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && loopback && policy.allowLoopback)) {
    return policy.allowLoopback ? 'it must be https (or http on loopback)' : 'it must be https';
  }
  if (loopbackName && !policy.allowLoopback) return 'it names this machine (loopback)';
  if (literal) {
    const refusal = addressRefusal(host, policy);
    if (refusal) return `${host} is a ${refusal} address`;
  }
  return null;
}
