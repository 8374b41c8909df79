/**
 * UDP addresses: `udp://HOST:PORT` with an IPv4 literal (`udp://127.0.0.1:7001`) or a bracketed
 * IPv6 literal (`udp://[::1]:7001`). Host names are not accepted: the backend never does DNS, so an
 * address means exactly one socket address and the Transport Manager's fail-over stays predictable.
 * @module
 */

/** A parsed UDP address. */
export interface UdpSocketAddress {
  /** IP literal without brackets, e.g. `127.0.0.1` or `::1`. */
  host: string;
  /** Port, 1..65535. */
  port: number;
  /** Address family of `host`. */
  family: 4 | 6;
}

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const IPV6 = /^[0-9a-fA-F:.]+$/;

/** Address family of an IP literal, or `undefined` when `host` is not one. */
export function ipFamily(host: string): 4 | 6 | undefined {
  if (IPV4.test(host)) return 4;
  if (host.includes(":") && IPV6.test(host)) return 6;
  return undefined;
}

/**
 * Parses `udp://HOST:PORT`.
 * @throws {RangeError} when `address` is not a UDP address with an IP literal and a port 1..65535.
 */
export function parseUdpAddress(address: string): UdpSocketAddress {
  const parsed = tryParseUdpAddress(address);
  if (parsed === undefined) {
    throw new RangeError(`not a UDP address: "${address}" (expected udp://IPV4:PORT or udp://[IPV6]:PORT)`);
  }
  return parsed;
}

/** Like {@link parseUdpAddress}, but returns `undefined` instead of throwing. */
export function tryParseUdpAddress(address: string): UdpSocketAddress | undefined {
  if (!address.startsWith("udp://")) return undefined;
  const rest = address.slice(6);
  let host: string;
  let portText: string;
  if (rest.startsWith("[")) {
    const close = rest.indexOf("]");
    if (close < 0 || rest[close + 1] !== ":") return undefined;
    host = rest.slice(1, close);
    portText = rest.slice(close + 2);
  } else {
    const colon = rest.lastIndexOf(":");
    if (colon < 0) return undefined;
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
  }
  const family = ipFamily(host);
  if (family === undefined || (family === 6 && rest[0] !== "[")) return undefined;
  if (!/^\d{1,5}$/.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65_535) return undefined;
  return { host, port, family };
}

/** Formats a socket address as `udp://127.0.0.1:7001` or `udp://[::1]:7001`. */
export function formatUdpAddress(host: string, port: number): string {
  return host.includes(":") ? `udp://[${host}]:${port}` : `udp://${host}:${port}`;
}
