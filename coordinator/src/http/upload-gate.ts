import type { NextFunction, Request, Response } from 'express';
import { TwinfedError } from '@twinfed/shared';
import type { CoordinatorMetrics } from '../metrics/registry';

/** Options of {@link UploadGate}. */
interface UploadGateOptions {
  /** Uploads verified and decrypted at once (the engine's verification slots). */
  concurrency: number;
  /** Uploads admitted beyond those, waiting (their bodies are held in memory). */
  queue: number;
  /** Declared body bytes of the uploads in the building, checked when one more would wait beyond `concurrency`. */
  queueBytes: number;
  /** What an upload without a valid Content-Length is charged (the route's body bound). */
  maxUploadBytes: number;
  metrics?: CoordinatorMetrics;
  now?: () => number;
}

/**
 * Admission control of the upload route, after the signed headers are verified and before the body is read (so only
 * authenticated uploads take a slot; the refused one's connection is closed, not drained): at most `concurrency + queue` uploads
 * in the building (reading, authenticating, waiting for a verification slot, verifying, storing), and beyond the first
 * `concurrency` only while the declared bodies in the building stay within `queueBytes` (memory is what the queue
 * costs: a thousand sites' small updates wait together, a few large ones fill it). Beyond that the coordinator answers
 * `503 OVERLOADED` with a `Retry-After` estimated from recent upload times, which the site client honours (with
 * jitter), instead of queueing without bound.
 */
export class UploadGate {
  private active = 0;
  private bytes = 0;
  private meanMs = 50;
  private readonly now: () => number;

  constructor(private readonly options: UploadGateOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Uploads admitted and not yet answered. */
  get inFlight(): number {
    return this.active;
  }

  /** Largest number of uploads admitted at once. */
  get capacity(): number {
    return this.options.concurrency + this.options.queue;
  }

  /**
   * Seconds a refused upload should wait, 1–30 s: the recent time an admitted upload spent in the building
   * (queueing included), which by Little's law is about how long the uploads now admitted need to clear.
   */
  retryAfterSeconds(): number {
    return Math.min(30, Math.max(1, Math.ceil(this.meanMs / 1000)));
  }

  /** The express middleware. */
  middleware() {
    return (req: Request, res: Response, next: NextFunction): void => {
      const declared = Number(req.headers['content-length']);
      const charge =
        Number.isSafeInteger(declared) && declared >= 0 && declared <= this.options.maxUploadBytes
          ? declared
          : this.options.maxUploadBytes;
      const queued = this.active >= this.options.concurrency;
      if (this.active >= this.capacity || (queued && this.bytes + charge > this.options.queueBytes)) {
        this.options.metrics?.upload('overloaded');
        res.setHeader('Retry-After', String(this.retryAfterSeconds()));
        return next(
          new TwinfedError('OVERLOADED', 'Too many uploads are being verified; retry after the time in Retry-After.'),
        );
      }
      this.active++;
      this.bytes += charge;
      const started = this.now();
      const timer = this.options.metrics?.uploadSeconds.startTimer();
      res.once('close', () => {
        this.active--;
        this.bytes -= charge;
        this.meanMs = 0.8 * this.meanMs + 0.2 * Math.max(1, this.now() - started);
        timer?.();
      });
      next();
    };
  }
}
