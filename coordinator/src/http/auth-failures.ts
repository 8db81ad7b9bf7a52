import type { NextFunction, Request, Response } from 'express';
import { TwinfedError } from '@twinfed/shared';

/** Options of {@link authFailureLimiter}. */
export interface AuthFailureLimiterOptions {
  /** 401 answers one client address may get per window before it is refused (0: no limit). */
  maxFailures: number;
  windowMs: number;
  now: () => number;
  /** Called once when a key's failures reach the limit in a window (the audit trail records the burst). */
  onTrip?: (trip: { kind: 'address' | 'credential'; key: string; failures: number }) => void;
}

/**
 * Slows down guessing of tokens and signatures: counts the 401 answers each client address gets in a fixed window
 * and, over the limit, answers every request from that address `429 RATE_LIMITED` (with Retry-After) until the
 * window ends (liveness and readiness probes excepted). The address is `req.ip`: the TCP peer, or behind a trusted
 * reverse proxy (TWINFED_TRUST_PROXY) the client address it forwards. Only failures count, so hundreds of healthy sites behind one address (NAT, or the load test on
 * 127.0.0.1) are never slowed. Hand-written because express-rate-limit counts requests when they start (in flight),
 * which a busy shared address would exceed without a single failure. Memory: one entry per failing address, dropped
 * when its window ends.
 */
export function authFailureLimiter(opts: AuthFailureLimiterOptions) {
  const windows = new Map<string, { failures: number; resetAt: number }>();
  const prune = (now: number) => {
    if (windows.size < 10_000) return;
    for (const [ip, w] of windows) if (w.resetAt <= now) windows.delete(ip);
  };
  return (req: Request, res: Response, next: NextFunction) => {
    if (opts.maxFailures <= 0 || req.path === '/healthz' || req.path === '/readyz') return next(); // probes are never refused
    const ip = req.ip ?? req.socket.remoteAddress ?? 'unknown'; // the client address as `trust proxy` decides
    const now = opts.now();
    const w = windows.get(ip);
    if (w && w.resetAt <= now) windows.delete(ip);
    const current = windows.get(ip);
    if (current && current.failures >= opts.maxFailures) {
      res.setHeader('Retry-After', String(Math.max(1, Math.ceil((current.resetAt - now) / 1000))));
      req.resume();
      return next(new TwinfedError('RATE_LIMITED', 'Too many failed authentications from this address; retry later.'));
    }
    res.on('finish', () => {
      if (res.statusCode !== 401) return;
      const at = opts.now();
      prune(at);
      const entry = windows.get(ip);
      if (!entry || entry.resetAt <= at) windows.set(ip, { failures: 1, resetAt: at + opts.windowMs });
      else entry.failures++;
      const failures = windows.get(ip)?.failures ?? 0;
      if (failures === opts.maxFailures) opts.onTrip?.({ kind: 'address', key: ip, failures });
    });
    next();
  };
}
