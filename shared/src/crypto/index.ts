/** Cryptography of twinfed (the only tweetnacl importer): identities, signatures, boxes, key files, tokens. */
export * from './encoding';
export * from './hash';
export * from './identity';
export * from './signature';
export * from './box';
export * from './key-file';
export * from './token';
export * from './bench';
