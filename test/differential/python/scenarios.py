# Scenarios for the docker SDK for Python (Debian's python3-docker), run once
# against dockerd and once against ctr by test/differential/docker-py.test.ts.
# Each prints one JSON value: what the SDK returned, errors included, for the
# test to normalise and compare. Usage: scenarios.py <scenario> <image>.
# Timing is never asserted: waits poll a condition with a deadline.
import io
import json
import sys
import tarfile
import time

import docker
from docker.errors import APIError, BuildError, ContainerError

# The same API version on both daemons (dockerd 20.10 speaks 1.41), so they are asked the same thing.
client = docker.from_env(version="1.41")
api = client.api
IMAGE = sys.argv[2]
PREFIX = "dpy-"


def err(e):
    """An SDK exception as data: its class, HTTP status and message."""
    out = {"error": type(e).__name__}
    if isinstance(e, APIError):
        out["status"] = e.status_code
        out["explanation"] = e.explanation
    if isinstance(e, BuildError):
        out["msg"] = e.msg
    if isinstance(e, ContainerError):
        out["exit_status"] = e.exit_status
        out["stderr"] = e.stderr.decode() if isinstance(e.stderr, bytes) else e.stderr
    return out


def attempt(f):
    try:
        return f()
    except Exception as e:  # noqa: BLE001 - the exception is the result
        return err(e)


def until(cond, what, seconds=60):
    deadline = time.time() + seconds
    while True:
        v = cond()
        if v:
            return v
        if time.time() > deadline:
            raise SystemExit("timed out waiting for " + what)
        time.sleep(0.05)


def pick(d, *keys):
    return {k: d.get(k) for k in keys}


def cleanup():
    for c in client.containers.list(all=True, filters={"name": PREFIX}):
        c.remove(force=True, v=True)
    for n in client.networks.list():
        if n.name.startswith(PREFIX):
            n.remove()
    for v in client.volumes.list():
        if v.name.startswith(PREFIX):
            v.remove(force=True)


def containers():
    r = {}
    r["run_output"] = client.containers.run(IMAGE, ["sh", "-c", "echo out; echo err >&2"], remove=True, name=PREFIX + "once").decode()
    r["run_stderr"] = client.containers.run(IMAGE, ["sh", "-c", "echo err >&2"], remove=True, stdout=False, stderr=True).decode()
    r["run_failing"] = attempt(lambda: client.containers.run(IMAGE, ["sh", "-c", "echo bad >&2; exit 3"], remove=True))
    c = client.containers.create(IMAGE, ["sh", "-c", "echo $A; sleep 0.2; echo done >&2; exit 4"], name=PREFIX + "c1",
                                 environment={"A": "1"}, labels={"k": "v"}, working_dir="/tmp", hostname="h1")
    c.reload()
    r["created"] = {"status": c.status, "name": c.name, "labels": c.labels, "image_tags": c.image.tags,
                    "config": pick(c.attrs["Config"], "Env", "Cmd", "WorkingDir", "Hostname", "Labels", "Tty", "OpenStdin", "Entrypoint"),
                    "host": pick(c.attrs["HostConfig"], "NetworkMode", "RestartPolicy", "AutoRemove", "Privileged", "Memory", "PidsLimit"),
                    "state": pick(c.attrs["State"], "Status", "Running", "ExitCode", "Pid")}
    c.start()
    r["wait"] = c.wait(timeout=60)
    c.reload()
    r["exited"] = pick(c.attrs["State"], "Status", "Running", "ExitCode", "OOMKilled", "Error")
    r["logs"] = sorted(c.logs().decode().splitlines())  # two pipes: the lines, not their order
    r["logs_stdout"] = c.logs(stderr=False).decode()
    r["logs_stderr"] = c.logs(stdout=False).decode()
    r["logs_tail"] = c.logs(tail=1).decode()
    r["logs_ts"] = c.logs(timestamps=True).decode().count("Z ")
    r["listed"] = sorted(x.name for x in client.containers.list(all=True, filters={"label": "k=v"}))
    r["listed_running"] = [x.name for x in client.containers.list(filters={"name": PREFIX + "c1"})]
    c.rename(PREFIX + "c2")
    r["renamed"] = client.containers.get(PREFIX + "c2").name
    c.remove()
    r["removed"] = attempt(lambda: client.containers.get(PREFIX + "c2"))
    r["remove_again"] = attempt(lambda: api.remove_container(PREFIX + "c2"))
    r["missing_image"] = attempt(lambda: client.containers.create("127.0.0.1:1/nope:latest"))
    return r


