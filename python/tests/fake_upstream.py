"""A local stand-in for the OpenAI and Anthropic APIs: their real wire bytes (JSON
bodies, server-sent events), a log of what it received, 127.0.0.1 only."""

import json
import select
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def _chat(body):
    if body.get("tools"):
        message = {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}}]}
        finish = "tool_calls"
    else:
        message = {"role": "assistant", "content": f"Answer to: {body['messages'][-1]['content']}"}
        finish = "stop"
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": body["model"], "choices": [{"index": 0, "message": message, "finish_reason": finish}], "usage": {"prompt_tokens": 5, "completion_tokens": 5, "total_tokens": 10}}


def _chat_stream(body):
    base = {"id": "chatcmpl-2", "object": "chat.completion.chunk", "created": 1, "model": body["model"]}
    for piece, finish in (("Streamed ", None), ("answer", None), ("", "stop")):
        delta = {"content": piece} if piece else {}
        yield f"data: {json.dumps({**base, 'choices': [{'index': 0, 'delta': delta, 'finish_reason': finish}]})}\n\n"
    yield "data: [DONE]\n\n"


def _message(body):
    return {"id": "msg_1", "type": "message", "role": "assistant", "model": body["model"], "content": [{"type": "text", "text": "Bonjour from Claude"}], "stop_reason": "end_turn", "stop_sequence": None, "usage": {"input_tokens": 5, "output_tokens": 4}}


def _message_stream(body):
    events = [
        ("message_start", {"type": "message_start", "message": {**_message(body), "content": [], "stop_reason": None}}),
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Bonjour "}}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "streamed"}}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None}, "usage": {"output_tokens": 4}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    for name, data in events:
        yield f"event: {name}\ndata: {json.dumps(data)}\n\n"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):  # quiet
        pass

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers.get("content-length", 0))) or b"{}")
        self.server.received.append((self.path, dict(self.headers), body))
        if self.path == "/v1/chat/completions" and body["model"] == "rate-limited":
            return self._json({"error": {"message": "Rate limit reached", "type": "requests"}}, 429)
        if self.path == "/v1/chat/completions" and body["model"] == "held-stream":
            return self._held(next(_chat_stream(body)))
        if self.path == "/v1/chat/completions":
            return self._stream(_chat_stream(body)) if body.get("stream") else self._json(_chat(body))
        if self.path == "/v1/embeddings":
            inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
            return self._json({"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [0.5, -0.25, float(i)]} for i in range(len(inputs))], "model": body["model"], "usage": {"prompt_tokens": 2, "total_tokens": 2}})
        if self.path == "/v1/messages":
            return self._stream(_message_stream(body)) if body.get("stream") else self._json(_message(body))
        self._json({"error": {"message": f"no route {self.path}"}}, 404)

    def _json(self, value, status=200):
        data = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _held(self, first):
        """Sends the first event, then holds the stream until the proxy hangs up (its client left)."""
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        data = first.encode()
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()
        select.select([self.connection], [], [], 30)
        self.close_connection = True

    def _stream(self, events):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for event in events:
            data = event.encode()
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")


class FakeUpstream:
    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.received = []
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def received(self):
        return self.server.received

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)
