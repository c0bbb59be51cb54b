// IP addresses and CIDR ranges, IPv4 and IPv6 (IPv4-mapped IPv6 addresses match IPv4 rules).
import net from 'node:net';

/** An address as 16 bytes (IPv4 as IPv4-mapped IPv6), or null when it is not an IP address. */
export function parseIp(text: string): Uint8Array | null {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  const kind = net.isIP(s);
  if (kind === 4) {
    const out = new Uint8Array(16);
    out[10] = 0xff; out[11] = 0xff;
    s.split('.').forEach((p, i) => { out[12 + i] = Number(p); });
    return out;
  }
  if (kind !== 6) return null;
  let head = s;
  let tailV4: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tailV4 = s.slice(lastColon + 1).split('.').map(Number);
    head = s.slice(0, lastColon + 1) + '0:0';
  }
  const [l, r] = head.includes('::') ? head.split('::') : [head, undefined];
  const left = l === '' ? [] : l.split(':');
  const right = r === undefined || r === '' ? [] : r.split(':');
  const groups = r === undefined ? left : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  if (groups.length !== 8) return null;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => { const v = parseInt(g, 16); out[2 * i] = v >> 8; out[2 * i + 1] = v & 0xff; });
  if (tailV4.length === 4) tailV4.forEach((v, i) => { out[12 + i] = v; });
  return out;
}

export interface Cidr { bytes: Uint8Array; bits: number }

/** A rule: an address ('10.0.0.1', '::1') or a range ('10.0.0.0/8', 'fd00::/8'). Throws on a malformed rule. */
export function parseCidr(rule: string): Cidr {
  const slash = rule.indexOf('/');
  const addr = slash < 0 ? rule : rule.slice(0, slash);
  const bytes = parseIp(addr);
  if (bytes === null) throw new TypeError(`${JSON.stringify(rule)} is not an IP address or CIDR range (e.g. '10.0.0.1', '10.0.0.0/8', 'fd00::/8')`);
  const v4 = net.isIP(addr.trim()) === 4;
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const t = rule.slice(slash + 1);
    if (!/^\d{1,3}$/.test(t) || Number(t) > max) throw new TypeError(`${JSON.stringify(rule)}: the prefix length must be 0–${max}`);
    bits = Number(t);
  }
  return { bytes, bits: v4 ? bits + 96 : bits };
}

/** Whether the address (16 bytes) is inside the range. */
export function cidrContains(c: Cidr, ip: Uint8Array): boolean {
  let bits = c.bits;
  for (let i = 0; i < 16 && bits > 0; i++, bits -= 8) {
    const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
    if ((c.bytes[i] & mask) !== (ip[i] & mask)) return false;
  }
  return true;
}

/** Anything with a membership test for addresses (AddressList, TrustedPeers). */
export interface AddressSet {
  has(address: string): boolean;
}

/** A set of trusted addresses and ranges. */
export class AddressList implements AddressSet {
  private readonly rules: Cidr[];
  constructor(rules: readonly string[]) {
    this.rules = rules.map(parseCidr);
  }
  has(address: string): boolean {
    const ip = parseIp(address);
    return ip !== null && this.rules.some((r) => cidrContains(r, ip));
  }
}

/**
 * The peers a server believes (forwarded headers, the PROXY protocol): addresses, CIDR
 * ranges, 'unix' (connections on Unix sockets, whose REMOTE_ADDR is '') and '*' (anyone).
 * Built once; answers for a peer address are remembered (a server sees few proxies).
 */
export class TrustedPeers implements AddressSet {
  readonly any: boolean;
  readonly unix: boolean;
  private readonly list: AddressList;
  private readonly known = new Map<string, boolean>();
  constructor(rules: readonly string[]) {
    const own = rules.map((r) => r.trim()).filter((r) => r !== '');
    this.any = own.includes('*');
    this.unix = this.any || own.includes('unix');
    this.list = new AddressList(own.filter((r) => r !== '*' && r !== 'unix'));
  }
  /** Whether the connection's peer (REMOTE_ADDR; '' on a Unix socket) is trusted. */
  trusts(peer: string): boolean {
    if (this.any) return true;
    if (peer === '') return this.unix;
    return this.has(peer);
  }
  /** Whether an address (a forwarded hop) is trusted. */
  has(address: string): boolean {
    if (this.any) return true;
    let v = this.known.get(address);
    if (v === undefined) {
      v = this.list.has(address);
      if (this.known.size < 4096) this.known.set(address, v);
    }
    return v;
  }
}

/** What is wrong with an allow list (addresses, CIDR ranges, '*', and 'unix' when unixAllowed), or undefined. */
export function allowListProblem(where: string, rules: readonly string[], unixAllowed: boolean): string | undefined {
  for (const r of rules) {
    const t = r.trim();
    if (t === '*' || (unixAllowed && t === 'unix')) continue;
    try {
      parseCidr(t);
    } catch (e) {
      return `${where}: ${(e as Error).message}${unixAllowed ? ", 'unix' or '*'" : " or '*'"}`;
    }
  }
  return undefined;
}
