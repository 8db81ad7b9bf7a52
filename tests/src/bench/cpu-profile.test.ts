import { summariseCpuProfile, summariseCpuProfiles } from './cpu-profile';

const frame = (functionName: string, url: string, lineNumber: number) => ({ functionName, url, lineNumber });

describe('CPU profile summary', () => {
  test('sums self time per function over samples, leaves idle out of the shares, and names frames briefly', () => {
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(root)', '', -1), children: [2, 3, 4, 5] },
        { id: 2, callFrame: frame('(idle)', '', -1) },
        { id: 3, callFrame: frame('verify', 'file:///repo/shared/dist/crypto/signature.js', 31) },
        { id: 4, callFrame: frame('next', '/repo/node_modules/router/index.js', 188) },
        // The same function reached by another path: one entry.
        { id: 5, callFrame: frame('verify', 'file:///repo/shared/dist/crypto/signature.js', 31) },
      ],
      samples: [2, 3, 4, 5, 3, 2],
      timeDeltas: [1000, 3000, 2000, 1000, 2000, 7000],
    };
    const s = summariseCpuProfile(profile, 5);
    expect(s.totalMs).toBe(16);
    expect(s.idleMs).toBe(8);
    expect(s.top).toEqual([
      { frame: 'verify (shared/crypto/signature.js:32)', selfMs: 6, selfPct: 75 },
      { frame: 'next (router/index.js:189)', selfMs: 2, selfPct: 25 },
    ]);
  });

  test('with a window, sums only the samples taken within it', () => {
    const profile = {
      startTime: 1_000_000,
      nodes: [
        { id: 1, callFrame: frame('(root)', '', -1), children: [2, 3] },
        { id: 2, callFrame: frame('enrollSite', 'file:///repo/coordinator/dist/store/sqlite/identity.js', 77) },
        { id: 3, callFrame: frame('verify', 'file:///repo/shared/dist/crypto/signature.js', 31) },
      ],
      // at 1_001_000, 1_003_000 (enrollment), then 1_010_000 and 1_012_000 (the federation), then 1_020_000 (after it)
      samples: [2, 2, 3, 3, 2],
      timeDeltas: [1000, 2000, 7000, 2000, 8000],
    };
    const s = summariseCpuProfile(profile, 5, { fromUs: 1_005_000, toUs: 1_015_000 });
    expect(s.totalMs).toBe(9);
    expect(s.top).toEqual([{ frame: 'verify (shared/crypto/signature.js:32)', selfMs: 9, selfPct: 100 }]);
    expect(s.window).toEqual({ fromUs: 1_005_000, toUs: 1_015_000 });
    expect(() => summariseCpuProfile({ ...profile, startTime: undefined }, 5, s.window)).toThrow(/startTime/);
  });
});

test('several processes: self and idle time summed over their profiles, shares of the summed busy time', () => {
  const one = {
    nodes: [
      { id: 1, callFrame: frame('(root)', '', -1), children: [2, 3] },
      { id: 2, callFrame: frame('(idle)', '', -1) },
      { id: 3, callFrame: frame('sign', 'file:///repo/shared/dist/crypto/signature.js', 9) },
    ],
    samples: [2, 3],
    timeDeltas: [4000, 3000],
  };
  const two = {
    nodes: [
      { id: 7, callFrame: frame('(root)', '', -1), children: [8, 9] },
      { id: 8, callFrame: frame('sign', 'file:///repo/shared/dist/crypto/signature.js', 9) },
      { id: 9, callFrame: frame('parse', 'file:///repo/site-client/dist/http.js', 20) },
    ],
    samples: [8, 9],
    timeDeltas: [3000, 2000],
  };
  const s = summariseCpuProfiles([one, two], 5);
  expect(s.totalMs).toBe(12);
  expect(s.idleMs).toBe(4);
  expect(s.top).toEqual([
    { frame: 'sign (shared/crypto/signature.js:10)', selfMs: 6, selfPct: 75 },
    { frame: 'parse (site-client/http.js:21)', selfMs: 2, selfPct: 25 },
  ]);
  expect(summariseCpuProfile(one, 5)).toEqual(summariseCpuProfiles([one], 5));
});

test('by module: each sample counts for the nearest package or workspace frame, natives without one keep their name', () => {
  const profile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', '', -1), children: [2, 3, 6] },
      { id: 2, callFrame: frame('handle', '/repo/node_modules/router/lib/layer.js', 10), children: [4] },
      { id: 3, callFrame: frame('authenticate', 'file:///repo/coordinator/dist/http/auth.js', 40), children: [5] },
      // node's setHeader called by the router counts for the router; a native under our code for our code
      { id: 4, callFrame: frame('setHeader', 'node:_http_outgoing', 653) },
      { id: 5, callFrame: frame('verifyOneShot', 'node:internal/crypto/sig', 234) },
      { id: 6, callFrame: frame('(garbage collector)', '', -1) },
    ],
    samples: [2, 4, 5, 6, 3],
    timeDeltas: [1000, 2000, 3000, 1000, 1000],
  };
  expect(summariseCpuProfile(profile, 5).byModule).toEqual([
    { frame: 'coordinator/http', selfMs: 4, selfPct: 50 },
    { frame: 'router', selfMs: 3, selfPct: 37.5 },
    { frame: '(garbage collector)', selfMs: 1, selfPct: 12.5 },
  ]);
});
