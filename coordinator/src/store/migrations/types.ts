/** A numbered schema migration; versions are applied in ascending order, each exactly once. */
export type { Migration } from '@twinfed/sqlite-kit';
