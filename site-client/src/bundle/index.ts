/** Model bundles at the site: export of the verified version with this site's preprocessing, and scoring a CSV with a bundle. */
export { exportSiteBundle, type SiteExportOptions, type SiteExportResult } from './site-export';
export { checkMapping, predictCsv, predictionsCsv, PredictMappingSchema, type PredictMapping, type PredictedRow, type PredictResult } from './predict-bundle';
