import { parseInstant } from './time';

describe('parseInstant', () => {
  test.each([
    ['2024', Date.UTC(2024, 0, 1)],
    ['2024-03', Date.UTC(2024, 2, 1)],
    ['2024-03-05', Date.UTC(2024, 2, 5)],
    ['2024-03-05T10:20:30Z', Date.UTC(2024, 2, 5, 10, 20, 30)],
    ['2024-03-05T10:20:30.250Z', Date.UTC(2024, 2, 5, 10, 20, 30, 250)],
    ['2024-03-05T10:20:30+02:00', Date.UTC(2024, 2, 5, 8, 20, 30)],
    ['2024-03-05T10:20-05:30', Date.UTC(2024, 2, 5, 15, 50)],
    [' 2024-03-05 ', Date.UTC(2024, 2, 5)],
  ])('%s', (text, ms) => {
    expect(parseInstant(text)).toBe(ms);
  });

  test.each([
    '',
    'yesterday',
    '2024-13-01',
    '2024-02-30',
    '2024-03-05T25:00:00Z',
    '2024-03-05T10:20:30',
    '2024-03-05 10:20',
    '05/03/2024',
    '2024-03-05T10:20:30+2',
  ])('refuses %p', (text) => {
    expect(parseInstant(text)).toBeNull();
  });

  test('applies a default zone to zone-less times of day only when asked', () => {
    expect(parseInstant('2024-03-05 10:20', { defaultZone: 'Z' })).toBe(Date.UTC(2024, 2, 5, 10, 20));
    expect(parseInstant('2024-03-05T10:20:00', { defaultZone: '+01:00' })).toBe(Date.UTC(2024, 2, 5, 9, 20));
    expect(parseInstant('2024-03-05T10:20:00Z', { defaultZone: '+01:00' })).toBe(Date.UTC(2024, 2, 5, 10, 20));
    expect(parseInstant('2024-03-05T10:20:00', { defaultZone: 'CET' })).toBeNull();
  });
});
