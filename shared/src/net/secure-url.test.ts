import { codeOf } from '../__tests__/code-of';
import { envFlag, isLoopbackHost, requireSecureUrl } from './secure-url';

describe('isLoopbackHost', () => {
  test.each(['localhost', 'LOCALHOST', 'localhost.', '127.0.0.1', '127.1.2.3', '127.255.255.254', '::1', '[::1]'])(
    '%s is loopback',
    (h) => {
      expect(isLoopbackHost(h)).toBe(true);
    },
  );
  test.each([
    'coordinator.invalid',
    'localhost.invalid',
    'mylocalhost',
    '128.0.0.1',
    '10.0.0.1',
    '0.0.0.0',
    '::',
    '::2',
    '[fe80::1]',
    '127.example.org',
    '',
  ])('%s is not loopback', (h) => {
    expect(isLoopbackHost(h)).toBe(false);
  });
});

describe('requireSecureUrl', () => {
  test('https to any host passes', () => {
    expect(requireSecureUrl('https://coordinator.invalid:8470/base').href).toBe(
      'https://coordinator.invalid:8470/base',
    );
  });

  test('plain http to loopback passes', () => {
    for (const u of ['http://127.0.0.1:8470', 'http://localhost:1', 'http://[::1]:8470', 'http://127.9.9.9'])
      expect(codeOf(() => requireSecureUrl(u))).toBe('none');
  });

  test('plain http to any other host is INSECURE_URL, and the message says to use https', () => {
    for (const u of [
      'http://coordinator.invalid',
      'http://10.1.2.3:8470',
      'http://[fe80::1]/',
      'http://0.0.0.0:8470',
      'http://127.0.0.1.invalid',
    ]) {
      expect(codeOf(() => requireSecureUrl(u))).toBe('INSECURE_URL');
    }
    expect(() => requireSecureUrl('http://coordinator.invalid:8470')).toThrow(
      /use https:\/\/coordinator\.invalid:8470 .*--ca <pem>.*--insecure-http/i,
    );
  });

  test('--insecure-http lets plain http through', () => {
    expect(codeOf(() => requireSecureUrl('http://coordinator.invalid', { insecureHttp: true }))).toBe('none');
  });

  test('other schemes and non-URLs are CONFIG_INVALID', () => {
    expect(codeOf(() => requireSecureUrl('ftp://coordinator.invalid'))).toBe('CONFIG_INVALID');
    expect(codeOf(() => requireSecureUrl('coordinator.invalid:8470'))).toBe('CONFIG_INVALID');
  });

  test('envFlag reads 1/true/yes/on', () => {
    expect(['1', 'true', 'YES', 'on'].map(envFlag)).toEqual([true, true, true, true]);
    expect([undefined, '', '0', 'false', 'no'].map(envFlag)).toEqual([false, false, false, false, false]);
  });
});
