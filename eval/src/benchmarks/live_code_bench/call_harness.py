# LiveCodeBench call-based test (swarmbench). Reads {"code", "fn_name", "input", "output"} as
# JSON from stdin, runs the solution (`Solution().fn` when the code defines `class Solution`,
# else the module's `fn`) on the JSON arguments (one per input line) and exits 0 iff the result
# equals the expected JSON output; a tuple result counts as a list.
import json
import sys
import types


def main():
    payload = json.loads(sys.stdin.read())
    code = payload["code"]
    module = types.ModuleType("tmp_sol")
    exec(compile(code, "<solution>", "exec"), module.__dict__)
    target = module.Solution() if "class Solution" in code else module
    method = getattr(target, payload["fn_name"])
    args = [json.loads(line) for line in payload["input"].split("\n")]
    expected = json.loads(payload["output"])
    result = method(*args)
    if isinstance(result, tuple):
        result = list(result)
    if result != expected:
        sys.stderr.write("wrong answer: got %.200r, expected %.200r\n" % (result, expected))
        sys.exit(1)


main()
