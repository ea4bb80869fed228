#!/usr/bin/env python3
"""Time to first request on a large dataset: swarmbench against EvalScope (docs/BENCHMARKS.md).

Writes a LongAlpaca-format JSON list of SIZE_MB (default 1024) whose first records are longer
than --max-prompt-length 1000 (so both tools read the whole file) followed by NUMBER short
ones, serves a minimal OpenAI-compatible endpoint on loopback that notes when the first
benchmark request arrives (the connection tests' "hello" does not count), and runs
`evalscope perf` (from EVALSCOPE, default the `evalscope` on PATH; EvalScope is never a test
dependency) and `coordinator perf` (release build, 4 local agents) with the same flags. Each
tool is stopped once its first request arrived. Appends the table to docs/BENCHMARKS.md.

    scripts/bench-evalscope-ttfr.py [SIZE_MB] [NUMBER]
"""
import http.server
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import threading
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIRST = {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        try:
            req = json.loads(body)
        except ValueError:
            req = {}
        text = json.dumps(req.get("messages", ""))
        if "hello" not in text and "first" not in FIRST:
            FIRST["first"] = time.monotonic()
        msg = {"id": "x", "object": "chat.completion", "model": "m",
               "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
               "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
        if req.get("stream"):
            chunk = {"id": "x", "object": "chat.completion.chunk", "model": "m",
                     "choices": [{"index": 0, "delta": {"content": "ok"}, "finish_reason": "stop"}],
                     "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}
            out = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
            ctype = "text/event-stream"
        else:
            out = json.dumps(msg).encode()
            ctype = "application/json"
        self.send_response(200)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


def write_longalpaca(path, size_mb, short):
    filler = ("lorem ipsum dolor sit amet " * 80)[:1980]
    target = size_mb * 1024 * 1024
    written, i = 0, 0
    with open(path, "w") as f:
        f.write("[\n")
        while written < target:
            line = json.dumps({"instruction": f"long record {i:09d} {filler}", "output": "x"}) + ",\n"
            f.write(line)
            written += len(line)
            i += 1
        for j in range(short):
            rec = {"instruction": f"short record {j:09d}: how would you load-test an endpoint for {j % 977} users?",
                   "output": "x"}
            f.write(json.dumps(rec) + (",\n" if j + 1 < short else "\n"))
        f.write("]\n")
    return os.path.getsize(path)


def first_request(cmd, cwd, limit=600):
    FIRST.clear()
    t0 = time.monotonic()
    p = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    while "first" not in FIRST and p.poll() is None and time.monotonic() - t0 < limit:
        time.sleep(0.01)
    got = FIRST.get("first")
    p.kill()
    _, err = p.communicate()
    if got is None:
        sys.exit(f"{cmd[0]} sent no request: {err.decode(errors='replace')[-2000:]}")
    return got - t0


def main():
    size_mb = int(sys.argv[1]) if len(sys.argv) > 1 else 1024
    number = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    evalscope = os.environ.get("EVALSCOPE", "evalscope")
    subprocess.run(["cargo", "build", "--release", "-p", "swarm-coordinator", "--bin", "coordinator"],
                   cwd=ROOT, check=True)
    version = subprocess.run([evalscope, "--version"], capture_output=True, text=True).stdout.strip()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{port}/v1/chat/completions"
    common = ["--url", url, "--model", "m", "--dataset", "longalpaca", "--max-prompt-length", "1000",
              "--number", str(number), "--parallel", "64", "--max-tokens", "8"]
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        size = write_longalpaca(work / "big.json", size_mb, number + 1000)
        ours = first_request([str(ROOT / "target/release/coordinator"), "perf", *common, "--dataset-path",
                              str(work / "big.json"), "--agents", "4", "--outputs-dir", str(work / "ours")], work)
        theirs = first_request([evalscope, "perf", *common, "--api", "openai", "--dataset-path",
                                str(work / "big.json"), "--outputs-dir", str(work / "evalscope")], work)
    lines = [
        f"{size / 2**20:.0f} MiB LongAlpaca-format file, --number {number}, against {version}. Both read the whole file (a length filter "
        "keeps only its last records); the clock runs from the command's start to the first benchmark request at a "
        "loopback server (connection tests excluded).",
        "",
        "| tool | time to first request |",
        "|---|---|",
        f"| swarmbench `coordinator perf --agents 4` | {ours:.2f} s |",
        f"| `evalscope perf` | {theirs:.2f} s |",
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    # refresh the section between the bench:ttfr markers (stamped with date, commit, machine)
    subprocess.run(
        [str(ROOT / "scripts" / "doc-section.sh"), str(ROOT / "docs" / "BENCHMARKS.md"), "bench:ttfr",
         f"scripts/bench-evalscope-ttfr.py {size_mb} {number}", "release"],
        input=text, text=True, check=True)


if __name__ == "__main__":
    main()
