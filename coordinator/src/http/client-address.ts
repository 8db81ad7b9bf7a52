import type { IncomingMessage } from 'node:http';
import type { Express, Request } from 'express';

/**
 * The client address of a raw Node request (e.g. the socket.io handshake, which never passes through express)
 * exactly as the express app computes `req.ip`: the TCP peer, or behind a trusted reverse proxy (`trust proxy`,
 * TWINFED_TRUST_PROXY) the client address it forwards. One rule for HTTP and sockets, kept by express.
 */
export function clientAddress(app: Express, req: IncomingMessage): string {
  const view = Object.create(app.request as object, { headers: { value: req.headers }, socket: { value: req.socket } }) as Request;
  return view.ip ?? req.socket.remoteAddress ?? 'unknown';
}
