import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { addressKey } from '../http/client-address';
import { AnonymousConnections, type EngineSocket } from './anonymous-connections';

class FakeConn extends EventEmitter implements EngineSocket {
  readonly request = {} as IncomingMessage;
  close(): void {
    this.emit('close');
  }
}

describe('addressKey', () => {
  test('IPv4 as is, IPv4-mapped IPv6 as IPv4, IPv6 by its /64', () => {
    expect(addressKey('203.0.113.5')).toBe('203.0.113.5');
    expect(addressKey('::ffff:127.0.0.1')).toBe('127.0.0.1');
    expect(addressKey('2001:db8:1:2:aaaa::1')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:0db8:0001:0002:ffff:ffff:ffff:ffff')).toBe('2001:db8:1:2::/64');
    expect(addressKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(addressKey('::1')).toBe('0:0:0:0::/64');
    expect(addressKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64');
    expect(addressKey('unknown')).toBe('unknown');
  });
});

describe('AnonymousConnections', () => {
  test('admits up to the cap per address (one /64 is one address); authentication and close free a place', () => {
    const a = new AnonymousConnections(2);
    const c1 = new FakeConn();
    const c2 = new FakeConn();
    expect(a.admit(c1, '2001:db8:1:2::1')).toBe(true);
    expect(a.admit(c2, '2001:db8:1:2::ffff')).toBe(true);
    expect(a.full('2001:db8:1:2:9::9')).toBe(true);
    expect(a.admit(new FakeConn(), '2001:db8:1:2::3')).toBe(false);
    expect(a.admit(new FakeConn(), '2001:db8:1:3::3')).toBe(true); // another /64
    a.authenticated(c1);
    expect(a.count('2001:db8:1:2::1')).toBe(1);
    c1.close(); // already released: no double count
    expect(a.count('2001:db8:1:2::1')).toBe(1);
    c2.close();
    expect(a.count('2001:db8:1:2::1')).toBe(0);
    expect(a.admit(new FakeConn(), '2001:db8:1:2::1')).toBe(true);
  });
});
