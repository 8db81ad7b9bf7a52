/** Reads a federation plan file and validates it locally with the shared PlanSchema before anything is sent. */
import { readFile } from 'node:fs/promises';
import { PlanSchema, TwinfedError, type Plan } from '@twinfed/shared';
import { formatPath } from './report-error';

/**
 * Reads and validates `file`. Throws `INVALID_PLAN` (exit status 2) when the file cannot be read, is not
 * JSON, or does not match the schema; the zod issues travel in `details.issues` as `{path, message}`.
 */
export async function readPlanFile(file: string): Promise<Plan> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? 'error';
    throw new TwinfedError('INVALID_PLAN', `Cannot read the plan file ${file} (${code}).`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new TwinfedError('INVALID_PLAN', `The plan file ${file} is not valid JSON: ${(e as Error).message}`);
  }
  const parsed = PlanSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
    const n = issues.length;
    throw new TwinfedError(
      'INVALID_PLAN',
      `The plan file ${file} is not a valid federation plan: ${n} problem${n === 1 ? '' : 's'}`,
      {
        details: { issues },
      },
    );
  }
  return parsed.data;
}
