export * from './site-state';
export * from './enroll';
export * from './load';
