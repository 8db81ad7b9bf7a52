/** Feature derivation from digital twins: the same numbers at every site from the same plan. */
export { ageAt } from './age';
export { conditionMatches } from './codes';
export { hasConsent } from './consent';
export { buildDataset, buildLocalDataset, twinSchemaOf, type BuildDatasetOptions, type BuildLocalDatasetOptions, type TwinDataset, type TwinLocalDataset } from './dataset';
export { deriveFeatures, inWindow, leastSquaresSlopePerDay, type DeriveFeaturesOptions, type DerivedRow } from './derive';
export { fitFillValues, imputeRow, type FitFillOptions } from './impute';
export { deriveLabel, type DeriveLabelOptions } from './label';
