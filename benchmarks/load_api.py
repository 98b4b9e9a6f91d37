"""Load test of the case API: gunicorn with 2 workers, 20 concurrent clients from a second process.

Not a timed test: a script to run against a generated database (``manage.py generate_cases``). It
issues an API token for an inspector of the busiest discipline commission (the same user
``bench_scale.py`` picks), starts gunicorn the way production does (``config.wsgi``, ``--workers 2``,
production settings: ``DEBUG=0``, the access log on), and drives ``GET /api/cases/`` for a bounded
duration from a separate load generator, then reports requests per second, latency p50/p95/p99 and
errors (answers other than 200, and socket errors). The token is revoked and gunicorn stopped afterwards.

The load generator is ``wrk`` when installed (Debian/Ubuntu: ``apt-get install wrk``; macOS:
``brew install wrk``); otherwise a Python client with one thread per connection runs in its own
process (it needs more CPU than wrk, so it measures a little less).

Run::

    python benchmarks/load_api.py --database-url postgres://postgres@127.0.0.1:5432/tol_10k \\
        [--duration 15] [--concurrency 20] [--workers 2] [--path /api/cases/]

Exit status 1 when any request failed.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import resource
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

HOST = "127.0.0.1"
# wrk's done() hook: the figures wrk's own summary leaves out (p95, status and socket errors).
WRK_SCRIPT = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "WRKJSON {\\"requests\\": %d, \\"duration_us\\": %d, \\"p50_us\\": %d, \\"p95_us\\": %d, \\"p99_us\\": %d, "
    .. "\\"max_us\\": %d, \\"status_errors\\": %d, \\"socket_errors\\": %d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), latency.max, e.status, e.connect + e.read + e.write + e.timeout))
end
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def _headers(token: str) -> dict[str, str]:
    # The TLS proxy in front of gunicorn says the request came over HTTPS (production redirects otherwise).
    return {"Authorization": f"Token {token}", "X-Forwarded-Proto": "https", "Host": HOST}


def _get(port: int, path: str, token: str, timeout: float = 10) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=_headers(token))
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def _percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    rank = max(1, -(-len(ordered) * pct // 100))
    return ordered[int(rank) - 1]


def drive_python(port: int, path: str, token: str, concurrency: int, duration: float) -> dict[str, Any]:
    """The fallback load generator: one thread per connection, each sending requests back to back."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    status_errors = [0] * concurrency
    socket_errors = [0] * concurrency
    deadline = time.perf_counter() + duration
    headers = _headers(token)

    def client(i: int) -> None:
        conn: http.client.HTTPConnection | None = None
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            try:
                if conn is None:
                    conn = http.client.HTTPConnection(HOST, port, timeout=30)
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                if response.status != 200:
                    status_errors[i] += 1
                if response.will_close:  # gunicorn's sync workers close after each answer
                    conn.close()
                    conn = None
            except (OSError, http.client.HTTPException):
                socket_errors[i] += 1
                if conn is not None:
                    conn.close()
                conn = None
                continue
            latencies[i].append(time.perf_counter() - started)
        if conn is not None:
            conn.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - started
    flat = [x for lat in latencies for x in lat]
    return {"requests": len(flat) + sum(socket_errors), "duration_us": int(elapsed * 1e6),
            "p50_us": int(_percentile(flat, 50) * 1e6), "p95_us": int(_percentile(flat, 95) * 1e6),
            "p99_us": int(_percentile(flat, 99) * 1e6), "max_us": int(max(flat, default=0) * 1e6),
            "status_errors": sum(status_errors), "socket_errors": sum(socket_errors)}


