/** Authentication of site → coordinator traffic: signed HTTP requests, signed socket handshakes, enrollment proofs. */
export * from './headers';
export * from './request-signing';
export * from './handshake';
export * from './enroll-proof';
