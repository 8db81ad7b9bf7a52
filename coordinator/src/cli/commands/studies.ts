/** `twinfed studies create|list`: the studies (named projects) that federations and researcher tokens belong to. */
import type { Command } from 'commander';
import type { StudyView } from '@twinfed/shared';
import { createContext, type CliDeps } from '../context';
import { renderKeyValues, renderTable } from '../format';

/** Adds the `studies` command group to `program`. */
export function registerStudies(program: Command, deps: CliDeps): void {
  const studies = program
    .command('studies')
    .description(
      'Studies: every federation belongs to one, and a researcher token reads only the federations of its studies.',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  $ twinfed studies create "Heart 2026" --description "Fed-Heart-Disease cohorts"\n  $ twinfed studies list\n' +
        '  $ twinfed federations create --plan plan.json --study <study id>\n' +
        '  $ twinfed tokens create "Dr Ada Lovelace" --study <study id>\n',
    );

  studies
    .command('create')
    .description('Create a study. Federations created without --study belong to the study "default".')
    .argument('<name>', 'unique among studies (letters, digits, space, dot, colon, dash, underscore)')
    .option('--description <text>', 'one line saying what the study is for')
    .action(async (name: string, opts: { description?: string }, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const s = await ctx.client.createStudy({
        name,
        ...(opts.description === undefined ? {} : { description: opts.description }),
      });
      ctx.emit(s, () =>
        [
          renderKeyValues([
            ['study', s.id],
            ['name', s.name],
            ['description', s.description],
            ['created', s.createdAt],
          ]),
          `Create its federations with: twinfed federations create --plan plan.json --study ${s.id}`,
          `and its researchers' tokens with: twinfed tokens create "<name>" --study ${s.id}`,
        ].join('\n'),
      );
    });

  studies
    .command('list')
    .description('List the studies this token may read (an operator token: all of them).')
    .action(async (_opts: unknown, cmd: Command) => {
      const ctx = createContext(cmd, deps);
      const list = await ctx.client.listStudies();
      ctx.emit(list, () =>
        renderTable<StudyView>(list, [
          { header: 'ID', cell: (s) => s.id },
          { header: 'NAME', cell: (s) => s.name },
          { header: 'DESCRIPTION', cell: (s) => s.description },
          { header: 'CREATED', cell: (s) => s.createdAt },
        ]),
      );
    });
}
