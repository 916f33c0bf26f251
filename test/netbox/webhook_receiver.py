"""Tiny webhook receiver for tests: appends every POST (headers + raw body) as one JSON line to OUT_FILE.

usage: python3 webhook_receiver.py OUT_FILE PORT_FILE   (listens on 127.0.0.1, a free port written to PORT_FILE)
"""
import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get('Content-Length', 0)))
        with open(sys.argv[1], 'a') as f:
            f.write(json.dumps({'path': self.path, 'headers': dict(self.headers), 'body': body.decode()}) + '\n')
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


server = HTTPServer(('127.0.0.1', 0), Handler)
with open(sys.argv[2], 'w') as f:
    f.write(str(server.server_address[1]))
server.serve_forever()
