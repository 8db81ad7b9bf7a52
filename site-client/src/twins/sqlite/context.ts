export { SqlContext } from '@twinfed/sqlite-kit';
