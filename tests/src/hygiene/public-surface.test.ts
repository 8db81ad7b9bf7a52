/**
 * Each product package exports exactly what the other workspaces import from it: nothing unused is public, and
 * nothing is reached around the index (a name another package needs is added to its index on purpose).
 */
import { repoRoot } from '../support/paths';
import { PRODUCT_PACKAGES } from './dist-contents';
import { exportedNames, importedNames } from './public-surface';

describe('public surface', () => {
  const root = repoRoot();
  const exported = exportedNames(root);
  const imported = importedNames(root);

  test.each(PRODUCT_PACKAGES)(
    '@twinfed/%s exports only names another workspace imports, and every name they import',
    (pkg) => {
      const used = new Set(imported[pkg].keys());
      expect({ exportedButUnused: exported[pkg].filter((n) => !used.has(n)) }).toEqual({ exportedButUnused: [] });
      expect({ importedButNotExported: [...used].filter((n) => !exported[pkg].includes(n)).sort() }).toEqual({
        importedButNotExported: [],
      });
    },
  );

  test('the analysis finds the exports and the imports across workspaces, tests/ included', () => {
    expect(exported.coordinator).toContain('startCoordinator');
    expect(imported.coordinator.get('startCoordinator')).toContain('tests/src/bench/flamby/consortium.ts');
    expect(imported.shared.get('TwinfedError')!.length).toBeGreaterThan(10);
    expect(imported.models.has('createTrainer')).toBe(true);
  });
});
