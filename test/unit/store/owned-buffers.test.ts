// Buffers a pipeline owns are freed when their last user is done, and only then.
import { expect, test } from "bun:test";
import { done, own, ownBuffer, share } from "../../../src/store/owned-buffers.ts";

test("an owned chunk is freed after its last user's done(), not before", () => {
  const c = new Uint8Array(1024).fill(7);
  expect(own(c, 2)).toBe(true);
  done(c);
  expect(c.byteLength).toBe(1024);
  expect(c[1023]).toBe(7);
  done(c);
  expect(c.byteLength).toBe(0);
  expect(c.buffer.byteLength).toBe(0);
});

test("a view of part of a buffer, a buffer owned already, and nobody's buffer are left alone", () => {
  const whole = new Uint8Array(100);
  const part = whole.subarray(10, 20);
  expect(own(part, 1)).toBe(false);
  done(part);
  expect(whole.byteLength).toBe(100);

  const c = new Uint8Array(10);
  expect(own(c, 1)).toBe(true);
  expect(own(c, 1)).toBe(false); // two owners would free it under each other
  done(c);
  expect(c.byteLength).toBe(0);

  const free = new Uint8Array(10);
  done(free);
  expect(free.byteLength).toBe(10);
});

test("done() through a view of an owned buffer counts for the buffer", () => {
  const c = new Uint8Array(64);
  own(c, 1);
  done(c.subarray(8));
  expect(c.byteLength).toBe(0);
});

test("ownBuffer takes the buffer under a view; share() adds a user; the free hook hears the size", () => {
  const b = new Uint8Array(256);
  const first = b.subarray(0, 100);
  const second = b.subarray(100, 200);
  const freed: number[] = [];
  expect(ownBuffer(first, 2, (n) => freed.push(n))).toBe(true);
  expect(share(second)).toBe(true);
  done(first);
  done(second);
  expect(b.byteLength).toBe(256);
  expect(freed).toEqual([]);
  done(first); // the last of three users
  expect(b.byteLength).toBe(0);
  expect(freed).toEqual([256]);
  expect(share(new Uint8Array(4))).toBe(false);
});
