// C sources and their shared header, compiled at run time by bun:ffi's cc and embedded in the binary as text (kernel/embedded-c.ts).
declare module "*.c" {
  const text: string;
  export default text;
}
declare module "*.h" {
  const text: string;
  export default text;
}
