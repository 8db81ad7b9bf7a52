/** Cryptography of twinfed (the only tweetnacl importer): identities, signatures, boxes, key files, tokens, secure sums. */
export * from './encoding';
export * from './hash';
export * from './identity';
export * from './signature';
export * from './box';
export * from './key-file';
export * from './token';
export * from './secure-sum';
export * from './bench';
