/** The allow-list used by collector tests: 127.0.0.0/24 only, so 127.0.0.66 stands in for a stranger. */
export function addressIsLoopbackAllowed(address: string): boolean {
  const parts = address.split('.').map(Number);
  return parts.length === 4 && parts[0] === 127 && parts[1] === 0 && parts[2] === 0 && parts[3] < 64;
}
