/**
 * Log sequence numbers. Kept as JavaScript numbers: exact below 2^53 bytes of WAL (8 PiB), and
 * much cheaper than bigints on the hot path. Written as PostgreSQL and Estuary write them: `X/Y`,
 * uppercase hex, no padding.
 */
export type Lsn = number;

const TWO_32 = 4294967296;

export function formatLsn(lsn: Lsn): string {
  const hi = Math.floor(lsn / TWO_32);
  const lo = lsn - hi * TWO_32;
  return `${hi.toString(16).toUpperCase()}/${lo.toString(16).toUpperCase()}`;
}

export function parseLsn(text: string): Lsn {
  const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text);
  if (!m) throw new Error(`invalid LSN ${JSON.stringify(text)}: expected the form X/Y in hex`);
  return parseInt(m[1]!, 16) * TWO_32 + parseInt(m[2]!, 16);
}

/** Reads a 64-bit LSN at `offset`. */
export function readLsn(buf: Buffer, offset: number): Lsn {
  return buf.readUInt32BE(offset) * TWO_32 + buf.readUInt32BE(offset + 4);
}

export function writeLsn(buf: Buffer, lsn: Lsn, offset: number): void {
  const hi = Math.floor(lsn / TWO_32);
  buf.writeUInt32BE(hi, offset);
  buf.writeUInt32BE(lsn - hi * TWO_32, offset + 4);
}
