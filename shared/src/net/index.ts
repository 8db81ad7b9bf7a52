export * from './secure-url';
export * from './tls-client';
