/* Random (v4) UUIDs for client message ids, and the UUIDv7 order the server's ids follow. */

export function uuid(): string {
  return crypto.randomUUID();
}

/** UUIDv7 ids sort as text in time order (same case and length). */
export function compareIds(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

export function isLocalId(id: string): boolean {
  return id.startsWith('local:');
}
