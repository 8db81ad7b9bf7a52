import { formatMetrics, renderKeyValues, renderTable, short } from './format';

describe('format', () => {
  const rows = [
    { id: 'a', n: 5, note: 'first' },
    { id: 'long-id', n: 123, note: null },
  ];
  const cols = [
    { header: 'ID', cell: (r: (typeof rows)[number]) => r.id },
    { header: 'N', cell: (r: (typeof rows)[number]) => r.n, right: true },
    { header: 'NOTE', cell: (r: (typeof rows)[number]) => r.note },
  ];

  test('aligns columns, right-aligns numbers, shows missing cells as "-" and trims trailing space', () => {
    expect(renderTable(rows, cols)).toBe(
      ['ID         N  NOTE', 'a          5  first', 'long-id  123  -', ''].join('\n'),
    );
  });

  test('renders an empty list as its placeholder', () => {
    expect(renderTable([], cols)).toBe('(none)\n');
    expect(renderTable([], cols, 'nothing here')).toBe('nothing here\n');
  });

  test('aligns key/value blocks', () => {
    expect(
      renderKeyValues([
        ['id', 'x'],
        ['long key', 3],
        ['empty', null],
      ]),
    ).toBe('id:       x\nlong key: 3\nempty:    -\n');
  });

  test('formats metrics sorted with 4 significant digits', () => {
    expect(formatMetrics({ loss: 0.123456, auc: 0.9, n: 12345.6 })).toBe('auc=0.9 loss=0.1235 n=12350');
    expect(formatMetrics(undefined)).toBe('');
  });

  test('shortens long values', () => {
    expect(short('0123456789abcdef0123')).toBe('0123456789abcdef…');
    expect(short('abc')).toBe('abc');
    expect(short(null)).toBe('');
  });

  test('escapes control characters in cells, headers, keys, values and metric names (text from the server)', () => {
    const evil = 'a\u001b[2J\u001b]0;owned\u0007\u009bb\nc';
    const table = renderTable([{ v: evil }], [{ header: `H${evil}`, cell: (r: { v: string }) => r.v }]);
    expect(table).toBe('Ha\\x1b[2J\\x1b]0;owned\\x07\\x9bb\\x0ac\na\\x1b[2J\\x1b]0;owned\\x07\\x9bb\\x0ac\n');
    expect(renderKeyValues([[evil, evil]])).toBe(
      'a\\x1b[2J\\x1b]0;owned\\x07\\x9bb\\x0ac: a\\x1b[2J\\x1b]0;owned\\x07\\x9bb\\x0ac\n',
    );
    expect(formatMetrics({ [evil]: 0.5 })).toBe('a\\x1b[2J\\x1b]0;owned\\x07\\x9bb\\x0ac=0.5');
  });
});
