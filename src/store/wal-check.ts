// Is the write-ahead log shorter than the daemon that wrote it left it?
//
// After a crash, SQLite replays the WAL up to its last complete, checksummed
// commit frame and silently drops the rest: right for a transaction cut by the
// crash, wrong when the file itself lost committed frames (truncated by a
// copy, a full disk, a careless hand). Then removed containers reappear and
// fail to start. The WAL cannot tell the two apart alone; its index (-shm)
// can: every commit writes the number of frames it made valid (mxFrame) into
// the index header, and the index is a shared mapping of a file, so it
// outlives a killed daemon. If the log now holds fewer valid frames than the
// index says were committed, and the missing ones were not yet copied into the
// database (nBackfill), commits were lost. Formats: https://www.sqlite.org/walformat.html
import { closeSync, existsSync, fstatSync, openSync, readSync } from "node:fs";

const WAL_HEADER = 32;
const FRAME_HEADER = 24;
const MAGIC_LE = 0x377f0682;
const MAGIC_BE = 0x377f0683;

export interface WalShortfall {
  /** Frames the index says were committed. */
  committed: number;
  /** Complete, checksummed frames up to the last commit that the log still holds. */
  present: number;
  /** Frames already copied into the database (losing those loses nothing). */
  backfilled: number;
}

function readAll(path: string): Buffer | null {
  if (!existsSync(path)) return null;
  const fd = openSync(path, "r");
  try {
    const size = fstatSync(fd).size;
    const buf = Buffer.alloc(size);
    let off = 0;
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off);
      if (n <= 0) break;
      off += n;
    }
    return buf.subarray(0, off);
  } finally {
    closeSync(fd);
  }
}

/** SQLite's WAL checksum over `data` (a multiple of 8 bytes), continuing from s. */
function checksum(data: Buffer, bigEndian: boolean, s: [number, number]): [number, number] {
  let [s1, s2] = s;
  for (let i = 0; i + 8 <= data.length; i += 8) {
    const a = bigEndian ? data.readUInt32BE(i) : data.readUInt32LE(i);
    const b = bigEndian ? data.readUInt32BE(i + 4) : data.readUInt32LE(i + 4);
    s1 = (s1 + a + s2) >>> 0;
    s2 = (s2 + b + s1) >>> 0;
  }
  return [s1, s2];
}

/** Frames of the log SQLite's recovery keeps: complete, salted and checksummed, up to the last commit frame. */
export function validWalFrames(wal: Buffer): { frames: number; salt: Buffer } | null {
  if (wal.length < WAL_HEADER) return null;
  const magic = wal.readUInt32BE(0);
  if (magic !== MAGIC_LE && magic !== MAGIC_BE) return null;
  const bigEndian = magic === MAGIC_BE;
  const pageSize = wal.readUInt32BE(8) || 65536;
  const salt = wal.subarray(16, 24);
  let s = checksum(wal.subarray(0, 24), bigEndian, [0, 0]);
  if (s[0] !== wal.readUInt32BE(24) || s[1] !== wal.readUInt32BE(28)) return null;
  let frames = 0;
  let lastCommit = 0;
  for (let off = WAL_HEADER; off + FRAME_HEADER + pageSize <= wal.length; off += FRAME_HEADER + pageSize) {
    if (!wal.subarray(off + 8, off + 16).equals(salt)) break;
    s = checksum(wal.subarray(off, off + 8), bigEndian, s);
    s = checksum(wal.subarray(off + FRAME_HEADER, off + FRAME_HEADER + pageSize), bigEndian, s);
    if (s[0] !== wal.readUInt32BE(off + 16) || s[1] !== wal.readUInt32BE(off + 20)) break;
    frames++;
    if (wal.readUInt32BE(off + 4) !== 0) lastCommit = frames;
  }
  return { frames: lastCommit, salt };
}

/**
 * The committed frames a crashed daemon's WAL lost, or null when nothing
 * committed is missing (or the index cannot vouch for anything: no -shm, a
 * half-written index header, another generation of the log).
 */
export function walShortfall(dbPath: string): WalShortfall | null {
  const shm = readAll(`${dbPath}-shm`);
  if (!shm || shm.length < 136) return null;
  // Two copies of the index header; a writer cut between them leaves them unequal.
  const h1 = shm.subarray(0, 48);
  if (!h1.equals(shm.subarray(48, 96)) || h1[12] !== 1) return null;
  const committed = shm.readUInt32LE(16);
  const backfilled = shm.readUInt32LE(96);
  if (committed <= backfilled) return null;
  const wal = readAll(`${dbPath}-wal`);
  const v = wal ? validWalFrames(wal) : null;
  // The index's salt is copied from the log header it describes: a different one is another log.
  if (v && !v.salt.equals(h1.subarray(32, 40))) return null;
  const present = v?.frames ?? 0;
  return Math.max(present, backfilled) < committed ? { committed, present, backfilled } : null;
}
