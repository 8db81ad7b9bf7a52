/**
 * Static checks of the Docker Compose files under docker/, without Docker: each file parses; every build context and
 * Dockerfile and every bind-mounted host path exists; every named volume is declared; every `twinfed …` /
 * `twinfed-site …` command names a real subcommand and only options its `--help` lists; every `TWINFED_*` variable
 * set is one the code reads; and an nginx configuration mounted into a service has balanced braces and an upstream
 * whose servers are services of the file. Each check returns problems as sentences; none means the file is fine.
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';

/** The two command-line programs of the image and the compiled script each runs. */
export type Bin = 'twinfed' | 'twinfed-site';

/** One `twinfed …` invocation found in a service's command. */
interface Invocation {
  readonly bin: Bin;
  /** Subcommand words before the first option, e.g. `['coordinator', 'start']`. */
  readonly words: readonly string[];
  /** Long options used, without values: `['--host', '--trust-proxy']`. */
  readonly options: readonly string[];
}

/** What the checks need from outside the file: the CLI help of a subcommand and the variables the code reads. */
export interface ComposeContext {
  /** `<bin> <words…> --help`, stdout and stderr together. */
  readonly help: (bin: Bin, words: readonly string[]) => string;
  /** Every `TWINFED_*` name in the product source. */
  readonly envNames: ReadonlySet<string>;
}

type Service = {
  build?: string | { context?: string; dockerfile?: string };
  command?: string | string[];
  environment?: Record<string, unknown> | string[];
  volumes?: (string | { type?: string; source?: string; target?: string })[];
};

const SHELL_OPERATORS = new Set(['&&', '||', ';', '|']);

/** Splits a shell script into words (single and double quotes kept together) and operators. */
function shellWords(script: string): string[] {
  const words: string[] = [];
  for (const m of script.matchAll(/'([^']*)'|"([^"]*)"|(&&|\|\||[;|])|([^\s'";|&]+)/g))
    words.push(m[1] ?? m[2] ?? m[3] ?? m[4]!);
  return words;
}

/** The `twinfed` / `twinfed-site` invocations in a compose `command` (an exec array, a string, or `sh -c <script>`). */
export function invocations(command: string | readonly string[] | undefined): Invocation[] {
  if (command === undefined) return [];
  const argv = typeof command === 'string' ? shellWords(command) : [...command];
  const words = ['sh', 'bash'].includes(argv[0] ?? '') && argv[1] === '-c' ? shellWords(argv[2] ?? '') : argv;
  const found: Invocation[] = [];
  words.forEach((w, i) => {
    if (w !== 'twinfed' && w !== 'twinfed-site') return;
    let end = words.findIndex((x, j) => j > i && SHELL_OPERATORS.has(x));
    if (end < 0) end = words.length;
    const args = words.slice(i + 1, end);
    const firstOption = args.findIndex((a) => a.startsWith('-'));
    found.push({
      bin: w,
      words: firstOption < 0 ? args : args.slice(0, firstOption),
      options: args.filter((a) => a.startsWith('--')).map((a) => a.split('=')[0]!),
    });
  });
  return found;
}

/** Problems with one invocation: an unknown subcommand (no `Usage: <bin> <words>` in its help) or an option its help does not list. */
function invocationProblems(inv: Invocation, help: ComposeContext['help']): string[] {
  const text = help(inv.bin, inv.words);
  const name = [inv.bin, ...inv.words].join(' ');
  if (!text.split('\n').some((line) => line.startsWith(`Usage: ${name} `)))
    return [`\`${name}\` is not a subcommand (its --help prints no "Usage: ${name}" line)`];
  // Option lines of the help ("  --out <dir>  …", "  -h, --help  …"), not options merely mentioned in a description.
  const listed = new Set([...text.matchAll(/^ {2}(?:-\w, )?(--[a-z][a-z0-9-]*)/gm)].map((m) => m[1]!));
  return inv.options.filter((o) => !listed.has(o)).map((o) => `\`${name}\` has no option ${o}`);
}

function envKeys(environment: Service['environment']): string[] {
  if (environment === undefined) return [];
  return Array.isArray(environment) ? environment.map((e) => e.split('=')[0]!) : Object.keys(environment);
}

/** Host paths of bind mounts and names of volumes a service mounts. */
function mounts(service: Service): { binds: string[]; volumes: string[] } {
  const binds: string[] = [];
  const volumes: string[] = [];
  for (const v of service.volumes ?? []) {
    const source = typeof v === 'string' ? (v.includes(':') ? v.split(':')[0]! : undefined) : v.source;
    if (source === undefined || source === '') continue; // an anonymous volume
    const bind = typeof v === 'string' ? /^[./~]/.test(source) : v.type === 'bind';
    (bind ? binds : volumes).push(source);
  }
  return { binds, volumes };
}

