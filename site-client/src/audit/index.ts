export * from './site-audit';
