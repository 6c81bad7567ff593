// The compose files of the differential Compose suite (compose.test.ts).
// ${BB} is the seeded busybox, ${NET} a /16 prefix of the daemon's own.

/** A command that ends at once on SIGTERM (a shell as pid 1 has no default action for it). */
const IDLE = `sh -c "trap 'exit 0' TERM; sleep 1000 & wait"`;

/** Scaled web behind a client, for --scale and the lifecycle commands (stop/start/restart/kill/pause/top/port/logs/exec/run). */
export const LIFE = `version: "2.4"
services:
  web:
    image: \${BB}
    command: sh -c "trap 'exit 0' TERM; echo web up; httpd -f -p 80 -h / & wait"
    ports: ["80"]
    networks: [net]
  client:
    image: \${BB}
    command: ${IDLE}
    networks: [net]
networks:
  net:
    ipam:
      config: [{ subnet: "\${NET}.3.0/24" }]
`;

/**
 * depends_on in its long form: app waits for seed to complete and for api to
 * be healthy; api waits for db, built here, whose HEALTHCHECK is the image's.
 */
export const DEPS = `version: "2.4"
services:
  seed:
    image: \${BB}
    command: sh -c "echo seeded > /data/seed"
    volumes: [data:/data]
  db:
    build:
      context: ./db
      args: { BB: "\${BB}" }
    networks: [net]
  api:
    image: \${BB}
    command: sh -c "touch /tmp/ok; trap 'exit 0' TERM; sleep 1000 & wait"
    healthcheck:
      test: ["CMD", "test", "-e", "/tmp/ok"]
      interval: 1s
      timeout: 2s
      retries: 30
    depends_on:
      db: { condition: service_healthy }
    networks: [net]
  app:
    image: \${BB}
    command: sh -c "cat /data/seed; trap 'exit 0' TERM; sleep 1000 & wait"
    volumes: [data:/data]
    depends_on:
      seed: { condition: service_completed_successfully }
      api: { condition: service_healthy }
    networks: [net]
networks:
  net:
    ipam:
      config: [{ subnet: "\${NET}.4.0/24" }]
volumes:
  data:
`;

export const DEPS_DOCKERFILE = `ARG BB
FROM \${BB}
RUN echo built > /built
HEALTHCHECK --interval=1s --timeout=2s --retries=30 CMD test -e /tmp/ready
CMD ["sh", "-c", "sleep 1; touch /tmp/ready; trap 'exit 0' TERM; sleep 1000 & wait"]
`;

/** Dependencies that never become ready: one exits 3, one is unhealthy. */
export const DEPS_BAD = `version: "2.4"
services:
  fails:
    image: \${BB}
    command: sh -c "exit 3"
  after-fails:
    image: \${BB}
    command: ${IDLE}
    depends_on:
      fails: { condition: service_completed_successfully }
  sick:
    image: \${BB}
    command: ${IDLE}
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 1
  after-sick:
    image: \${BB}
    command: ${IDLE}
    depends_on:
      sick: { condition: service_healthy }
`;

/** One file, two projects: each gets a network, a volume and a container of its own. */
export const PAIR = `version: "2.4"
services:
  web:
    image: \${BB}
    command: ${IDLE}
    volumes: [data:/data]
    networks: [net]
networks:
  net: {}
volumes:
  data: {}
`;

/**
 * Restart policies. A "loop" service runs until /stop appears, removes it and
 * exits 3, so it fails exactly once when the test asks it to.
 */
const LOOP = `sh -c "trap 'exit 0' TERM; echo up; while [ ! -e /stop ]; do sleep 0.1; done; rm /stop; exit 3"`;
export const RESTART = `version: "2.4"
services:
  always:
    image: \${BB}
    restart: always
    command: ${LOOP}
  onfail:
    image: \${BB}
    restart: on-failure
    command: ${LOOP}
  never:
    image: \${BB}
    command: ${LOOP}
  twice:
    image: \${BB}
    restart: on-failure:2
    command: sh -c "echo try; exit 1"
  ok:
    image: \${BB}
    restart: on-failure
    command: sh -c "exit 0"
`;

/** A CI job: `up --abort-on-container-exit --exit-code-from check` ends with check's exit code. */
export const CI = `version: "2.4"
services:
  web:
    image: \${BB}
    command: sh -c "trap 'exit 0' TERM; echo web up; httpd -f -p 80 -h / & wait"
  check:
    image: \${BB}
    command: sh -c "until wget -qO- http://web/etc/hostname >/dev/null; do sleep 0.2; done; echo reached web; exit 3"
    depends_on: [web]
`;
