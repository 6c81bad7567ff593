// A tiny leveled logger for the daemon: one line per event on stderr, which
// the on-demand start redirects to <root>/daemon.log.
export type LogLevel = "debug" | "info" | "warn" | "error" | "fatal";
const order: LogLevel[] = ["debug", "info", "warn", "error", "fatal"];
let threshold = 1;

export function setLogLevel(level: string): void {
  const i = order.indexOf(level as LogLevel);
  if (i < 0) throw new Error(`invalid log level: ${level} (want one of ${order.join(", ")})`);
  threshold = i;
}

function emit(level: LogLevel, msg: string, fields?: Record<string, unknown>): void {
  if (order.indexOf(level) < threshold) return;
  const extra = fields ? " " + Object.entries(fields).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(" ") : "";
  process.stderr.write(`time="${new Date().toISOString()}" level=${level} msg=${JSON.stringify(msg)}${extra}\n`);
}

export const log = {
  debug: (m: string, f?: Record<string, unknown>) => emit("debug", m, f),
  info: (m: string, f?: Record<string, unknown>) => emit("info", m, f),
  warn: (m: string, f?: Record<string, unknown>) => emit("warn", m, f),
  error: (m: string, f?: Record<string, unknown>) => emit("error", m, f),
};