def exec_():
    c = client.containers.run(IMAGE, ["sleep", "1000"], detach=True, name=PREFIX + "ex")
    r = {}
    r["plain"] = list(c.exec_run(["sh", "-c", "echo out; echo err >&2; exit 2"]))
    # stdout and stderr are two pipes: only the lines are fixed, not their order across the two
    r["plain"][1] = sorted(r["plain"][1].decode().splitlines())
    code, (out, errb) = c.exec_run(["sh", "-c", "echo out; echo err >&2"], demux=True)
    r["demux"] = [code, out.decode(), errb.decode()]
    code, (out, errb) = c.exec_run(["sh", "-c", "echo only-out"], demux=True)
    r["demux_no_stderr"] = [code, out.decode(), errb]
    r["env_workdir_user"] = c.exec_run(["sh", "-c", "echo $X; pwd; id -u"], environment={"X": "y"}, workdir="/tmp", user="1000").output.decode()
    r["stream"] = b"".join(c.exec_run(["sh", "-c", "for i in 1 2 3; do echo $i; done"], stream=True).output).decode()
    r["missing"] = list(c.exec_run(["/nonexistent"]))
    r["missing"][1] = r["missing"][1].decode().replace("\r", "")
    e = api.exec_create(c.id, ["sh", "-c", "exit 7"])
    api.exec_start(e["Id"])
    r["inspect"] = pick(api.exec_inspect(e["Id"]), "ExitCode", "Running", "OpenStdin", "OpenStdout", "OpenStderr")
    r.update(exec_process(c))
    r["stopped"] = attempt(lambda: (c.kill(), c.wait(), c.exec_run(["true"]))[2])
    c.remove(force=True)
    return r


def runtime_part(out):
    """The runtime's own words of a failed exec: dockerd wraps them in "OCI runtime exec failed: … : unknown"."""
    text = out.decode().replace("\r", "").strip()
    at = text.find('exec: "')
    text = text[at:] if at >= 0 else text
    return text[: -len(": unknown")] if text.endswith(": unknown") else text


def exec_process(c):
    """What the exec'd process is: identity, privileges, namespaces, cgroup, stdio, and why one cannot start."""
    r = {}
    sh = lambda script, **kw: c.exec_run(["sh", "-c", script], **kw).output.decode()
    sh("echo app:x:1001:1001:app:/home/app:/bin/sh >> /etc/passwd; printf 'app:x:1001:\\nextra:x:2002:app\\n' >> /etc/group")
    r["user_name"] = sh("id; echo $HOME; pwd", user="app")
    r["user_name_group"] = sh("id", user="app:extra")
    # dockerd 20.10 now and then answers this failed start with no output at all (seen once in a full suite):
    # its message is what is compared, so ask again (at most 3 times) until there is one.
    for _ in range(3):
        r["user_unknown"] = list(c.exec_run(["id"], user="nosuchuser"))
        if r["user_unknown"][1]:
            break
    r["user_unknown"][1] = runtime_part(r["user_unknown"][1])
    status = "grep -E '^(Cap|NoNewPrivs|Seccomp:|SigBlk|SigIgn)' /proc/self/status"
    r["privileges_root"] = sh(status)
    r["privileges_user"] = sh(status, user="1000")
    r["namespaces"] = sh("tr '\\0' ' ' < /proc/1/cmdline; echo; for n in pid mnt net uts ipc cgroup; do [ $(readlink /proc/self/ns/$n) = $(readlink /proc/1/ns/$n) ] && echo same $n; done; "
                         "[ \"$(cat /proc/self/cgroup)\" = \"$(cat /proc/1/cgroup)\" ] && echo same cgroups")
    # (not the number of fds: the shell sometimes still holds its pipeline's pipe while ls looks)
    r["stdio"] = sh("for f in 1 2; do readlink /proc/$$/fd/$f | cut -d: -f1; done")
    r["env"] = sorted(sh("env", environment={"Z": "1"}).splitlines())
    r["umask"] = sh("umask")
    r["tty"] = sh("tty; echo $TERM; stty size; id", tty=True, user="app").replace("\r", "")
    for name, cmd in {"not_found": ["nosuchcmd"], "not_executable": ["/etc/passwd"], "directory": ["/tmp"], "relative": ["./nosuch"]}.items():
        code, out = c.exec_run(cmd)
        r[name] = [code, runtime_part(out)]
    return r


