import http from 'node:http';
import https from 'node:https';
import type net from 'node:net';
import type { Express } from 'express';

/**
 * The HTTP or HTTPS server of an express app, whose requests and responses are created with the app's own prototypes.
 * express gives every request and response its prototypes in `app.handle` (`Object.setPrototypeOf`), which costs V8 a
 * new hidden class per object and leaves every later property access on them slower; created with them, that call
 * finds its prototype already in place and changes nothing. Same objects, same express semantics (req.ip and trust
 * proxy, helmet, error handlers), for requests and for socket.io's handshakes and upgrades on the same server.
 */
export function createAppServer(
  app: Express,
  tls: { cert: string | Buffer; key: string | Buffer } | null,
): http.Server {
  const options = appMessageClasses(app);
  return tls ? https.createServer({ cert: tls.cert, key: tls.key, ...options }, app) : http.createServer(options, app);
}

/** Constructors of node's request and response whose instances have `app.request` and `app.response` as prototypes. */
function appMessageClasses(app: Express): Pick<http.ServerOptions, 'IncomingMessage' | 'ServerResponse'> {
  // node's own constructors are plain functions (its subclasses call them so); @types/node declares them as classes.
  const incomingMessage = http.IncomingMessage as unknown as (this: unknown, socket: net.Socket) => void;
  const serverResponse = http.ServerResponse as unknown as (this: unknown, req: unknown, opts?: object) => void;
  function AppRequest(this: http.IncomingMessage, socket: net.Socket): void {
    incomingMessage.call(this, socket);
  }
  AppRequest.prototype = app.request;
  function AppResponse(this: http.ServerResponse, req: http.IncomingMessage, opts?: object): void {
    serverResponse.call(this, req, opts);
  }
  AppResponse.prototype = app.response;
  return {
    IncomingMessage: AppRequest as unknown as typeof http.IncomingMessage,
    ServerResponse: AppResponse as unknown as typeof http.ServerResponse,
  };
}
