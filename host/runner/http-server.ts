/** Starting and stopping the runner's HTTP servers (proxy, echo upstream, admin, control plane). */
import type http from "node:http";
import type { AddressInfo } from "node:net";

/** Listens on host:port (0 = any free port) and resolves to the bound port. */
export async function listen(server: http.Server, port: number, host: string, backlog = 511): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen({ port, host, backlog }, () => resolve());
  });
  return (server.address() as AddressInfo).port;
}

/** Closes the server and every open connection (keep-alive ones included). */
export async function closeServer(server: http.Server | undefined): Promise<void> {
  if (!server) return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}
