/** Tamper-evident audit logs: hash chain and signed heads. */
export * from './chain';
export * from './signed-head';
export * from './schemas';
export * from './trail';