def attach():
    r = {}
    c = client.containers.run(IMAGE, ["sh", "-c", "echo one; echo two >&2"], detach=True, name=PREFIX + "at")
    c.wait()
    r["logs_no_stream"] = c.attach(logs=True, stream=False).decode()
    r["logs_stdout_only"] = c.attach(logs=True, stream=False, stderr=False).decode()
    c.remove()
    c = client.containers.create(IMAGE, ["sh", "-c", "read x; echo got $x"], name=PREFIX + "at2", stdin_open=True)
    s = c.attach_socket(params={"stdin": 1, "stdout": 1, "stream": 1})
    c.start()
    s._sock.sendall(b"hello\n")
    data = b""
    while True:
        chunk = s._sock.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    r["stdin_roundtrip"] = data[8:].decode() if data[:1] == b"\x01" else data.decode()
    r["wait"] = c.wait()
    c.remove()
    return r


def networks():
    r = {}
    n = client.networks.create(PREFIX + "net", driver="bridge", labels={"a": "b"}, internal=True)
    n.reload()
    r["inspect"] = pick(n.attrs, "Name", "Driver", "Internal", "Labels", "Scope", "Attachable", "EnableIPv6")
    r["ipam_driver"] = n.attrs["IPAM"]["Driver"]
    r["listed"] = PREFIX + "net" in [x.name for x in client.networks.list()]
    c = client.containers.run(IMAGE, ["sleep", "1000"], detach=True, name=PREFIX + "nc")
    n.connect(c, aliases=["al1"])
    c.reload()
    r["connected"] = sorted(c.attrs["NetworkSettings"]["Networks"].keys())
    r["aliases_given"] = "al1" in (c.attrs["NetworkSettings"]["Networks"][PREFIX + "net"]["Aliases"] or [])
    n.reload()
    r["containers"] = [v["Name"] for v in n.attrs["Containers"].values()]
    n.disconnect(c)
    c.reload()
    r["disconnected"] = sorted(c.attrs["NetworkSettings"]["Networks"].keys())
    c.remove(force=True)
    n.remove()
    r["removed"] = attempt(lambda: client.networks.get(PREFIX + "net"))
    r["default_bridge"] = pick(client.networks.get("bridge").attrs, "Name", "Driver", "Scope")
    return r


def volumes():
    r = {}
    v = client.volumes.create(PREFIX + "vol", labels={"x": "y"})
    r["inspect"] = pick(v.attrs, "Name", "Driver", "Labels", "Scope", "Options")
    r["mountpoint_suffix"] = v.attrs["Mountpoint"].endswith("/" + PREFIX + "vol/_data")
    r["listed"] = PREFIX + "vol" in [x.name for x in client.volumes.list()]
    out = client.containers.run(IMAGE, ["sh", "-c", "echo kept > /data/f; cat /data/f"], volumes={PREFIX + "vol": {"bind": "/data", "mode": "rw"}}, remove=True)
    r["written"] = out.decode()
    r["read_back"] = client.containers.run(IMAGE, ["cat", "/data/f"], volumes=[PREFIX + "vol:/data:ro"], remove=True).decode()
    c = client.containers.create(IMAGE, ["true"], volumes=[PREFIX + "vol:/data"], name=PREFIX + "vu")
    r["in_use"] = attempt(lambda: v.remove())
    c.remove()
    client.volumes.create(PREFIX + "vol2")
    pruned = client.volumes.prune()
    r["prune_deleted"] = sorted(x for x in pruned["VolumesDeleted"] if x.startswith(PREFIX))
    r["prune_reclaimed"] = pruned["SpaceReclaimed"]
    r["gone"] = attempt(lambda: client.volumes.get(PREFIX + "vol"))
    return r


