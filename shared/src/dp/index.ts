export * from './gaussian-accountant';
export * from './skellam';
