/** Wire envelopes: canonical JSON, encrypted+signed update envelopes, signed model versions and plans. */
export * from './canonical-json';
export * from './update-header';
export * from './update-envelope';
export * from './model-version';
export * from './signed-plan';
export * from './secagg-statements';
export * from './site-directory';