def drive_wrk(wrk: str, port: int, path: str, token: str, concurrency: int, duration: float,
              threads: int) -> dict[str, Any]:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_SCRIPT)
        script = fh.name
    try:
        cmd = [wrk, f"-t{min(threads, concurrency)}", f"-c{concurrency}", f"-d{int(duration)}s", "--timeout", "30s",
               "-s", script]
        for k, v in _headers(token).items():
            if k != "Host":
                cmd += ["-H", f"{k}: {v}"]
        result = subprocess.run([*cmd, f"http://{HOST}:{port}{path}"], capture_output=True, text=True, check=False)
    finally:
        os.unlink(script)
    match = re.search(r"^WRKJSON (\{.*\})$", result.stdout, re.M)
    if result.returncode != 0 or match is None:
        raise RuntimeError(f"wrk 运行失败（退出码 {result.returncode}）：{result.stderr.strip() or result.stdout.strip()}")
    return dict(json.loads(match.group(1)))


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of these processes so far (Linux ``/proc``; processes gone meanwhile count 0)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / tick


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _database_backends() -> list[int]:
    """The server processes of the other connections to this database (the gunicorn workers' ones)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return []
    with connection.cursor() as cursor:
        cursor.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                       "AND backend_type = 'client backend' AND pid <> pg_backend_pid()")
        pids = [row[0] for row in cursor.fetchall()]
    connection.close()
    return pids


def _client_process(args: argparse.Namespace) -> int:
    """``--drive``: the Python load generator, run as its own process so it does not share the parent's GIL."""
    port, path, token = args.drive
    print(json.dumps(drive_python(int(port), path, token, args.concurrency, args.duration)))
    return 0


