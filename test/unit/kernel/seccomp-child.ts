// Run by seccomp.test.ts in a child process (an FFI mistake kills only it):
// sets no_new_privs, loads the base64 program in argv[2], then makes the raw
// syscalls in argv[3] ("nr,arg0;nr,arg0") and prints each one's -errno or result.
import { errno, libc } from "../../../src/kernel/libc.ts";
import { loadSeccomp, prctl, PR_SET_NO_NEW_PRIVS } from "../../../src/kernel/syscalls.ts";

prctl(PR_SET_NO_NEW_PRIVS, 1);
loadSeccomp(Buffer.from(process.argv[2]!, "base64"));
const out: number[] = [];
for (const call of process.argv[3]!.split(";")) {
  const [nr = 0, a = 0, b = 0] = call.split(",").map(Number);
  const r = Number(libc.symbols.syscall(nr, a, b, 0, 0, 0));
  out.push(r < 0 ? -errno() : r);
}
console.log(JSON.stringify(out));
