/** Authentication of site → coordinator traffic: signed HTTP requests and signed socket handshakes. */
export * from './headers';
export * from './request-signing';
export * from './handshake';
