/** Free TCP ports on loopback addresses, for daemons that must be told their port up front. */
import { createServer } from 'node:net';

/**
 * A TCP port that is free on `host` right now: listen on port 0, read the port the kernel chose, close. Another
 * process could take it before the caller binds it; the kernel hands out ephemeral ports in a rotating order, so
 * that is rare in practice. `host` must be a loopback address (127.0.0.0/8 or ::1).
 */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host, port: 0, exclusive: true }, () => {
      const address = server.address();
      if (address === null || typeof address === 'string') {
        server.close();
        reject(new Error(`could not read the port bound on ${host}`));
        return;
      }
      server.close(() => resolve(address.port));
    });
  });
}

/** Several distinct free ports on `host`. */
export async function freePorts(count: number, host = '127.0.0.1'): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host));
  return [...ports];
}
