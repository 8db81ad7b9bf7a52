import type { IncomingMessage } from 'node:http';
import type { Express, Request } from 'express';
import ipaddr from 'ipaddr.js';

/**
 * The client address of a raw Node request (e.g. the socket.io handshake, which never passes through express)
 * exactly as the express app computes `req.ip`: the TCP peer, or behind a trusted reverse proxy (`trust proxy`,
 * TWINFED_TRUST_PROXY) the client address it forwards. One rule for HTTP and sockets, kept by express.
 */
export function clientAddress(app: Express, req: IncomingMessage): string {
  const view = Object.create(app.request as object, {
    headers: { value: req.headers },
    socket: { value: req.socket },
  }) as Request;
  return view.ip ?? req.socket.remoteAddress ?? 'unknown';
}

/**
 * The key a client address is counted under (failure limiter, admission caps, anonymous sockets): IPv4 as is,
 * IPv4-mapped IPv6 as the IPv4 address, IPv6 by its /64 (one subscriber's allocation, so rotating the interface id
 * does not buy new tries); anything that is not an address, unchanged.
 */
export function addressKey(ip: string | undefined): string {
  if (!ip || !ipaddr.isValid(ip)) return ip ?? 'unknown';
  const parsed = ipaddr.process(ip); // IPv4-mapped IPv6 → IPv4
  if (parsed.kind() === 'ipv4') return parsed.toString();
  return `${(parsed as ipaddr.IPv6).parts
    .slice(0, 4)
    .map((p) => p.toString(16))
    .join(':')}::/64`;
}
