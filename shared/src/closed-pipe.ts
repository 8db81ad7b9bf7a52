/**
 * A CLI whose reader went away (`twinfed … | head`, a closed pipe) stops quietly, as Unix tools do: status 0 and no
 * EPIPE stack trace. Any other error on the stream stays what it was (an uncaught error).
 */
export function exitQuietlyOnClosedPipe(
  stream: NodeJS.WritableStream,
  exit: (code: number) => void = (code) => process.exit(code),
): void {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    exit(0);
  });
}
