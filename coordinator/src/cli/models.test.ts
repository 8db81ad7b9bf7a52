import { readFile, readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { sha256Hex } from '@twinfed/shared';
import { fakeCoordinatorCli, run } from './__tests__/harness';

const cli = fakeCoordinatorCli();
const op = cli.op;

describe('models list', () => {
  it('filters by federation and prints a table', async () => {
    const r = await run(op('models', 'list', '--federation', 'fed-1'));
    expect(r.code).toBe(0);
    expect(cli.fake.seen[0]?.path).toBe('/v1/models?federation=fed-1');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^VERSION\s+FEDERATION\s+ROUND\s+PARENT\s+STRATEGY\s+SITES\s+METRICS\s+CREATED$/);
    expect(lines[1]).toMatch(/^fed-1\.v0\s+fed-1\s+0\s+-\s+fedavg\s+0\s+-\s+\S+$/);
    expect(lines[2]).toMatch(/^fed-1\.v1\s+fed-1\s+1\s+fed-1\.v0\s+fedavg\s+2\s+accuracy=0\.7 loss=0\.6123\s+\S+$/);
  });

  it('without a filter asks for all versions', async () => {
    await run(op('models', 'list', '--json'));
    expect(cli.fake.seen[0]?.path).toBe('/v1/models');
  });
});

describe('models show', () => {
  it('shows meta, lineage, a verified signature with the signer fingerprint and evaluations per site', async () => {
    const r = await run(op('models', 'show', 'fed-1.v1'));
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^contributors:\s+site-a \(120\), site-b \(80\)$/m);
    expect(r.stdout).toMatch(/^parent:\s+fed-1\.v0$/m);
    expect(r.stdout).toMatch(/^signature:\s+\S{24}… valid$/m);
    expect(r.stdout).toMatch(new RegExp(`^signer key:\\s+${cli.fake.keys.fingerprint}$`, 'm'));
    expect(r.stdout).toContain('Lineage (newest first):\n  fed-1.v1 ← fed-1.v0\n');
    expect(r.stdout).toMatch(/^site-a\s+40\s+accuracy=0\.75 auc=0\.8123\s+\S+$/m);
  });

  it('flags metadata whose signature does not verify', async () => {
    const v = cli.fake.versions[1]!;
    v.meta = { ...v.meta, metrics: { ...v.meta.metrics, accuracy: 0.99 } };
    const r = await run(op('models', 'show', 'fed-1.v1', '--json'));
    const out = JSON.parse(r.stdout) as { signatureValid: boolean; lineage: string[]; signer: { fingerprint: string } };
    expect(out.signatureValid).toBe(false);
    expect(out.lineage).toEqual(['fed-1.v1', 'fed-1.v0']);
    expect(out.signer.fingerprint).toBe(cli.fake.keys.fingerprint);
  });

  it('an unknown version is one line', async () => {
    const r = await run(op('models', 'show', 'nope'));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('twinfed: The model version does not exist. (UNKNOWN_MODEL_VERSION)\n');
  });
});

describe('models export', () => {
  it('writes the weights and a sidecar with meta, signature and coordinator keys', async () => {
    const out = path.join(cli.dir, 'model.bin');
    const r = await run(op('models', 'export', 'fed-1.v1', '--out', out));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const bytes = new Uint8Array(await readFile(out));
    expect(Buffer.from(bytes).equals(Buffer.from(cli.fake.weights.get('fed-1.v1')!))).toBe(true);
    const sidecar = JSON.parse(await readFile(`${out}.json`, 'utf8')) as { version: { id: string; meta: { weightsSha256: string } }; signature: string; coordinator: { fingerprint: string }; weightsFile: string };
    expect(sidecar.version.id).toBe('fed-1.v1');
    expect(sidecar.version.meta.weightsSha256).toBe(sha256Hex(bytes));
    expect(sidecar.signature).toBe(cli.fake.versions[1]!.signature);
    expect(sidecar.coordinator.fingerprint).toBe(cli.fake.keys.fingerprint);
    expect(sidecar.weightsFile).toBe('model.bin');
    expect(r.stdout).toContain(`Wrote ${out} (${bytes.byteLength} bytes`);
    expect((await readdir(cli.dir)).sort()).toEqual(['model.bin', 'model.bin.json']);
  });

  it('refuses weights that do not match the digest in the metadata and writes nothing', async () => {
    const good = cli.fake.weights.get('fed-1.v1')!;
    const tampered = Uint8Array.from(good);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;
    cli.fake.weights.set('fed-1.v1', tampered);
    const r = await run(op('models', 'export', 'fed-1.v1', '--out', path.join(cli.dir, 'model.bin')));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^twinfed: The downloaded weights of fed-1\.v1 have sha256 [0-9a-f]{16}… but the version metadata says [0-9a-f]{16}…; nothing was written\. \(MODEL_DIGEST_MISMATCH\)\n$/);
    expect(await readdir(cli.dir)).toEqual([]);
  });

  it('refuses a version whose digest was changed consistently but whose signature no longer verifies', async () => {
    const tampered = Uint8Array.from(cli.fake.weights.get('fed-1.v1')!);
    tampered[tampered.length - 1] = tampered[tampered.length - 1]! ^ 0xff;
    const v = cli.fake.versions[1]!;
    v.weightsSha256 = sha256Hex(tampered);
    v.meta = { ...v.meta, weightsSha256: v.weightsSha256 };
    cli.fake.weights.set('fed-1.v1', tampered);
    const r = await run(op('models', 'export', 'fed-1.v1', '--out', path.join(cli.dir, 'model.bin')));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`twinfed: Version fed-1.v1: the signature does not verify against coordinator key ${cli.fake.keys.fingerprint}; nothing was written. (MODEL_SIGNATURE_INVALID)\n`);
    expect(await readdir(cli.dir)).toEqual([]);
  });

  it('does not overwrite existing files without --force', async () => {
    const out = path.join(cli.dir, 'model.bin');
    await writeFile(`${out}.json`, 'keep');
    const r = await run(op('models', 'export', 'fed-1.v0', '--out', out));
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`twinfed: ${out}.json already exists; pass --force to overwrite it. (ALREADY_EXISTS)\n`);
    expect(await readFile(`${out}.json`, 'utf8')).toBe('keep');
    const forced = await run(op('models', 'export', 'fed-1.v0', '--out', out, '--force', '--json'));
    expect(forced.code).toBe(0);
    expect(JSON.parse(forced.stdout)).toMatchObject({ versionId: 'fed-1.v0', weightsFile: out, metaFile: `${out}.json` });
  });
});
