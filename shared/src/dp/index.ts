export * from './gaussian-accountant';