def images():
    r = {}
    img = client.images.pull(IMAGE)
    r["pulled_tags"] = img.tags
    r["attrs"] = pick(img.attrs, "RepoTags", "Architecture", "Os")
    r["config"] = pick(img.attrs["Config"], "Cmd", "Env", "Entrypoint", "WorkingDir")
    r["history_len"] = len(img.history())
    img.tag(PREFIX + "img", "v1")
    r["tagged"] = sorted(client.images.get(PREFIX + "img:v1").tags)
    data = b"".join(client.images.get(PREFIX + "img:v1").save(named=PREFIX + "img:v1"))
    with tarfile.open(fileobj=io.BytesIO(data)) as t:
        manifest = json.load(t.extractfile("manifest.json"))
    r["saved_manifest_tags"] = [m["RepoTags"] for m in manifest]
    client.images.remove(PREFIX + "img:v1")
    r["after_rmi"] = attempt(lambda: client.images.get(PREFIX + "img:v1"))
    loaded = client.images.load(data)
    r["loaded_tags"] = sorted(t for i in loaded for t in i.tags)
    r["run_loaded"] = client.containers.run(PREFIX + "img:v1", ["echo", "from-loaded"], remove=True).decode()
    client.images.remove(PREFIX + "img:v1")
    r["missing"] = attempt(lambda: client.images.get("127.0.0.1:1/nope:latest"))
    r["list_has"] = any(IMAGE in (i.tags or []) for i in client.images.list())
    return r


def health():
    r = {}
    hc = {"test": ["CMD-SHELL", "test -f /tmp/ok && echo fine"], "interval": 200_000_000, "timeout": 5_000_000_000, "retries": 2}
    c = client.containers.run(IMAGE, ["sh", "-c", "sleep 1000"], detach=True, name=PREFIX + "hc", healthcheck=hc)
    c.reload()
    r["config"] = c.attrs["Config"]["Healthcheck"]
    r["starting"] = c.attrs["State"]["Health"]["Status"]
    until(lambda: (c.reload(), c.attrs["State"]["Health"]["Status"] == "unhealthy")[1], "unhealthy")
    h = c.attrs["State"]["Health"]
    r["unhealthy"] = {"status": h["Status"], "streak_at_least_2": h["FailingStreak"] >= 2, "last": pick(h["Log"][-1], "ExitCode", "Output")}
    r["filter_unhealthy"] = [x.name for x in client.containers.list(filters={"health": "unhealthy", "name": PREFIX + "hc"})]
    c.exec_run(["touch", "/tmp/ok"])
    until(lambda: (c.reload(), c.attrs["State"]["Health"]["Status"] == "healthy")[1], "healthy")
    h = c.attrs["State"]["Health"]
    r["healthy"] = {"status": h["Status"], "streak": h["FailingStreak"], "last": pick(h["Log"][-1], "ExitCode", "Output"), "log_at_most_5": len(h["Log"]) <= 5}
    r["filter_healthy"] = [x.name for x in client.containers.list(filters={"health": "healthy", "name": PREFIX + "hc"})]
    r["ps_status_suffix"] = api.containers(filters={"name": PREFIX + "hc"})[0]["Status"].endswith("(healthy)")
    c.stop(timeout=0)
    c.reload()
    r["stopped"] = c.attrs["State"]["Health"]["Status"]
    c.remove()
    n = client.containers.create(IMAGE, ["true"], name=PREFIX + "nohc", healthcheck={"test": ["NONE"]})
    r["none_config"] = n.attrs["Config"]["Healthcheck"]
    r["none_state"] = "Health" in n.attrs["State"]
    n.remove()
    r["bad_interval"] = attempt(lambda: client.containers.create(IMAGE, ["true"], healthcheck={"test": ["CMD", "true"], "interval": 10}))
    r["bad_filter"] = attempt(lambda: client.containers.list(filters={"health": "bogus"}))
    return r


