/**
 * The public surface of each product package: the names its `src/index.ts` exports (resolved by the TypeScript
 * compiler, so an `export *` chain counts every name it lets through, and a namespace export counts its members), and
 * the names the other workspaces (tests/ included) import from it. A deliberate surface has the two sets equal.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { PRODUCT_PACKAGES } from './dist-contents';

type ProductPackage = (typeof PRODUCT_PACKAGES)[number];
const WORKSPACES = [...PRODUCT_PACKAGES, 'tests'] as const;

/** Names exported by each package's `src/index.ts`, sorted; a namespace export contributes `ns.member` names. */
export function exportedNames(root: string): Record<ProductPackage, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(
    path.join(root, 'tsconfig.test.json'),
    {},
    { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined },
  );
  if (!config) throw new Error('tsconfig.test.json could not be read');
  const indexes = PRODUCT_PACKAGES.map((p) => path.join(root, p, 'src', 'index.ts'));
  const program = ts.createProgram(indexes, { ...config.options, noEmit: true });
  const checker = program.getTypeChecker();
  const out = {} as Record<ProductPackage, string[]>;
  PRODUCT_PACKAGES.forEach((pkg, i) => {
    const moduleSymbol = checker.getSymbolAtLocation(program.getSourceFile(indexes[i]!)!);
    const names: string[] = [];
    for (const sym of moduleSymbol ? checker.getExportsOfModule(moduleSymbol) : []) {
      const target = sym.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(sym) : sym;
      const decl = target.declarations?.[0];
      if (decl && ts.isSourceFile(decl))
        for (const m of checker.getExportsOfModule(target)) names.push(`${sym.name}.${m.name}`);
      else names.push(sym.name);
    }
    out[pkg] = names.sort();
  });
  return out;
}

function sourceFiles(dir: string, out: string[] = []): string[] {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) sourceFiles(p, out);
    else if (e.name.endsWith('.ts')) out.push(p);
  }
  return out;
}

/**
 * For each package, the names the other workspaces import from `@twinfed/<package>` (named imports, named re-exports,
 * destructured dynamic imports, members of a namespace import), each with the files that import it.
 */
export function importedNames(root: string): Record<ProductPackage, Map<string, string[]>> {
  const out = Object.fromEntries(PRODUCT_PACKAGES.map((p) => [p, new Map<string, string[]>()])) as Record<
    ProductPackage,
    Map<string, string[]>
  >;
  for (const workspace of WORKSPACES) {
    for (const file of sourceFiles(path.join(root, workspace, 'src'))) {
      const rel = path.relative(root, file);
      const add = (specifier: string, name: string): void => {
        const pkg = /^@twinfed\/([a-z-]+)$/.exec(specifier)?.[1] as ProductPackage | undefined;
        if (!pkg || pkg === (workspace as string) || !(pkg in out)) return;
        const files = out[pkg].get(name) ?? [];
        if (!files.includes(rel)) files.push(rel);
        out[pkg].set(name, files);
      };
      const sf = ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
      const namespaces = new Map<string, string>();
      const visit = (n: ts.Node): void => {
        if (
          (ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) &&
          n.moduleSpecifier &&
          ts.isStringLiteral(n.moduleSpecifier)
        ) {
          const spec = n.moduleSpecifier.text;
          const bindings = ts.isImportDeclaration(n) ? n.importClause?.namedBindings : n.exportClause;
          if (bindings && (ts.isNamedImports(bindings) || ts.isNamedExports(bindings)))
            for (const e of bindings.elements) add(spec, (e.propertyName ?? e.name).text);
          if (bindings && ts.isNamespaceImport(bindings)) namespaces.set(bindings.name.text, spec);
          if (ts.isImportDeclaration(n) && n.importClause?.name) add(spec, 'default');
        }
        if (ts.isVariableDeclaration(n) && n.initializer && ts.isObjectBindingPattern(n.name)) {
          const init = ts.isAwaitExpression(n.initializer) ? n.initializer.expression : n.initializer;
          if (
            ts.isCallExpression(init) &&
            init.expression.kind === ts.SyntaxKind.ImportKeyword &&
            init.arguments[0] &&
            ts.isStringLiteral(init.arguments[0])
          ) {
            for (const e of n.name.elements)
              add(init.arguments[0].text, ((e.propertyName ?? e.name) as ts.Identifier).text);
          }
        }
        if (ts.isPropertyAccessExpression(n) && ts.isIdentifier(n.expression) && namespaces.has(n.expression.text))
          add(namespaces.get(n.expression.text)!, n.name.text);
        if (ts.isQualifiedName(n) && ts.isIdentifier(n.left) && namespaces.has(n.left.text))
          add(namespaces.get(n.left.text)!, n.right.text);
        ts.forEachChild(n, visit);
      };
      visit(sf);
    }
  }
  return out;
}
