import type { ModelVersionMeta } from '@twinfed/shared';

/** What the site remembers of the last round it trained in. */
interface LastRound {
  /** The version it trained from (x_prev) and the version id. */
  baseVersionId: string;
  base: Float32Array;
  /** The raw weights it uploaded (y_i). */
  trained: Float32Array;
}

/**
 * A site's SCAFFOLD control state, FLamby's efficient variant as the coordinator runs it (no server control
 * variate is sent). The site keeps `d = c_i − c` and, when the new global model x was aggregated from the round it
 * took part in, updates `d ← d + (x − (s·y_i + (1 − s)·x_prev)) / (s · lr · K)` (s the server learning rate,
 * lr the client learning rate, K the local steps). With the server step x = x_prev + s·mean(y_j − x_prev) this is
 * option II of Karimireddy et al. 2020: `d ← d + (mean_j y_j − y_i) / (lr·K)`. Local training then adds
 * `−⟨w, d⟩` to the loss, i.e. the gradient becomes g − c_i + c.
 */
export class ScaffoldState {
  private d: Float32Array | undefined;
  private last: LastRound | undefined;

  /**
   * The correction to train this round with, starting from `base` (the verified global model and its metadata).
   * When `base` is not the aggregate of the round this site last trained in (a round failed, the site missed
   * one, or the process restarted), the control state is carried over unchanged.
   */
  correctionFor(opts: {
    meta: ModelVersionMeta;
    base: Float32Array;
    serverLr: number;
    clientLr: number;
    localSteps: number;
  }): Float32Array {
    const { meta, base, serverLr, clientLr, localSteps } = opts;
    const d = this.d ?? new Float32Array(base.length);
    const last = this.last;
    if (last && meta.parentVersionId === last.baseVersionId && last.trained.length === base.length) {
      const scale = 1 / (serverLr * clientLr * localSteps);
      for (let k = 0; k < d.length; k++) {
        const scaledPrev = serverLr * last.trained[k]! + (1 - serverLr) * last.base[k]!;
        d[k] = d[k]! + (base[k]! - scaledPrev) * scale;
      }
    }
    this.last = undefined;
    this.d = d;
    return d;
  }

  /** Records the round just trained: the version it started from and the weights uploaded. */
  remember(opts: { baseVersionId: string; base: Float32Array; trained: Float32Array }): void {
    this.last = { baseVersionId: opts.baseVersionId, base: opts.base.slice(), trained: opts.trained.slice() };
  }
}
