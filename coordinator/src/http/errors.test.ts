import { routeTable } from './route-table';
import { toTwinfedError } from './errors';
import { startTestCoordinator } from '../__tests__/harness';

/**
 * Found by the fuzz suite (fuzz.test.ts): a path parameter that is not valid percent-encoding (`%E0%A4%A`, `%ZZ`,
 * `%FF`) made express's router throw a URIError, which the error handler turned into 500 INTERNAL. It is the
 * client's malformed request: 400 BAD_REQUEST, before any credential is looked at.
 */
describe('malformed percent-encoding in a path parameter', () => {
  let c: Awaited<ReturnType<typeof startTestCoordinator>>;
  beforeAll(async () => {
    c = await startTestCoordinator();
  });
  afterAll(async () => c.close());

  const withParams = routeTable({} as never).filter((r) => r.path.includes('/:'));

  test('the table has routes with parameters', () => {
    expect(withParams.length).toBeGreaterThanOrEqual(15);
  });

  for (const route of withParams) {
    for (const bad of ['%E0%A4%A', '%ZZ', '%FF', 'a%']) {
      test(`${route.method.toUpperCase()} ${route.path} with "${bad}" → 400 BAD_REQUEST`, async () => {
        const path = route.path
          .replace(/:[a-zA-Z]+/, bad)
          .replace(/:fid|:vid|:siteId|:tokenId|:asset/g, 'x')
          .replace(':round', '1');
        const res = await fetch(c.url + path, {
          method: route.method.toUpperCase(),
          headers: { authorization: `Bearer ${c.operatorToken}` },
        });
        const body = (await res.json()) as { error: { code: string } };
        expect({ status: res.status, code: body.error.code }).toEqual({ status: 400, code: 'BAD_REQUEST' });
      });
    }
  }

  test('a URIError is a BAD_REQUEST; other unknown errors stay INTERNAL', () => {
    expect(toTwinfedError(new URIError('URI malformed')).code).toBe('BAD_REQUEST');
    expect(toTwinfedError(new TypeError('x')).code).toBe('INTERNAL');
  });
});