/** Problems with a mounted nginx configuration: unbalanced braces, or an upstream server that is not a service. */
export function nginxProblems(text: string, services: ReadonlySet<string>): string[] {
  const code = text.replace(/#.*$/gm, '');
  let depth = 0;
  for (const c of code) {
    if (c === '{') depth++;
    if (c === '}' && --depth < 0) break;
  }
  if (depth !== 0) return ['unbalanced braces'];
  const problems: string[] = [];
  const upstreams = [...code.matchAll(/\bupstream\s+\S+\s*\{([^}]*)\}/g)];
  if (upstreams.length === 0) problems.push('no upstream block');
  for (const [, body] of upstreams)
    for (const [, host, port] of body!.matchAll(/\bserver\s+([^\s:;]+)(?::(\d+))?/g))
      if (!services.has(host!) || port !== '8470')
        problems.push(`upstream server ${host}:${port ?? '80'} is not a coordinator service of this file on port 8470`);
  return problems;
}

/**
 * Problems with a mounted Prometheus configuration: it must scrape `/metrics` of every coordinator service of the file
 * (each replica directly, on 8470), of nothing else, with a bearer token from a file (`/metrics` needs one).
 */
export function prometheusProblems(text: string, coordinators: ReadonlySet<string>): string[] {
  let doc: {
    scrape_configs?: Array<{
      job_name?: string;
      metrics_path?: string;
      authorization?: { credentials_file?: string };
      static_configs?: Array<{ targets?: string[] }>;
    }>;
  };
  try {
    doc = parse(text) as typeof doc;
  } catch (e) {
    return [`does not parse: ${(e as Error).message}`];
  }
  const problems: string[] = [];
  const scraped = new Set<string>();
  for (const job of doc?.scrape_configs ?? []) {
    const name = job.job_name ?? '?';
    if ((job.metrics_path ?? '/metrics') !== '/metrics')
      problems.push(`job ${name} scrapes ${job.metrics_path}, not /metrics`);
    if (!job.authorization?.credentials_file)
      problems.push(`job ${name} sends no bearer token (authorization.credentials_file)`);
    for (const target of (job.static_configs ?? []).flatMap((s) => s.targets ?? [])) {
      const [host, port] = target.split(':');
      if (!coordinators.has(host!) || port !== '8470')
        problems.push(`target ${target} is not a coordinator service of this file on port 8470`);
      scraped.add(host!);
    }
  }
  for (const c of coordinators) if (!scraped.has(c)) problems.push(`coordinator service ${c} is not scraped`);
  return problems;
}

/** Every problem of the compose file `file`; paths in the messages are relative to its directory. */
export function composeProblems(file: string, ctx: ComposeContext): string[] {
  const dir = path.dirname(file);
  let doc: { services?: Record<string, Service>; volumes?: Record<string, unknown> };
  try {
    doc = parse(fs.readFileSync(file, 'utf8')) as typeof doc;
  } catch (e) {
    return [`does not parse: ${(e as Error).message}`];
  }
  const services = doc.services ?? {};
  const declared = new Set(Object.keys(doc.volumes ?? {}));
  const problems: string[] = [];
  if (Object.keys(services).length === 0) problems.push('no services');
  const coordinators = new Set(
    Object.entries(services)
      .filter(([, s]) =>
        invocations(s.command).some((i) => i.bin === 'twinfed' && i.words.join(' ') === 'coordinator start'),
      )
      .map(([name]) => name),
  );
  for (const [name, s] of Object.entries(services)) {
    const say = (p: string) => problems.push(`${name}: ${p}`);
    if (s.build !== undefined) {
      const context = path.resolve(dir, typeof s.build === 'string' ? s.build : (s.build.context ?? '.'));
      const dockerfile = path.resolve(context, (typeof s.build === 'object' && s.build.dockerfile) || 'Dockerfile');
      if (!fs.existsSync(context)) say(`build context ${path.relative(dir, context)} does not exist`);
      else if (!fs.existsSync(dockerfile)) say(`Dockerfile ${path.relative(dir, dockerfile)} does not exist`);
    }
    const { binds, volumes } = mounts(s);
    for (const b of binds) {
      if (!fs.existsSync(path.resolve(dir, b))) say(`bind-mounted ${b} does not exist`);
      else if (b.endsWith('nginx.conf'))
        for (const p of nginxProblems(fs.readFileSync(path.resolve(dir, b), 'utf8'), new Set(Object.keys(services))))
          say(`${b}: ${p}`);
      else if (b.endsWith('prometheus.yml'))
        for (const p of prometheusProblems(fs.readFileSync(path.resolve(dir, b), 'utf8'), coordinators))
          say(`${b}: ${p}`);
    }
    for (const v of volumes) if (!declared.has(v)) say(`volume ${v} is not declared under volumes:`);
    for (const inv of invocations(s.command)) for (const p of invocationProblems(inv, ctx.help)) say(p);
    for (const k of envKeys(s.environment))
      if (k.startsWith('TWINFED_') && !ctx.envNames.has(k)) say(`${k} is read nowhere in the product source`);
  }
  return problems;
}
