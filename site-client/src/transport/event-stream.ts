import { io, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import {
  SITE_NAMESPACE,
  tlsFailureCode,
  type ClientToServerEvents,
  type ServerToClientEvents,
  type Logger,
} from '@twinfed/shared';
import { CoordinatorEndpoints } from './endpoints';
import { SiteAuthenticator, type SiteCredentials } from './site-auth';
import { DEFAULT_BACKOFF, backoffDelay, type BackoffPolicy } from './retry';

/** The typed client socket of the site namespace. */
type SiteSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/** Creates the socket (injectable: tests pass a fake or a socket to a port-0 server). */
type SocketFactory = (url: string, options: Partial<ManagerOptions & SocketOptions>) => SiteSocket;

/** The status a site reports over the socket. */
export type SiteStatus = Parameters<ClientToServerEvents['site:status']>[0];

/** Options of {@link EventStream}. */
interface EventStreamOptions {
  /** The coordinator's URL, or the endpoint list the site's HTTP transport uses (the stream follows its fail-over). */
  baseUrl: string | readonly string[] | CoordinatorEndpoints;
  /** The site's credentials, or the authenticator its HTTP transports use (the handshake is MAC'd once they are). */
  credentials: SiteCredentials | SiteAuthenticator;
  /** Reconnect delays (its `retries` is ignored: the stream retries until closed). */
  backoff?: BackoffPolicy;
  logger?: Logger;
  connect?: SocketFactory;
  random?: () => number;
  /** PEM CA certificate to trust for wss:// (a private consortium CA); default the system's CAs. */
  ca?: string;
}

/** A connection change: `connected` or not, and why. */
export type ConnectionListener = (state: { connected: boolean; reason?: string }) => void;

/**
 * Push events from the coordinator over socket.io (namespace {@link SITE_NAMESPACE}). Each connection
 * attempt carries a fresh handshake, signed or MAC'd ({@link SiteAuthenticator.handshake}). Reconnects with jittered exponential backoff, including after
 * the server refused the handshake or disconnected the site, until {@link EventStream.close}. Events are only
 * hints: the runner also polls over HTTP, so a dead stream costs latency, never progress. With several coordinator
 * URLs it connects to the one in use: a connection that cannot be made (refused, reset, timed out; not a refused
 * handshake) moves the shared list to the next URL, and whenever the list moves (here or in the HTTP transport) the
 * stream reconnects there after a backoff delay.
 */
export class EventStream {
  private socket: SiteSocket | undefined;
  private closed = false;
  private attempt = 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly listeners = new Set<ConnectionListener>();
  private readonly handlers: Array<[keyof ServerToClientEvents, (...args: never[]) => void]> = [];
  private readonly policy: BackoffPolicy;
  private readonly endpoints: CoordinatorEndpoints;
  private offEndpoints: (() => void) | undefined;
  private readonly auth: SiteAuthenticator;

  constructor(private readonly options: EventStreamOptions) {
    this.auth = SiteAuthenticator.of(options.credentials, options.logger);
    this.policy = options.backoff ?? DEFAULT_BACKOFF;
    this.endpoints =
      options.baseUrl instanceof CoordinatorEndpoints ? options.baseUrl : new CoordinatorEndpoints(options.baseUrl);
  }

  /** The coordinator URL the stream connects (or tries to connect) to. */
  get url(): string | undefined {
    return this.socketUrl;
  }

  private socketUrl: string | undefined;

  /** True while the socket is connected. */
  get connected(): boolean {
    return this.socket?.connected ?? false;
  }

  /** Subscribes to a coordinator event; returns the unsubscribe function. Works before and after `start`. */
  on<E extends keyof ServerToClientEvents>(event: E, handler: ServerToClientEvents[E]): () => void {
    const entry: [keyof ServerToClientEvents, (...args: never[]) => void] = [event, handler];
    this.handlers.push(entry);
    this.socket?.on(event, handler as never);
    return () => {
      const i = this.handlers.indexOf(entry);
      if (i >= 0) this.handlers.splice(i, 1);
      this.socket?.off(event, handler as never);
    };
  }

  /** Listens to connection changes; returns the unsubscribe function. */
  onConnection(listener: ConnectionListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Opens the connection (idempotent). */
  start(): void {
    if (this.socket || this.closed) return;
    this.offEndpoints = this.endpoints.onChange(({ to }) => this.follow(to));
    this.open(this.endpoints.current);
  }

  private open(baseUrl: string): void {
    const base = new URL(baseUrl);
    const prefix = base.pathname.replace(/\/+$/, '');
    const factory: SocketFactory = this.options.connect ?? ((url, opts) => io(url, opts));
    let handshakeMac = false; // whether the last handshake sent carried a MAC
    const socket = factory(base.origin + SITE_NAMESPACE, {
      path: `${prefix}/socket.io`,
      transports: ['websocket'],
      forceNew: true,
      reconnection: true,
      reconnectionDelay: this.policy.baseMs,
      reconnectionDelayMax: this.policy.maxMs,
      randomizationFactor: 0.5,
      auth: (cb: (data: object) => void) => {
        const handshake = this.auth.handshake();
        handshakeMac = handshake.mac !== undefined;
        cb(handshake);
      },
      ...(this.options.ca !== undefined ? { ca: this.options.ca } : {}),
    });
    this.socket = socket;
    this.socketUrl = baseUrl;
    for (const [event, handler] of this.handlers) socket.on(event, handler as never);
    socket.on('connect', () => {
      this.attempt = 0;
      this.options.logger?.info({ coordinator: baseUrl }, 'event stream connected');
      this.emit({ connected: true });
    });
    socket.on('disconnect', (reason) => {
      this.options.logger?.warn({ reason }, 'event stream disconnected');
      this.emit({ connected: false, reason });
      if (!socket.active) this.scheduleReconnect();
    });
    socket.on('connect_error', (err) => {
      const refused = (err as { data?: { code?: unknown } }).data?.code;
      if (refused !== undefined) this.auth.handshakeRefused(handshakeMac);
      const code = refused ?? tlsFailureCode(err);
      this.options.logger?.warn({ reason: err.message, code }, 'event stream could not connect');
      this.emit({ connected: false, reason: typeof code === 'string' ? code : err.message });
      // No connection at all (not a refused handshake, not an untrusted certificate): try the next coordinator URL.
      if (code === undefined && this.endpoints.failed(baseUrl) !== baseUrl) return;
      if (!socket.active) this.scheduleReconnect();
    });
  }

  /** The endpoint list moved to `to`: drop the socket to the old URL and connect to `to` after a backoff delay. */
  private follow(to: string): void {
    if (this.closed || to === this.socketUrl) return;
    this.dropSocket();
    if (this.timer) clearTimeout(this.timer);
    const delay = backoffDelay({
      attempt: this.attempt++,
      policy: this.policy,
      random: this.options.random ?? Math.random,
    });
    this.options.logger?.warn({ coordinator: to, delayMs: delay }, 'event stream follows the coordinator fail-over');
    this.socketUrl = to;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed && !this.socket) this.open(this.endpoints.current);
    }, delay);
    this.timer.unref?.();
  }

  private dropSocket(): void {
    const old = this.socket;
    this.socket = undefined;
    old?.removeAllListeners();
    old?.disconnect();
  }

  /**
   * Reports the site's state (liveness and progress); true when it was sent, false when offline. Sent without asking
   * for an ack: nothing read the server time it carried, and the acks were 2.8 of the 7.5 socket frames per site and
   * round (load run, 100 sites × 3 plain rounds).
   */
  async reportStatus(status: SiteStatus): Promise<boolean> {
    const socket = this.socket;
    if (!socket?.connected) return false;
    socket.emit('site:status', status);
    return true;
  }

  /** Closes the connection for good. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.offEndpoints?.();
    this.dropSocket();
    this.listeners.clear();
  }

  /** The server refused or dropped us, so socket.io will not retry by itself: retry with our backoff. */
  private scheduleReconnect(): void {
    if (this.closed || this.timer) return;
    const delay = backoffDelay({
      attempt: this.attempt++,
      policy: this.policy,
      random: this.options.random ?? Math.random,
    });
    this.timer = setTimeout(() => {
      this.timer = undefined;
      if (!this.closed) this.socket?.connect();
    }, delay);
    this.timer.unref?.();
  }

  private emit(state: { connected: boolean; reason?: string }): void {
    for (const l of this.listeners) l(state);
  }
}
