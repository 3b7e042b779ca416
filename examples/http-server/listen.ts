// Listening for the examples' `main`: on 127.0.0.1, port $PORT or any free one.

import type { Server as NetServer } from 'node:net';

/** Starts listening and resolves with the port it got. */
export async function listenOnLoopback(server: NetServer): Promise<number> {
  await new Promise<void>((resolve) => server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return address.port;
}
