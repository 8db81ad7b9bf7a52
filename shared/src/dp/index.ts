export * from './gaussian-accountant';
export * from './skellam';
export * from './distributed';
export * from './ddp-codec';
