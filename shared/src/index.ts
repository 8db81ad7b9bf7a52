/**
 * @twinfed/shared — the contract between twinfed's coordinator, site clients, operators and researchers:
 * protocol constants, zod schemas of every message, socket.io event maps, error codes, weight
 * serialisation, crypto (the only tweetnacl importer), model layouts and seeded randomness.
 */
export * from './errors';
export * from './client-behaviour';
export * from './protocol';
export * from './events';
export * from './random';
export * from './torch-random';
export * from './dp';
export * from './printable';
export * from './model-spec';
export * from './schemas/plan';
export * from './schemas/plan-json-schema';
export * from './schemas/features';
export * from './schemas/population';
export * from './schemas/names';
export * from './schemas/api';
export * from './schemas/secagg';
export * from './weights';
export * from './crypto';
export * from './auth';
export * from './envelope';
export * from './net';
export * from './normalization';
export * from './bundle';
export * from './audit';
