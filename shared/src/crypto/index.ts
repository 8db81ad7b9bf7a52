/** Cryptography of twinfed (the only tweetnacl and shamir-secret-sharing importer): identities, signatures, boxes, key files, tokens, secure sums, secure aggregation. */
export * from './encoding';
export * from './hash';
export * from './identity';
export * from './signature';
export * from './box';
export * from './key-file';
export * from './token';
export * from './secure-sum';
export * from './secure-sum-cohort';
export * from './uniform';
export * from './ring64';
export * from './secagg';
export * from './secagg-payload';
export * from './bench';
export * from './secagg-bench';
