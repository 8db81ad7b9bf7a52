/**
 * @twinfed/models — everything that touches tfjs (the only package that does): backend choice,
 * model building, local training with FedProx/SCAFFOLD terms, prediction, explanations (linear, integrated
 * gradients, Shapley values over any batched scorer); plus
 * tfjs-free datasets (FLamby's Fed-Heart-Disease, mapped CSVs) and evaluation metrics.
 *
 * Exported here: what another workspace imports (tests/src/hygiene/public-surface.test.ts checks both ways).
 */
export { type BackendPreference, initBackend } from './backend';
export { checkCsvDataset } from './csv-dataset-checks';
export { CsvMappingSchema, parseCsvDataset, type RejectedRow } from './csv-dataset';
export {
  applyStandardizer,
  assertSplit,
  concatSplits,
  fitStandardizer,
  type Split,
  type Standardizer,
  STD_EPSILON,
} from './dataset';
export { explain, type ExplainMethod, resolveExplainMethod } from './explain';
export {
  type ClientDataset,
  HEART_DISEASE_CENTERS,
  HEART_DISEASE_FEATURES,
  loadHeartDisease,
  loadHeartDiseasePooled,
} from './heart-disease';
export {
  evaluate,
  evaluateModel,
  evaluationMetrics,
  type EvaluateOptions,
  type Evaluation,
  modelOutputs,
  predict,
  predictCoxRisk,
  type SurvivalEvaluation,
} from './predict';
export { calibrationBins, expectedCalibrationError } from './metrics';
export {
  createTrainer,
  type CreateTrainerOptions,
  type Trainer,
  type TrainRoundOptions,
  type TrainRoundResult,
} from './train';
