# Runs N execs in one container through the docker SDK for Python, alternating
# non-streamed exec_run and demultiplexed exec_run, and reports every one whose
# output differs from what the command wrote. Prints one JSON object.
import json
import sys

import docker

container, n = sys.argv[1], int(sys.argv[2])
c = docker.from_env(version="auto").containers.get(container)
lost = []
for i in range(n):
    if i % 2 == 0:
        r = c.exec_run(["echo", "plain%d" % i])
        ok = r.exit_code == 0 and r.output == b"plain%d\n" % i
    else:
        r = c.exec_run(["sh", "-c", "echo out%d; echo err%d >&2" % (i, i)], demux=True)
        ok = r.exit_code == 0 and r.output == (b"out%d\n" % i, b"err%d\n" % i)
    if not ok:
        lost.append({"i": i, "exit": r.exit_code, "output": repr(r.output)})
print(json.dumps({"runs": n, "lost": lost}))
