// Builds dist/ctr: ONE self-contained executable (Bun runtime + our code + deps).
import { $ } from "bun";

const commit = (await $`git rev-parse --short HEAD`.nothrow().quiet().text()).trim() || "unknown";
const built = new Date().toISOString();
const result = await Bun.build({
  entrypoints: ["src/cli.ts"],
  compile: { outfile: "dist/ctr" },
  minify: true,
  sourcemap: "none",
  define: {
    "process.env.CTR_GIT_COMMIT": JSON.stringify(commit),
    "process.env.CTR_BUILD_TIME": JSON.stringify(built),
  },
} as Parameters<typeof Bun.build>[0]);
if (!result.success) {
  for (const l of result.logs) console.error(l);
  process.exit(1);
}
console.log(`built dist/ctr (${commit}, ${built})`);
