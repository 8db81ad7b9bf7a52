/** Weight sets: layout types, their zod schemas and the binary wire format. */
export * from './types';
export * from './layout-schema';
export * from './endian';
export * from './serialize';
