import { loadEnrollment, type Enrollment } from '../identity/load';
import { ModelStore } from '../training/model-store';

/** An enrolled site's enrollment and its verified model versions (checked against the pinned coordinator key). */
export function openSiteModels(dataDir: string): { enrollment: Enrollment; models: ModelStore } {
  const enrollment = loadEnrollment(dataDir);
  return { enrollment, models: new ModelStore(dataDir, enrollment.coordinator.signPublicKey) };
}
