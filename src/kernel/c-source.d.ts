// C sources compiled at run time by bun:ffi's cc, embedded in the binary as text (kernel/userns.ts).
declare module "*.c" {
  const text: string;
  export default text;
}
