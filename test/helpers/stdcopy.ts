// Docker's multiplexed stream format (stdcopy) read back in tests: 8-byte
// headers [stream, 0, 0, 0, size (big-endian u32)] before each frame.

/** A non-streamed multiplexed body (logs with follow=false, an exec's output) as its frames. */
export function frames(buf: Buffer): { stream: number; text: string }[] {
  const res: { stream: number; text: string }[] = [];
  for (let i = 0; i + 8 <= buf.length; ) {
    const len = buf.readUInt32BE(i + 4);
    res.push({ stream: buf[i]!, text: buf.subarray(i + 8, i + 8 + len).toString() });
    i += 8 + len;
  }
  return res;
}
