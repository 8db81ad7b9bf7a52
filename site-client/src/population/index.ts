/** Privacy-safe population aggregates of scored twins: k-anonymous, optionally Laplace-noised counts per risk tier × age band. */
export { laplace, seededUniform, type UniformSource } from './noise';
export { populationReport, type PopulationReportOptions } from './report';
export { suppressTable, type Suppression, type SuppressTableOptions } from './suppression';
