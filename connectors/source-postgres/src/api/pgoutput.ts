import { FlowcapError } from "flowcap";
import { readLsn, type Lsn } from "../lsn.js";

/**
 * A decoder of pgoutput's logical replication messages, protocol version 1
 * (https://www.postgresql.org/docs/current/protocol-logicalrep-message-formats.html), written
 * here rather than taken from pg-logical-replication: that package turns values into JavaScript
 * types through pg's global parsers (a timestamp loses its microseconds and offset), while the
 * documents need PostgreSQL's own text, and decoding by hand is also faster (BENCHMARKS.md).
 */

/** A column value left out of the document: an unchanged TOAST value with no old value, or a non-key column of a key tuple. */
export const OMITTED: unique symbol = Symbol("omitted");
export type TupleValue = string | null | typeof OMITTED;

export interface RelationColumn {
  name: string;
  typeOid: number;
  isKey: boolean;
}

export interface Relation {
  oid: number;
  namespace: string;
  name: string;
  replicaIdentity: string;
  columns: RelationColumn[];
}

export interface Begin {
  tag: "B";
  finalLsn: Lsn;
  /** Commit time, Unix milliseconds. */
  commitMs: number;
  xid: number;
}

export interface Commit {
  tag: "C";
  commitLsn: Lsn;
  endLsn: Lsn;
}

export interface Change {
  tag: "I" | "U" | "D";
  relation: number;
  /** The row's values for inserts and updates; the old key or row for deletes. */
  values: TupleValue[];
  /** Updates: the old key (`K`) or row (`O`), when the message has one. */
  before: TupleValue[] | undefined;
}

export type Message = Begin | Commit | Change | { tag: "R"; relation: Relation } | { tag: "Y"; oid: number; namespace: string; name: string } | { tag: "T"; relations: number[] } | { tag: "O" } | { tag: "M" };

const US_PER_MS = 1000;
/** Milliseconds from the Unix epoch to 2000-01-01, PostgreSQL's. */
const PG_EPOCH_MS = 946_684_800_000;

function cstring(buf: Buffer, at: number): [string, number] {
  const end = buf.indexOf(0, at);
  return [buf.toString("utf8", at, end), end + 1];
}

/**
 * Decodes one tuple at `at`. `tupleType` K marks a key tuple (its NULLs are non-key columns,
 * left out); `old` fills unchanged TOAST values (`u`) of a new tuple.
 */
function decodeTuple(buf: Buffer, at: number, tupleType: number, old: TupleValue[] | undefined): [TupleValue[], number] {
  const count = buf.readUInt16BE(at);
  at += 2;
  const values: TupleValue[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const kind = buf[at++];
    if (kind === 0x74 /* t */) {
      const len = buf.readUInt32BE(at);
      at += 4;
      values[i] = buf.toString("utf8", at, at + len);
      at += len;
    } else if (kind === 0x6e /* n */) {
      values[i] = tupleType === 0x4b /* K */ ? OMITTED : null;
    } else if (kind === 0x75 /* u */) {
      values[i] = old !== undefined && i < old.length ? old[i]! : OMITTED;
    } else if (kind === 0x62 /* b */) {
      throw new FlowcapError("CAPTURE_FAILED", "binary column data type 'b' is not supported in replication");
    } else {
      throw new FlowcapError("CAPTURE_FAILED", `unexpected tuple value kind ${kind} in a replication message`);
    }
  }
  return [values, at];
}

/** Decodes one pgoutput message. */
export function decodeMessage(buf: Buffer): Message {
  const tag = buf[0];
  switch (tag) {
    case 0x42 /* B */: {
      const micros = buf.readBigInt64BE(9);
      return { tag: "B", finalLsn: readLsn(buf, 1), commitMs: Math.floor(Number(micros / BigInt(US_PER_MS))) + PG_EPOCH_MS, xid: buf.readUInt32BE(17) };
    }
    case 0x43 /* C */:
      return { tag: "C", commitLsn: readLsn(buf, 2), endLsn: readLsn(buf, 10) };
    case 0x49 /* I */: {
      if (buf[5] !== 0x4e) throw new FlowcapError("CAPTURE_FAILED", `expected 'N' tuple type in INSERT message, got ${JSON.stringify(String.fromCharCode(buf[5]!))}`);
      return { tag: "I", relation: buf.readUInt32BE(1), values: decodeTuple(buf, 6, 0x4e, undefined)[0], before: undefined };
    }
    case 0x55 /* U */: {
      const relation = buf.readUInt32BE(1);
      let at = 5;
      let before: TupleValue[] | undefined;
      if (buf[at] === 0x4b || buf[at] === 0x4f) {
        const type = buf[at]!;
        [before, at] = decodeTuple(buf, at + 1, type, undefined);
      }
      if (buf[at] !== 0x4e) throw new FlowcapError("CAPTURE_FAILED", "expected 'N' tuple type in UPDATE message");
      const [values] = decodeTuple(buf, at + 1, 0x4e, before);
      return { tag: "U", relation, values, before };
    }
    case 0x44 /* D */: {
      const type = buf[5]!;
      if (type !== 0x4b && type !== 0x4f) throw new FlowcapError("CAPTURE_FAILED", "expected 'O' or 'K' tuple type in DELETE message");
      return { tag: "D", relation: buf.readUInt32BE(1), values: decodeTuple(buf, 6, type, undefined)[0], before: undefined };
    }
    case 0x52 /* R */: {
      const oid = buf.readUInt32BE(1);
      let at = 5;
      let namespace: string;
      let name: string;
      [namespace, at] = cstring(buf, at);
      [name, at] = cstring(buf, at);
      const replicaIdentity = String.fromCharCode(buf[at++]!);
      const count = buf.readUInt16BE(at);
      at += 2;
      const columns: RelationColumn[] = [];
      for (let i = 0; i < count; i++) {
        const flags = buf[at++]!;
        let colName: string;
        [colName, at] = cstring(buf, at);
        const typeOid = buf.readUInt32BE(at);
        at += 8; // type oid, typmod
        columns.push({ name: colName, typeOid, isKey: (flags & 1) === 1 });
      }
      // An empty namespace means pg_catalog.
      return { tag: "R", relation: { oid, namespace: namespace || "pg_catalog", name, replicaIdentity, columns } };
    }
    case 0x59 /* Y */: {
      const oid = buf.readUInt32BE(1);
      const [namespace, at] = cstring(buf, 5);
      const [name] = cstring(buf, at);
      return { tag: "Y", oid, namespace, name };
    }
    case 0x54 /* T */: {
      const count = buf.readUInt32BE(1);
      const relations: number[] = [];
      for (let i = 0; i < count; i++) relations.push(buf.readUInt32BE(6 + 4 * i));
      return { tag: "T", relations };
    }
    case 0x4f /* O */:
      return { tag: "O" };
    case 0x4d /* M */:
      return { tag: "M" };
    default:
      throw new FlowcapError("CAPTURE_FAILED", `unsupported replication message type ${JSON.stringify(String.fromCharCode(tag ?? 0))}`);
  }
}