def _pick_user(username: str) -> Any:
    from accounts.models import User

    if username:
        user = User.objects.filter(username=username, is_active=True).first()
        if user is None:
            raise SystemExit(f"load_api：找不到启用的用户 {username}。")
        return user
    from benchmarks.bench_scale import BenchError, subjects_pick

    try:
        return subjects_pick().inspector
    except BenchError as exc:
        raise SystemExit(f"load_api：{exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", default="", help="数据库地址（默认取环境变量 DATABASE_URL）")
    parser.add_argument("--duration", type=float, default=15, help="加压秒数（默认 15，1–600）")
    parser.add_argument("--concurrency", type=int, default=20, help="并发客户端数（默认 20）")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn 工作进程数（默认 2）")
    parser.add_argument("--threads", type=int, default=2, help="wrk 线程数（默认 2）")
    parser.add_argument("--gunicorn-args", default="",
                        help="附加的 gunicorn 参数，如 \"--worker-class gthread --threads 4\"（默认与生产相同：无）")
    parser.add_argument("--path", default="/api/cases/", help="请求的地址（默认 /api/cases/）")
    parser.add_argument("--user", default="", help="用哪个用户的令牌（默认：最忙的纪委监委的一名 inspector）")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                        help="压测客户端：wrk（需安装）、python，或 auto（有 wrk 用 wrk）")
    parser.add_argument("--drive", nargs=3, metavar=("PORT", "PATH", "TOKEN"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if not 1 <= args.duration <= 600 or not 1 <= args.concurrency <= 1000 or not 1 <= args.workers <= 32:
        parser.error("--duration 应在 1–600 秒，--concurrency 在 1–1000，--workers 在 1–32")
    if not args.path.startswith("/"):
        parser.error("--path 应以 / 开头，如 /api/cases/")
    if args.drive:
        return _client_process(args)
    wrk = shutil.which("wrk")
    if args.client == "wrk" and wrk is None:
        parser.error("找不到 wrk：请先安装（Debian/Ubuntu：apt-get install wrk；macOS：brew install wrk），"
                     "或用 --client python")
    use_wrk = wrk is not None and args.client != "python"

    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.db import DatabaseError, connection

    from config.preflight import service_problems

    for problem in service_problems():
        raise SystemExit(f"load_api：{problem}")

    from accounts.models import ApiToken
    from accounts.services import api_token_issue
    from cases.models import Case

    try:
        user = _pick_user(args.user)
    except DatabaseError as exc:
        first = str(exc).strip().splitlines()[:1] or [type(exc).__name__]
        raise SystemExit(f"load_api：数据库出错（是否已运行 migrate 和 generate_cases？）：{first[0]}") from None
    token_row, token = api_token_issue(user=user, name="load_api.py", second_factor=True)
    count = Case.objects.count()
    connection.close()

    port = _free_port()
    env = {**os.environ, "DEBUG": "0", "DEBUG_PAGES": "0",
           "SECRET_KEY": os.environ.get("SECRET_KEY") or secrets.token_urlsafe(40),
           "HISTORY_HMAC_KEY": os.environ.get("HISTORY_HMAC_KEY") or secrets.token_hex(32)}
    # As in the compose stack (the access log included): only the bind address differs. Its warnings go to
    # a file, not a pipe: a pipe nobody reads would fill up and stall the workers.
    server_log = tempfile.TemporaryFile()
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi:application", "--bind", f"{HOST}:{port}",
         "--workers", str(args.workers), "--access-logfile", "-", "--log-level", "warning",
         *shlex.split(args.gunicorn_args)],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=server_log, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        status, body = 0, b""
        while time.monotonic() < deadline:
            if server.poll() is not None:
                server_log.seek(0)
                err = server_log.read().decode(errors="replace")
                last = err.strip().splitlines()[-1:] or ["（无输出）"]
                raise SystemExit(f"load_api：gunicorn 启动失败：{last[0]}")
            try:
                status, body = _get(port, args.path, token)
                break
            except OSError:
                time.sleep(0.2)
        if status != 200:
            raise SystemExit(f"load_api：{args.path} 答复 {status}（应为 200）：{body[:200].decode(errors='replace')}")
        for _ in range(20 * args.workers):  # warm every worker: imports, URL resolver, connection
            _get(port, args.path, token)

        workers, backends = _children(server.pid), _database_backends()
        cpu_before = (_cpu_seconds(workers), _cpu_seconds(backends), resource.getrusage(resource.RUSAGE_CHILDREN))
        client = "wrk" if use_wrk else "python"
        print(f"cases: {count:,}  user: {user.username}  gunicorn --workers {args.workers} {args.gunicorn_args}  "
              f"client: {client}  {args.concurrency} connections  {args.duration:g} s  GET {args.path}")
        if use_wrk:
            result = drive_wrk(wrk, port, args.path, token, args.concurrency, args.duration, args.threads)  # type: ignore[arg-type]
        else:
            done = subprocess.run(
                [sys.executable, __file__, "--drive", str(port), args.path, token,
                 "--concurrency", str(args.concurrency), "--duration", str(args.duration)],
                capture_output=True, text=True, check=True)
            result = json.loads(done.stdout.strip().splitlines()[-1])
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (_cpu_seconds(workers) - cpu_before[0], _cpu_seconds(backends) - cpu_before[1],
               after.ru_utime + after.ru_stime - cpu_before[2].ru_utime - cpu_before[2].ru_stime)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
        ApiToken.objects.filter(pk=token_row.pk).delete()
        server_log.close()

    seconds = result["duration_us"] / 1e6
    errors = result["status_errors"] + result["socket_errors"]
    print(f"\n| requests | req/s | p50 ms | p95 ms | p99 ms | max ms | non-200 | socket errors |\n"
          f"|---|---|---|---|---|---|---|---|\n"
          f"| {result['requests']:,} | {result['requests'] / seconds:.1f} | {result['p50_us'] / 1000:.1f} | "
          f"{result['p95_us'] / 1000:.1f} | {result['p99_us'] / 1000:.1f} | {result['max_us'] / 1000:.1f} | "
          f"{result['status_errors']} | {result['socket_errors']} |")
    if workers and result["requests"]:
        per = [1000 * c / result["requests"] for c in cpu]
        # Other processes share the cores, so req/s varies with their load; CPU per request does not (much).
        print(f"\nCPU per request: gunicorn workers {per[0]:.1f} ms, database {per[1]:.1f} ms, "
              f"load generator {per[2]:.1f} ms; {os.cpu_count()} cores all free would serve about "
              f"{1000 * (os.cpu_count() or 1) / sum(per):.0f} requests/s "
              f"(load average {os.getloadavg()[0]:.1f} during this run)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
