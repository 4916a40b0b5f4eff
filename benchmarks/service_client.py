"""One call to a running `arena serve` over loopback HTTP, for the benchmark scripts."""
import json
import socket
import urllib.error
import urllib.request


def request(port, token, method, path, body=None, timeout=30):
    """(status, body bytes); status 0 when the service did not answer."""
    data = json.dumps(body).encode() if body is not None else None
    call = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=data, method=method,
                                  headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(call, timeout=timeout) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return 0, b""
