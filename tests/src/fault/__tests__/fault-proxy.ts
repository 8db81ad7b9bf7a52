import net from 'node:net';
import { SeededRandom } from '@twinfed/shared';

/** What the proxy does to traffic; every field can be changed while it runs. */
export interface Faults {
  /** Added delay per chunk, in ms (uniform in [latencyMs, latencyMs + jitterMs]). */
  latencyMs: number;
  jitterMs: number;
  /** Share of new connections closed at once, before any byte is forwarded. */
  dropNewRate: number;
  /** Per connection, the chance to be cut (both sides destroyed) at a random moment in its first `cutWithinMs`. */
  cutRate: number;
  cutWithinMs: number;
  /** Refuse WebSocket upgrades (socket.io cannot connect; sites must poll over HTTP). */
  blockWebsocket: boolean;
  /** Cut this many connections right when the coordinator answers an upload with 201 (the ack is lost). */
  loseUploadAcks: number;
}

/** What happened so far. */
export interface ProxyStats {
  connections: number;
  dropped: number;
  cut: number;
  websocketsRefused: number;
  acksLost: number;
}

/** A hook's verdict: forward, hold for good, or forward once the promise settles (a pause). */
export type Verdict = 'hold' | 'pass' | Promise<'hold' | 'pass'>;

/** Hooks to act on requests and responses (e.g. kill a site mid-upload, lose an acknowledgement). */
export interface ProxyHooks {
  /** Sees each client chunk (the first 512 bytes) and the head of the request it belongs to. */
  onRequest?: (chunk: string, requestHead: string) => Verdict;
  /** Sees the coordinator's answer to a request (status line and headers). */
  onResponse?: (head: string, requestHead: string) => Verdict;
}

const NO_FAULTS: Faults = {
  latencyMs: 0,
  jitterMs: 0,
  dropNewRate: 0,
  cutRate: 0,
  cutWithinMs: 1000,
  blockWebsocket: false,
  loseUploadAcks: 0,
};

/**
 * A TCP proxy on 127.0.0.1:0 in front of the coordinator that delays, drops and cuts connections, refuses
 * WebSockets and loses upload acknowledgements, with seeded randomness. It forwards bytes in order per
 * direction, so HTTP and WebSocket framing survive the delays.
 */
export async function startFaultProxy(opts: {
  target: { host: string; port: number };
  seed: number;
  faults?: Partial<Faults>;
  hooks?: ProxyHooks;
}) {
  const faults: Faults = { ...NO_FAULTS, ...opts.faults };
  const stats: ProxyStats = { connections: 0, dropped: 0, cut: 0, websocketsRefused: 0, acksLost: 0 };
  const rng = new SeededRandom(opts.seed);
  const live = new Set<net.Socket>();

  const server = net.createServer((client) => {
    stats.connections++;
    live.add(client);
    client.on('close', () => live.delete(client));
    client.on('error', () => undefined);
    if (rng.next() < faults.dropNewRate) {
      stats.dropped++;
      client.destroy();
      return;
    }
    const upstream = net.connect(opts.target.port, opts.target.host);
    live.add(upstream);
    upstream.on('close', () => {
      live.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    const kill = () => {
      client.destroy();
      upstream.destroy();
    };
    if (rng.next() < faults.cutRate) {
      const t = setTimeout(() => {
        if (!client.destroyed) stats.cut++;
        kill();
      }, rng.next() * faults.cutWithinMs);
      client.on('close', () => clearTimeout(t));
    }
    let requestHead = '';
    let held = false;
    const verdict = async (v: Verdict | undefined): Promise<boolean> => {
      if ((await v) === 'hold') held = true;
      return !held;
    };
    pipe({
      from: client,
      to: upstream,
      faults,
      rng,
      inspect: (chunk) => {
        const text = chunk.subarray(0, 512).toString('latin1');
        if (/^(GET|POST) /.test(text)) requestHead = text;
        if (faults.blockWebsocket && /\r\nupgrade: websocket/i.test(text)) {
          stats.websocketsRefused++;
          kill();
          return false;
        }
        return held ? false : verdict(opts.hooks?.onRequest?.(text, requestHead));
      },
    });
    pipe({
      from: upstream,
      to: client,
      faults,
      rng,
      inspect: (chunk) => {
        const text = chunk.subarray(0, 512).toString('latin1');
        if (held || !text.startsWith('HTTP/1.1 ')) return !held;
        if (faults.loseUploadAcks > 0 && text.startsWith('HTTP/1.1 201') && /\/updates /.test(requestHead)) {
          faults.loseUploadAcks--;
          stats.acksLost++;
          kill();
          return false;
        }
        return verdict(opts.hooks?.onResponse?.(text, requestHead));
      },
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    faults,
    stats,
    /** Cuts every open connection now (a network blip). */
    cutAll(): void {
      for (const s of live) s.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of live) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Forwards `from` → `to` chunk by chunk, each after the configured delay, in order. */
function pipe(o: {
  from: net.Socket;
  to: net.Socket;
  faults: Faults;
  rng: SeededRandom;
  inspect: (chunk: Buffer) => boolean | Promise<boolean>;
}): void {
  let chain = Promise.resolve();
  o.from.on('data', (chunk: Buffer) => {
    const delay = o.faults.latencyMs + o.rng.next() * o.faults.jitterMs;
    chain = chain.then(async () => {
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      if (o.to.destroyed || !(await o.inspect(chunk))) return;
      o.to.write(chunk);
    });
  });
  o.from.on('end', () => {
    void chain.then(() => o.to.end());
  });
}
