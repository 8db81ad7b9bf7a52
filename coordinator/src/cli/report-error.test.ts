import { CommanderError } from 'commander';
import { TwinfedError } from '@twinfed/shared';
import { formatPath, issueLines, reportError } from './report-error';
import { buffer } from './__tests__/harness';

describe('report-error', () => {
  test('formats paths', () => {
    expect(formatPath(['data', 'features', 3, 'x'])).toBe('data.features[3].x');
    expect(formatPath([])).toBe('(root)');
  });

  test('reads issues from arrays, {issues} and zod issues', () => {
    expect(issueLines([{ path: 'a.b', message: 'm' }, { nope: 1 }])).toEqual([{ path: 'a.b', message: 'm' }]);
    expect(issueLines({ issues: [{ path: ['x', 0], message: 'bad' }] })).toEqual([{ path: 'x[0]', message: 'bad' }]);
    expect(issueLines({ role: 'x' })).toEqual([]);
    expect(issueLines(undefined)).toEqual([]);
  });

  test('writes one line for a TwinfedError, newlines folded, stack only with debug', () => {
    const err = buffer();
    expect(reportError(new TwinfedError('ROUND_CLOSED', 'closed\n  now'), { stderr: err, debug: false })).toBe(1);
    expect(err.text).toBe('twinfed: closed now (ROUND_CLOSED)\n');
    const dbg = buffer();
    reportError(new TwinfedError('ROUND_CLOSED'), { stderr: dbg, debug: true });
    expect(dbg.text.split('\n')[0]).toBe('twinfed: The round is not accepting updates. (ROUND_CLOSED)');
    expect(dbg.text).toContain('TwinfedError: The round is not accepting updates.\n    at ');
  });

  test('input errors exit 2, unknown errors are INTERNAL', () => {
    expect(reportError(new TwinfedError('INVALID_PLAN'), { stderr: buffer(), debug: false })).toBe(2);
    const err = buffer();
    expect(reportError(new Error('boom'), { stderr: err, debug: false })).toBe(1);
    expect(err.text).toBe('twinfed: boom (INTERNAL)\n');
  });

  test('maps commander outcomes to exit codes without writing again', () => {
    const err = buffer();
    expect(
      reportError(new CommanderError(0, 'commander.helpDisplayed', '(outputHelp)'), { stderr: err, debug: false }),
    ).toBe(0);
    expect(reportError(new CommanderError(1, 'commander.unknownOption', 'x'), { stderr: err, debug: false })).toBe(2);
    expect(reportError(new CommanderError(1, 'commander.help', 'x'), { stderr: err, debug: false })).toBe(1);
    expect(err.text).toBe('');
  });
});
