// Docker's --ulimit values (go-units ParseUlimit), apart from the rest of the
// policy: the CLI parses --ulimit with the daemon's rules, and policy.ts pulls
// in the seccomp profile and the syscall table (~36 KB of every `ctr run`'s
// start, issue 16).
import { RLIMITS } from "../../kernel/rlimit-names.ts";
import { InvalidParameterError } from "../errors.ts";

/** Docker's ulimit shape (HostConfig.Ulimits, daemon default-ulimits). */
export interface Ulimit {
  Name: string;
  Soft: number;
  Hard: number;
}

/** go-units ParseUlimit: "name=soft[:hard]". */
export function parseUlimit(s: string): Ulimit {
  const m = /^([^=]*)=(.*)$/.exec(s);
  if (!m) throw new InvalidParameterError(`invalid ulimit argument: ${s}`);
  const [, name, limits] = m as unknown as [string, string, string];
  if (!Object.hasOwn(RLIMITS, name)) throw new InvalidParameterError(`invalid ulimit type: ${name}`);
  const parts = limits.split(":");
  if (parts.length > 2) throw new InvalidParameterError(`too many limit value arguments - ${limits}, can only have up to two, \`soft[:hard]\``);
  const nums = parts.map((p) => {
    if (!/^-?\d+$/.test(p)) throw new InvalidParameterError(`strconv.ParseInt: parsing ${JSON.stringify(p)}: invalid syntax`);
    return Number(p);
  });
  const u = { Name: name, Soft: nums[0]!, Hard: nums[1] ?? nums[0]! };
  checkUlimit(u);
  return u;
}

export function checkUlimit(u: Ulimit): void {
  if (!Object.hasOwn(RLIMITS, u.Name)) throw new InvalidParameterError(`invalid ulimit type: ${u.Name}`);
  if (!Number.isSafeInteger(u.Soft) || !Number.isSafeInteger(u.Hard)) throw new InvalidParameterError(`invalid ulimit value for ${u.Name}`);
  // -1 is unlimited on either side.
  if (u.Hard !== -1 && (u.Soft === -1 || u.Soft > u.Hard)) {
    throw new InvalidParameterError(`ulimit soft limit must be less than or equal to hard limit: ${u.Soft} > ${u.Hard}`);
  }
}

