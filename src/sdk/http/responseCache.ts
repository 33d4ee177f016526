import type { HttpHeaders } from "./rateLimitHeaders.js";

/** A response kept for revalidation: its validators, status, headers and body. */
export interface CachedResponse {
  /** The `ETag` it came with (sent back as `If-None-Match`). */
  etag?: string;
  /** The `Last-Modified` it came with (sent back as `If-Modified-Since` when there is no ETag). */
  lastModified?: string;
  status: number;
  headers: HttpHeaders;
  body: Buffer;
}

/**
 * Responses to GET requests, kept by URL so the next identical request can be made conditional
 * (`If-None-Match`, RFC 9110 §13.1.2): a `304 Not Modified` answer is then served from here.
 * APIs that do not count 304s against their quota (GitHub) make an unchanged poll free.
 */
export interface ResponseCache {
  get(key: string): CachedResponse | undefined;
  set(key: string, response: CachedResponse): void;
  delete(key: string): void;
  /** Entries held. */
  readonly size: number;
  /** Bytes of bodies held. */
  readonly bytes: number;
}

/** How many bytes of bodies a response cache holds by default: 32 MiB. */
export const DEFAULT_RESPONSE_CACHE_BYTES = 32 * 1024 * 1024;

/** Bytes an entry is charged beside its body (key, headers, bookkeeping), roughly. */
const ENTRY_OVERHEAD_BYTES = 1024;

/**
 * An in-memory ResponseCache holding at most `maxBytes` (DEFAULT_RESPONSE_CACHE_BYTES), least
 * recently used entries evicted first; a body larger than the whole cache is not kept. Pass it as
 * a request's `cache` (or paginate's), and only for requests worth revalidating: pages fetched
 * once (a backfill) would only evict the ones polled again.
 */
export function createResponseCache(options: { maxBytes?: number } = {}): ResponseCache {
  const maxBytes = options.maxBytes ?? DEFAULT_RESPONSE_CACHE_BYTES;
  const entries = new Map<string, CachedResponse>();
  let bytes = 0;
  const cost = (r: CachedResponse) => r.body.length + ENTRY_OVERHEAD_BYTES;
  const remove = (key: string) => {
    const old = entries.get(key);
    if (!old) return;
    entries.delete(key);
    bytes -= cost(old);
  };
  return {
    get(key) {
      const hit = entries.get(key);
      if (hit) {
        // Most recently used last: Map keeps insertion order.
        entries.delete(key);
        entries.set(key, hit);
      }
      return hit;
    },
    set(key, response) {
      remove(key);
      if (cost(response) > maxBytes) return;
      entries.set(key, response);
      bytes += cost(response);
      for (const [oldest] of entries) {
        if (bytes <= maxBytes) break;
        remove(oldest);
      }
    },
    delete: remove,
    get size() {
      return entries.size;
    },
    get bytes() {
      return bytes;
    },
  };
}
