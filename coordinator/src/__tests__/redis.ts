import net from 'node:net';
import { randomBytes } from 'node:crypto';

/** The Redis the tests share (scripts/test-prerequisites.sh starts it). */
export const TEST_REDIS_URL = process.env.TWINFED_TEST_REDIS_URL || 'redis://127.0.0.1:6379';

/** Sends one command in RESP and resolves with its raw reply once `complete` says it is whole (tests only). */
function command(
  url: string,
  args: string[],
  complete: (reply: string) => boolean = (r) => r.includes('\r\n'),
  timeoutMs = 3000,
): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(u.port || 6379), u.hostname);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    let reply = '';
    socket.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (complete(reply)) {
        clearTimeout(timer);
        socket.end();
        resolve(reply);
      }
    });
    const encode = (a: string[]) => `*${a.length}\r\n${a.map((x) => `$${Buffer.byteLength(x)}\r\n${x}\r\n`).join('')}`;
    socket.write(encode(args));
  });
}

/**
 * The test Redis URL once it answers PING; fails the test with a clear message when it does not (tests that need
 * Redis never skip silently).
 */
export async function requireRedis(): Promise<string> {
  let answer: string;
  try {
    answer = await command(TEST_REDIS_URL, ['PING']);
  } catch (e) {
    throw new Error(
      `These tests need Redis at ${TEST_REDIS_URL} (TWINFED_TEST_REDIS_URL); it does not answer (${(e as Error).message}). ` +
        'Start it with `bash scripts/test-prerequisites.sh`.',
    );
  }
  if (answer !== '+PONG\r\n') throw new Error(`Redis at ${TEST_REDIS_URL} answered PING with ${answer.trim()}`);
  return TEST_REDIS_URL;
}

/** A key and channel prefix no other test (or helper sharing the server) uses. */
export function uniqueRedisPrefix(name: string): string {
  return `twinfed-test:${name}:${randomBytes(6).toString('hex')}:`;
}

/** Deletes every key under `prefix` (channels leave nothing behind). */
export async function cleanupRedis(prefix: string): Promise<void> {
  const script = "for _,k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end return 0";
  await command(TEST_REDIS_URL, ['EVAL', script, '0', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`]);
}

/** How many connections subscribe to `channel` (PUBSUB NUMSUB). */
async function subscribers(channel: string): Promise<number> {
  const reply = await command(TEST_REDIS_URL, ['PUBSUB', 'NUMSUB', channel], (r) => /:\d+\r\n$/.test(r));
  return Number(/:(\d+)\r\n$/.exec(reply)?.[1]);
}

/**
 * Resolves once `replicas` coordinators listen to each other's site broadcasts under `prefix` (each has subscribed to
 * the adapter's request channel, which it does right after its broadcast pattern), so nothing published later is missed.
 */
export async function waitForPushSubscribers(prefix: string, replicas: number): Promise<void> {
  const channel = `${prefix}socket.io-request#/sites#`;
  for (let i = 0; i < 200; i++) {
    if ((await subscribers(channel)) >= replicas) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`${replicas} replicas did not subscribe to ${channel}`);
}
