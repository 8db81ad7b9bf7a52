import net from 'node:net';

/** Bytes that crossed the proxy for one label, TCP payload as sent (request and response heads, bodies, frames). */
export interface WireCount {
  /** Client → server. */
  up: number;
  /** Server → client. */
  down: number;
  /** Request heads seen (an upgraded connection counts once). */
  requests: number;
}

const HEAD_END = Buffer.from('\r\n\r\n');

/**
 * A TCP proxy on 127.0.0.1:0 in front of one HTTP server that counts the bytes on the wire, by request: it reads the
 * HTTP/1.1 request heads in what each client sends (skipping `Content-Length` bodies), names each request with
 * `classify(method, path)`, and charges the request's head and body, and every byte the server sends back until the
 * next request on that connection, to that name. An upgraded connection (WebSocket) or a chunked request body is
 * charged whole to the request that began it. Nothing is changed on the way through.
 */
export async function startCountingProxy(opts: {
  target: string;
  classify: (method: string, path: string) => string;
}): Promise<{ url: string; counts(): Record<string, WireCount>; close(): Promise<void> }> {
  const target = new URL(opts.target);
  const counts = new Map<string, WireCount>();
  const countOf = (label: string): WireCount => {
    let c = counts.get(label);
    if (!c) counts.set(label, (c = { up: 0, down: 0, requests: 0 }));
    return c;
  };
  const live = new Set<net.Socket>();

  const server = net.createServer((client) => {
    const upstream = net.connect(Number(target.port), target.hostname);
    for (const s of [client, upstream]) {
      live.add(s);
      s.on('close', () => live.delete(s));
      s.on('error', () => undefined);
    }
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    let current = 'unparsed'; // the label of the request the bytes now flowing belong to
    let pending: Buffer = Buffer.alloc(0); // an incomplete request head
    let body = 0; // body bytes of the current request still to come
    let opaque = false; // upgraded or chunked: everything from here on belongs to `current`
    const fromClient = (chunk: Buffer): void => {
      let rest = chunk;
      while (rest.length > 0) {
        if (opaque || body > 0) {
          const n = opaque ? rest.length : Math.min(body, rest.length);
          if (!opaque) body -= n;
          countOf(current).up += n;
          rest = rest.subarray(n);
          continue;
        }
        pending = pending.length === 0 ? rest : Buffer.concat([pending, rest]);
        rest = Buffer.alloc(0);
        const end = pending.indexOf(HEAD_END);
        if (end < 0) return;
        const head = pending.subarray(0, end + HEAD_END.length);
        rest = pending.subarray(head.length);
        pending = Buffer.alloc(0);
        const lines = head.toString('latin1').split('\r\n');
        const [method = '?', path = '?'] = lines[0]!.split(' ');
        const header = (name: string) =>
          lines
            .find((l) => l.toLowerCase().startsWith(`${name}:`))
            ?.slice(name.length + 1)
            .trim()
            .toLowerCase();
        current = opts.classify(method, path.split('?')[0]!);
        countOf(current).requests++;
        countOf(current).up += head.length;
        body = Number(header('content-length') ?? 0);
        opaque = header('upgrade') !== undefined || header('transfer-encoding') === 'chunked';
      }
    };
    client.on('data', (chunk: Buffer) => {
      fromClient(chunk);
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      countOf(current).down += chunk.length;
      client.write(chunk);
    });
    client.on('end', () => upstream.end());
    upstream.on('end', () => client.end());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    counts: () => Object.fromEntries([...counts].map(([k, v]) => [k, { ...v }])),
    close: async () => {
      for (const s of live) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
