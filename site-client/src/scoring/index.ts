/** Susceptibility scoring of twins with explanations a clinician reads: decision support, not a replacement for clinicians. */
export { derivationLabel, describeContribution, formatContribution, formatNumber, LOINC_NAMES, UCUM_DISPLAY, type DescribeOptions } from './describe';
export { fitPreprocessing, modelInput, type FitPreprocessingOptions, type Preprocessing } from './preprocess';
export { scoreTwins, type ScoreContribution, type ScoreTwinsOptions, type TwinScore } from './score';