def update():
    r = {}
    c = client.containers.run(IMAGE, ["sleep", "1000"], detach=True, name=PREFIX + "up", mem_limit="64m")
    r["created_swap"] = client.containers.get(c.id).attrs["HostConfig"]["MemorySwap"]
    r["update"] = c.update(mem_limit="32m", cpu_shares=512, restart_policy={"Name": "on-failure", "MaximumRetryCount": 2})
    c.reload()
    r["host"] = pick(c.attrs["HostConfig"], "Memory", "MemorySwap", "CpuShares", "PidsLimit", "RestartPolicy")
    r["too_small"] = attempt(lambda: c.update(mem_limit=1000))
    r["bad_policy"] = attempt(lambda: c.update(restart_policy={"Name": "always", "MaximumRetryCount": 1}))
    r["missing"] = attempt(lambda: api.update_container(PREFIX + "none", cpu_shares=2))
    c.remove(force=True)
    return r


def prune():
    r = {}
    c = client.containers.run(IMAGE, ["sh", "-c", "head -c 3000 /dev/zero > /big; mkdir -p /d; head -c 5 /dev/zero > /d/small"], detach=True, name=PREFIX + "pr")
    c.wait()
    p = client.containers.prune(filters={"label": "never=there"})
    r["none"] = p
    p = client.containers.prune()
    r["deleted_ours"] = c.id in (p["ContainersDeleted"] or [])
    r["reclaimed"] = p["SpaceReclaimed"]
    return r


def streams():
    r = {}
    c = client.containers.run(IMAGE, ["sh", "-c", "sleep 0.3; exit 5"], detach=True, name=PREFIX + "rs", restart_policy={"Name": "always"})
    r["wait_always"] = c.wait(timeout=60)
    c.remove(force=True)
    return r


def swarm():
    r = {}
    r["info_state"] = client.info()["Swarm"]["LocalNodeState"]
    r["inspect"] = attempt(lambda: api.inspect_swarm())
    r["nodes"] = attempt(lambda: api.nodes())
    r["services"] = attempt(lambda: api.services())
    r["leave"] = attempt(lambda: api.leave_swarm())
    return r


def build():
    r = {}
    dockerfile = ("FROM " + IMAGE + "\n"
                  "LABEL role=probe\n"
                  "RUN echo built > /built\n"
                  "HEALTHCHECK --interval=200ms --retries=2 CMD test -f /built\n"
                  "CMD [\"sleep\", \"1000\"]\n")
    img, logs = client.images.build(fileobj=io.BytesIO(dockerfile.encode()), tag=PREFIX + "built:1", rm=True)
    r["tags"] = img.tags
    r["config"] = pick(img.attrs["Config"], "Cmd", "Labels", "Healthcheck", "Env")
    r["stream_has_success"] = any("Successfully tagged " + PREFIX + "built:1" in (l.get("stream") or "") for l in logs)
    # The image's HEALTHCHECK is the container's: probed, and healthy.
    c = client.containers.run(PREFIX + "built:1", detach=True, name=PREFIX + "bh")
    r["container_healthcheck"] = c.attrs["Config"]["Healthcheck"]
    until(lambda: (c.reload(), c.attrs["State"]["Health"]["Status"] == "healthy")[1], "healthy from the image's HEALTHCHECK")
    r["healthy"] = pick(c.attrs["State"]["Health"]["Log"][-1], "ExitCode", "Output")
    c.remove(force=True)
    o = client.containers.create(PREFIX + "built:1", name=PREFIX + "bo", healthcheck={"test": ["NONE"]})
    r["overridden"] = o.attrs["Config"]["Healthcheck"]
    o.remove()
    r["failing"] = attempt(lambda: client.images.build(fileobj=io.BytesIO(("FROM " + IMAGE + "\nRUN exit 3\n").encode()), tag=PREFIX + "bad:1"))
    client.images.remove(PREFIX + "built:1")
    return r


SCENARIOS = {"containers": containers, "exec": exec_, "attach": attach, "networks": networks, "volumes": volumes, "images": images,
             "health": health, "build": build, "update": update, "prune": prune, "streams": streams, "swarm": swarm}

if __name__ == "__main__":
    cleanup()
    try:
        print(json.dumps(SCENARIOS[sys.argv[1]](), default=str, sort_keys=True))
    finally:
        cleanup()
