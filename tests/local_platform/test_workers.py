"""A function's execution environments (saas_local.workers): where its log lines go."""

from __future__ import annotations

import textwrap

from saas_local.workers import FunctionConfig, FunctionRuntime


def _runtime(tmp_path, log_file):
    code = tmp_path / "code"
    code.mkdir()
    (code / "loud.py").write_text(
        textwrap.dedent(
            """
            import sys

            def handler(event, context):
                print(f"handled {event['n']}", file=sys.stderr, flush=True)
                return event["n"]
            """
        )
    )
    config = FunctionConfig(
        name="loud",
        arn="arn:aws:lambda:us-east-1:123456789012:function:loud",
        handler="loud.handler",
        region="us-east-1",
        environment={},
        timeout=30,
        memory_size=128,
        code_dir=code,
        aws_endpoint_url="http://127.0.0.1:1",
        log_file=log_file,
    )
    return FunctionRuntime(config, max_concurrency=2)


def test_function_log_lines_go_to_the_log_file_of_every_environment(tmp_path, capfd):
    # Given a function whose log lines go to a file (in a folder that does not exist yet)
    log = tmp_path / "logs" / "functions.log"
    runtime = _runtime(tmp_path, log)
    try:
        # When it handles events
        assert [runtime.invoke({"n": n}) for n in (1, 2)] == [1, 2]
    finally:
        runtime.close()
    # Then their log lines are in the file, and not on this process's stderr
    assert log.read_text().splitlines() == ["handled 1", "handled 2"]
    assert "handled" not in capfd.readouterr().err


def test_without_a_log_file_function_log_lines_reach_this_process_stderr(tmp_path, capfd):
    runtime = _runtime(tmp_path, None)
    try:
        assert runtime.invoke({"n": 3}) == 3
    finally:
        runtime.close()
    assert "handled 3" in capfd.readouterr().err
