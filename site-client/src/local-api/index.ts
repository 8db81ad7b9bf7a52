/** The site's local, authenticated HTTP API: wearable observations in, live scores out (127.0.0.1 by default). */
export { DEFAULT_LOCAL_API_PORT, scoreView, startLocalApi, type LocalApi, type LocalApiOptions } from './server';
export { bearerChecker, loadOrCreateLocalApiToken, LOCAL_API_TOKEN_FILE } from './token';
