import type { Response } from 'express';

/*
 * Answers for the routes every site calls every round (current round, download, upload, evaluation, the secure-aggregation state). express's
 * `res.send` computes a weak ETag of every body it sends (SHA-1 over it: over a whole model on the download route) so
 * that a client sending If-None-Match can get 304; no twinfed site sends it, and a POST's answer is never fresh. These
 * write the same status, Content-Type and Content-Length as `res.json` / `res.send`, without the ETag. HEAD requests
 * get the headers alone (node writes no body for them). Every other route keeps express's answer and its ETag.
 */

/** `res.status(status).json(body)` without an ETag. */
export function answerJson(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  res.end(text);
}

/** 200 with the concatenation of `parts` as `type`, written part by part (no copy into one buffer), without an ETag. */
export function answerBytes(res: Response, type: string, parts: readonly Uint8Array[]): void {
  res.statusCode = 200;
  res.setHeader('Content-Type', type);
  res.setHeader(
    'Content-Length',
    parts.reduce((n, p) => n + p.byteLength, 0),
  );
  res.cork(); // headers and every part leave in one write
  for (const p of parts) res.write(p);
  res.end();
  res.uncork();
}
