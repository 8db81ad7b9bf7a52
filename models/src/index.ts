/**
 * @twinfed/models — everything that touches tfjs (the only package that does): backend choice,
 * model building, local training with FedProx/SCAFFOLD terms, prediction, explanations; plus
 * tfjs-free datasets (FLamby's Fed-Heart-Disease, mapped CSVs) and evaluation metrics.
 */
export { initBackend, wasmDistDir, type BackendPreference, type InitBackendOptions } from './backend';
export {
  applyStandardizer,
  assertSplit,
  concatSplits,
  fitStandardizer,
  rowOf,
  splitFromRows,
  STD_EPSILON,
  type Matrix,
  type Split,
  type Standardizer,
} from './dataset';
export {
  dataDir,
  HEART_DISEASE_CENTERS,
  HEART_DISEASE_FEATURES,
  loadHeartDisease,
  loadHeartDiseasePooled,
  readRawCenter,
  type ClientDataset,
  type HeartDiseaseOptions,
  type Normalization,
} from './heart-disease';
export { CsvMappingSchema, MAX_LABEL_VALUES, isMissingCell, parseCsvDataset, type CsvColumnProfile, type CsvDataset, type CsvLabelProfile, type CsvMapping, type CsvProfile, type ParseCsvOptions, type RejectedRow } from './csv-dataset';
export { checkCsvDataset } from './csv-dataset-checks';
export { assertWeights, createModel, forwardLogits, type CreateModelOptions, type TfModel } from './model';
export { BatchSchedule, type BatchSlot } from './batches';
export { createTrainer, type CreateTrainerOptions, type Trainer, type TrainRoundOptions, type TrainRoundResult } from './train';
export {
  accuracy,
  brierScore,
  calibrationBins,
  expectedCalibrationError,
  logLoss,
  LOG_LOSS_EPSILON,
  rocAuc,
  type CalibrationBin,
  type Scored,
} from './metrics';
export { evaluate, predict, type EvaluateOptions, type Evaluation, type PredictOptions } from './predict';
export { explain, type Contribution, type ExplainOptions } from './explain';
