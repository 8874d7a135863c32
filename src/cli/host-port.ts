/** "HOST:PORT", "[IPv6]:PORT" or ":PORT" (all addresses) → host and port. */
export function parseHostPort(text: string, defaultHost = '0.0.0.0'): { host: string; port: number } | string {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim());
  if (!match) return `"${text}" is not HOST:PORT (IPv6 as [ADDR]:PORT)`;
  const port = Number(match[3]);
  if (port > 65535) return `port ${port} is out of range`;
  const host = match[1] ?? match[2] ?? '';
  return { host: host === '' ? defaultHost : host, port };
}
