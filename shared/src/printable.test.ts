import { printable, printableJson } from './printable';

describe('printable', () => {
  test('shows ESC/CSI sequences, other C0/C1 controls and DEL as visible escapes', () => {
    expect(printable('auc\x1b[2J\x1b]0;pwned\x07')).toBe('auc\\x1b[2J\\x1b]0;pwned\\x07');
    expect(printable('a\u009b31mb\x7f\x00')).toBe('a\\x9b31mb\\x7f\\x00');
    expect(printable('x\ny\r\tz')).toBe('x\\x0ay\\x0d\\x09z');
  });

  test('shows bidirectional overrides and line separators', () => {
    expect(printable('site\u202Eevil\u2066\u2028')).toBe('site\\u{202e}evil\\u{2066}\\u{2028}');
  });

  test('keeps ordinary text, accents and symbols as they are', () => {
    const s = 'Charité — accuracy 0.75 (0.70–0.80) ε ≤ 1 …';
    expect(printable(s)).toBe(s);
  });

  test('keepNewlines leaves line breaks of a rendered output but nothing else', () => {
    expect(printable('a\nb\x1b[31m\r\n', { keepNewlines: true })).toBe('a\nb\\x1b[31m\\x0d\n');
  });

  test('printableJson escapes what JSON.stringify leaves raw and parses back to the same value', () => {
    const value = { 'x\u001b[2Jy': 'a\u009b31m\u202Eb\u2028', n: [1, 'Charité'] };
    const text = printableJson(value);
    // eslint-disable-next-line no-control-regex -- the test asserts that no control character reaches the output
    expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u202e\u2028]/);
    expect(text).toContain('\\u009b');
    expect(JSON.parse(text)).toEqual(value);
  });
});
