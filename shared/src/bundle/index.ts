/** Self-describing model bundles: manifest, TensorFlow.js layers artifacts, writing, reading and offline verification. */
export * from './layers-model';
export * from './manifest';
export * from './files';
export * from './verify';
